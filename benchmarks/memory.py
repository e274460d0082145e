"""Peak memory of a large run, summed over every process it starts.

Runs `python -m sim engine=fast n_runs=<N>` (plus any extra overrides) as a subprocess, samples the
resident set size of the whole process tree (the main process, its worker processes and their
children) every 0.1 s, and prints the peak of the sum, the runs done, and the wall time.

    python benchmarks/memory.py                    # 10,000,000 runs
    python benchmarks/memory.py --runs 1000000 workers=2
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil


def tree_rss(process: psutil.Process) -> dict[int, int]:
    """Resident set size of each process of the tree (pid -> bytes)."""
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.Error:
        return {}
    sizes = {}
    for member in members:
        try:
            sizes[member.pid] = member.memory_info().rss
        except psutil.Error:
            pass
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000_000)
    parser.add_argument("overrides", nargs="*", help="extra overrides, e.g. workers=2")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="sim-memory-")) / "run"
    command = [sys.executable, "-m", "sim", "engine=fast", f"n_runs={args.runs}", f"hydra.run.dir={folder}",
               *args.overrides]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    watched = psutil.Process(process.pid)
    peak, peak_each = 0, {}
    while process.poll() is None:
        sizes = tree_rss(watched)
        peak = max(peak, sum(sizes.values()))
        for pid, rss in sizes.items():
            peak_each[pid] = max(peak_each.get(pid, 0), rss)
        time.sleep(0.1)
    wall = time.perf_counter() - started
    output = process.stdout.read().decode(errors="replace")
    if process.returncode != 0:
        print(output[-3000:])
        raise SystemExit(f"run failed with exit code {process.returncode}")
    summary = json.loads((folder / "summary.json").read_text())
    print(" ".join(command))
    print(f"runs done            {summary['n_runs']:,}")
    print(f"wall time            {wall:.1f} s ({summary['n_runs'] / wall:,.0f} runs/s end to end)")
    print(f"peak RSS, all procs  {peak / 2**20:,.0f} MiB (limit 1,024 MiB: {'OK' if peak <= 2**30 else 'OVER'})")
    each = ", ".join(f"{'main' if pid == process.pid else 'worker'} {rss / 2**20:,.0f}"
                     for pid, rss in sorted(peak_each.items(), key=lambda kv: kv[0] != process.pid))
    print(f"peak RSS per process {each} MiB (peaks need not coincide)")
    print(f"results              {folder}")


if __name__ == "__main__":
    main()
