"""Parallel scaling of the compiled engine on this machine: 1 worker vs every core, same runs.

Each configuration streams its runs to a temporary results folder exactly as
`python -m sim engine=fast n_runs=N workers=W plots=false` does (simulation, part files,
manifest, summary), after one warm-up call so numba's compile cache is filled.

    python benchmarks/scaling.py [--runs 1000000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def timed(runs: int, workers: int, folder: Path) -> float:
    from sim.config import compose_run_config
    from sim.results import run_and_save

    config = compose_run_config(["engine=fast", f"n_runs={runs}", "plots=false"])
    started = time.perf_counter()
    run_and_save(config, folder, workers=workers, progress=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000_000)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="sim-scaling-") as tmp:
        timed(2_000, 1, Path(tmp) / "warm")  # compile (or load the cache) once
        one = timed(args.runs, 1, Path(tmp) / "one")
        many = timed(args.runs, cores, Path(tmp) / "many")
    print(f"engine=fast, baseline, {args.runs:,} runs, end to end (simulate, write parts, summarise)")
    print(f"{'1 worker':<22}{one:8.1f} s {args.runs / one:12,.0f} runs/s")
    print(f"{f'{cores} workers (spawn)':<22}{many:8.1f} s {args.runs / many:12,.0f} runs/s")
    print(f"speed-up {one / many:.2f}x on {cores} cores")


if __name__ == "__main__":
    main()
