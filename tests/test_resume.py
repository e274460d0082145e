"""A run killed at any moment is finished by `python -m sim resume=<dir>` with rows and summary
identical to an uninterrupted run; a corrupt part is refused with a clear message."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.results import load_results

ARGS = ["experiment=smoke", "n_runs=480", "chunk_size=20", "horizon_days=365", "workers=1", "plots=false",
        "seed=31"]


def _default_sigint() -> None:
    # a job started in the background without job control inherits SIGINT ignored, and Python
    # then installs no KeyboardInterrupt handler: give the child the default disposition back
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(folder: Path) -> subprocess.Popen:
    env = {**os.environ, "CI": "true"}
    return subprocess.Popen([sys.executable, "-m", "sim", *ARGS, f"hydra.run.dir={folder}"], env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=_default_sigint)


def wait_for_chunks(folder: Path, count: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if len(json.loads((folder / "manifest.json").read_text())["chunks"]) >= count:
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"no {count} chunks recorded in {folder} within {timeout} s")


def resume(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", f"resume={folder}"], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clean") / "run"
    process = start(folder)
    assert process.wait(timeout=300) == 0, process.stderr.read().decode()
    return load_results(folder)


def assert_same_results(folder: Path, reference) -> None:
    summary, table, manifest = load_results(folder)
    ref_summary, ref_table, _ = reference
    assert manifest["resumed"] is True
    assert summary == ref_summary
    assert table.num_rows == ref_table.num_rows == 480
    for name in table.column_names:
        left, right = table.column(name).to_pylist(), ref_table.column(name).to_pylist()
        assert json.dumps(left) == json.dumps(right), name  # NaN-safe comparison


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_killed_run_resumes_to_identical_rows_and_summary(tmp_path, uninterrupted, how):
    folder = tmp_path / "killed"
    process = start(folder)
    wait_for_chunks(folder, 3)
    process.send_signal(how)
    process.wait(timeout=60)
    assert json.loads((folder / "manifest.json").read_text())["status"] == "running"
    finished = resume(folder)
    assert finished.returncode == 0, finished.stderr
    assert_same_results(folder, uninterrupted)


@pytest.mark.slow
def test_resume_refuses_a_corrupt_part(tmp_path):
    folder = tmp_path / "killed"
    process = start(folder)
    wait_for_chunks(folder, 2)
    process.kill()
    process.wait(timeout=60)
    manifest = json.loads((folder / "manifest.json").read_text())
    part = folder / next(iter(manifest["chunks"].values()))["file"]
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0xFF
    part.write_bytes(bytes(data))
    finished = resume(folder)
    assert finished.returncode == 2
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1 and part.name in lines[0] and "corrupt or foreign" in lines[0]


def test_resume_of_a_folder_that_is_not_a_run_is_one_line_exit_2(tmp_path):
    finished = resume(tmp_path)
    assert finished.returncode == 2
    assert finished.stderr.strip().startswith("error:") and len(finished.stderr.strip().splitlines()) == 1
