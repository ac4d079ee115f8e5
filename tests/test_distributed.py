"""Data-parallel distillation: 2 processes (torchrun, gloo, CPU) train the student 1 process trains."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from optical_ir.distillation import DistillConfig, distill, read_distill_info
from optical_ir.distillation.distributed import World

from .conftest import interrupt_after_first_checkpoint, tiny_bert


def _weights(model_dir: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(model_dir / "model.safetensors"))


def test_world_shards_a_batch_by_rank() -> None:
    batch = list(range(7))
    parts = [World(r, 3).shard(batch) for r in range(3)]
    assert parts == [[0, 3, 6], [1, 4], [2, 5]]
    assert sorted(sum(parts, [])) == batch
    assert World().shard(batch) == batch and not World().distributed


@pytest.mark.parametrize("method", ["optical", "mse"])
def test_two_processes_train_the_student_one_process_trains(method: str, tmp_path: Path) -> None:
    student = tiny_bert(tmp_path / "tiny", encoder_config=False)
    # 10 pairs in global batches of 3: the ranks' shares are uneven (2 and 1), and in the last
    # batch (1 pair) rank 1 has none
    config = DistillConfig(languages=("sw",), method=method, teacher="all-MiniLM-L6-v2", student=str(student),
                           student_pooling="mean", max_pairs=10, epochs=2, batch_size=3, max_length=24, lr=1e-3,
                           sinkhorn_iterations=20)
    single = distill(config, tmp_path / "single")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
               "-m", "optical_ir.distill", "--language", "sw", "--method", method, "--teacher", "all-MiniLM-L6-v2",
               "--student", str(student), "--student-pooling", "mean", "--max-pairs", "10", "--epochs", "2",
               "--batch-size", "3", "--max-length", "24", "--lr", "1e-3", "--sinkhorn-iterations", "20",
               "--output", str(tmp_path / "double")]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    double = tmp_path / "double"
    info, info2 = read_distill_info(single), read_distill_info(double)
    assert info2["finished"] and info2["processes"] == 2 and info2["config"] == info["config"]
    for a, b in zip(info["history"], info2["history"], strict=True):
        assert b["loss"] == pytest.approx(a["loss"], rel=1e-4)
    w1, w2 = _weights(single), _weights(double)
    assert w1.keys() == w2.keys()
    moved = max(float(np.abs(w1[k] - _weights(student)[k]).max()) for k in w1 if k in _weights(student))
    assert moved > 1e-3  # training changed the student, so equality below is not trivial
    for k in w1:
        np.testing.assert_allclose(w2[k], w1[k], atol=2e-5, err_msg=k)
    if method == "mse":  # a finished student is not trained again, by any number of processes (either method)
        again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        assert again.returncode == 0 and read_distill_info(double)["history"] == info2["history"]


def test_two_processes_resume_a_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run interrupted after epoch 1 (one process) is finished by two, which both load it."""
    student = tiny_bert(tmp_path / "tiny", encoder_config=False)
    config = DistillConfig(languages=("sw",), method="mse", teacher="all-MiniLM-L6-v2", student=str(student),
                           student_pooling="mean", max_pairs=8, epochs=2, batch_size=4, max_length=24, lr=1e-3)
    straight = distill(config, tmp_path / "straight")
    interrupt_after_first_checkpoint(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        distill(config, tmp_path / "resumed")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
               "-m", "optical_ir.distill", "--language", "sw", "--method", "mse", "--teacher", "all-MiniLM-L6-v2",
               "--student", str(student), "--student-pooling", "mean", "--max-pairs", "8", "--epochs", "2",
               "--batch-size", "4", "--max-length", "24", "--lr", "1e-3", "--output", str(tmp_path / "resumed")]
    done = subprocess.run(command, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "resuming" in done.stdout + done.stderr
    assert [h["epoch"] for h in read_distill_info(tmp_path / "resumed")["history"]] == [1, 2]
    for k, w in _weights(straight).items():
        np.testing.assert_allclose(_weights(tmp_path / "resumed")[k], w, atol=2e-5, err_msg=k)


def test_a_single_process_run_is_unchanged_by_the_distributed_path(tmp_path: Path) -> None:
    """WORLD_SIZE unset: no process group, no weighting, the same student as before."""
    assert "WORLD_SIZE" not in os.environ
    student = tiny_bert(tmp_path / "tiny", encoder_config=False)
    config = DistillConfig(languages=("sw",), method="mse", teacher="all-MiniLM-L6-v2", student=str(student),
                           student_pooling="mean", max_pairs=6, epochs=1, batch_size=3, max_length=24)
    a, b = distill(config, tmp_path / "a"), distill(replace(config), tmp_path / "b")
    assert all(np.array_equal(x, _weights(b)[k]) for k, x in _weights(a).items())
