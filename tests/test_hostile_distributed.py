"""Issue 21, a distributed fault: one rank of a 2-process torchrun job (gloo on CPU) is killed
with SIGKILL mid-training. The survivor must end within a bounded time with a non-zero code and
one ``gankit: error:`` line (no traceback), and the run must resume to completion.

What is gankit's and what is torchrun's: the workers' stdout/stderr go to per-rank files
(``torchrun --redirects 3 --log-dir``), and only those are held to the one-line rule. torchrun's
own stderr (its agent's "Sending process ... closing signal SIGTERM" and the ``ChildFailedError``
summary with its traceback) is torchrun's report of a failed worker, not gankit's, and is allowed.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch.distributed as dist

from hostile_kit import HERE, child_env, free_port, one_error_line, run_cli, tiny_mnist, tiny_preset
from gankit.training.checkpoint import Checkpoints

pytestmark = [
    pytest.mark.torchrun,
    pytest.mark.skipif(not (dist.is_available() and dist.is_gloo_available()), reason="needs torch.distributed with gloo"),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the ranks' processes through /proc"),
]

BOUND_S = 30  # the survivor and torchrun end within this many seconds of the kill


def rank_pid(agent: int, rank: int) -> int | None:
    """The pid of torchrun's worker with ``RANK=rank`` (a child of the agent process)."""
    try:
        children = Path(f"/proc/{agent}/task/{agent}/children").read_text().split()
    except OSError:
        return None
    for pid in children:
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"RANK={rank}".encode() in env:
            return int(pid)
    return None


def worker_stderr(log_dir: Path, local_rank: int) -> str:
    files = sorted(log_dir.rglob(f"attempt_*/{local_rank}/stderr.log"))
    assert files, f"no stderr log of rank {local_rank} under {log_dir}"
    return files[-1].read_text()


def test_a_killed_rank_ends_the_other_with_one_line_and_the_run_resumes(tmp_path, cache_dir):
    preset = tiny_preset(tmp_path, tiny_mnist(tmp_path / "mnist"))
    run, logs = tmp_path / "run", tmp_path / "torchrun-logs"
    # a long budget (the kill ends it), a checkpoint every 5 steps; ignore torch's own FutureWarnings
    env = child_env(cache_dir, PYTHONWARNINGS="ignore::FutureWarning", GANKIT_DIST_TIMEOUT="20")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
           f"--master_port={free_port()}", "--redirects=3", f"--log-dir={logs}",
           # torchrun looks at its workers every 3 s: the survivor reports the lost rank itself
           # before torchrun's SIGTERM ends it
           "--monitor-interval=3",
           str(HERE / "tinynet.py"), "train", str(preset), "train.steps=100000", "train.seconds=90",
           "train.ckpt_every=5", "train.log_every=5", "--out", str(run), "--quiet"]
    job = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           start_new_session=True)
    try:
        ckpts = Checkpoints(run / "checkpoints")
        deadline = time.monotonic() + 60
        while not ckpts.paths() and job.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert ckpts.paths(), "no checkpoint within 60 s"
        time.sleep(0.5)  # a few more steps (and maybe a checkpoint being written)
        victim = rank_pid(job.pid, 1)
        assert victim is not None, "rank 1 not found"
        os.kill(victim, signal.SIGKILL)
        killed = time.monotonic()
        out, err = job.communicate(timeout=BOUND_S)
        took = time.monotonic() - killed
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
            job.wait()
    assert job.returncode != 0 and took < BOUND_S

    # rank 0, the survivor: one line naming what happened, its checkpoint and the way on
    line = one_error_line(worker_stderr(logs, 0))
    assert "process 0 of 2 lost contact with the other processes" in line, line
    assert f"continue with gankit train --resume {run}" in line
    kept = int(ckpts.paths()[-1].stem.split("_")[-1])
    assert f"keeps its checkpoint of step {kept}" in line
    # torchrun's own report names the killed rank (its traceback is torchrun's, allowed)
    assert "SIGKILL" in err or "exitcode: -9" in err, err[-2000:]

    # nothing half-written: no temporary file anywhere; the newest checkpoint loads
    assert not [p for p in run.rglob("*") if p.name.endswith(".tmp")]
    assert Checkpoints(run / "checkpoints").load_latest()["step"] == kept

    # the run lock died with the processes: a single process resumes and finishes the run
    end = kept + 5
    assert run_cli(["train", "--resume", run, f"train.steps={end}", "--quiet"]) == 0
    assert Checkpoints(run / "checkpoints").load_latest()["step"] == end
    steps = [int(r.split(",")[0]) for r in (run / "losses.csv").read_text().splitlines()[1:]]
    assert steps == list(range(5, end + 1, 5)), steps  # every logged step once, none lost or doubled
