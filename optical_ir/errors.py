"""The errors a user can cause and fix, under one base class.

Every error that bad input, a missing file, a wrong setting or the machine (no GPU, no Java)
can cause derives from :class:`OpticalIRError`. The command-line wrapper
(:func:`optical_ir.cli.run`) prints such an error as one line and exits with status 2; any
other exception is a bug in the toolkit and keeps its traceback.

Each class also derives from the built-in exception it refines (``ValueError``,
``FileNotFoundError`` …), so that code catching those keeps working.
"""

from __future__ import annotations

import os


class OpticalIRError(Exception):
    """Base of every user-facing error: the message says what was wrong and how to fix it."""


class ConfigError(OpticalIRError, ValueError):
    """A configuration (YAML, JSON, flags) with an unknown key, a bad value or an unknown placeholder."""


class DataFormatError(OpticalIRError, ValueError):
    """A malformed input file: the message names the file and, where there is one, the line."""

    def __init__(self, path: str | os.PathLike[str], why: str, lineno: int | None = None,
                 line: str | None = None) -> None:
        where = f"{path}, line {lineno}" if lineno is not None else str(path)
        super().__init__(f"{where}: {why}" + (f": {line.rstrip()!r}" if line is not None else ""))
        self.path, self.lineno = str(path), lineno


class MissingInputError(OpticalIRError, FileNotFoundError):
    """A file or directory the command needs does not exist."""


class OutputError(OpticalIRError, OSError):
    """An output cannot be written, or would replace something that is not the toolkit's."""


class MismatchError(OpticalIRError, ValueError):
    """Two inputs that must belong together do not (an index and an encoder, a run and qrels)."""


class DeviceError(OpticalIRError, RuntimeError):
    """A ``--device`` that is misspelt or not present on this machine."""


class StepError(OpticalIRError, RuntimeError):
    """A step of a reproduction condition failed (the message names the condition and the command)."""


DEVICE_FORMS = "cpu, cuda, cuda:N or mps"
DEVICE_PATTERN = r"cpu|cuda(:\d+)?|mps"
"""What a ``--device`` may be (:data:`DEVICE_FORMS`)."""


def check_device(device: str) -> str:
    """``device`` if it is a device torch knows and this machine has; else :class:`DeviceError`."""
    import re

    if not re.fullmatch(DEVICE_PATTERN, device or ""):
        raise DeviceError(f"--device {device!r} is not a device; give {DEVICE_FORMS}")
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise DeviceError(f"--device {device}: torch sees no CUDA device on this machine; use --device cpu")
        index = int(device.split(":")[1]) if ":" in device else 0
        if index >= torch.cuda.device_count():
            raise DeviceError(f"--device {device}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    return device


class UnknownNameError(OpticalIRError, KeyError):
    """A name (a dataset id, an embedded model, a registered loss) that nothing registers."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""
