"""Parallel scaling of the compiled engine on this machine: 1 worker vs every core, same runs.

Each configuration streams its runs to a temporary results folder exactly as
`python -m sim engine=fast n_runs=N workers=W plots=false` does (simulation, part files,
manifest, summary), after one warm-up call so numba's compile cache is filled. With W workers
the runner spawns W - 1 processes and this process works beside them. The two configurations
alternate for ``--rounds`` rounds and the best time of each counts (load from elsewhere comes
and goes on a shared machine); every time is printed.

    python benchmarks/scaling.py [--runs 1000000] [--rounds 2]
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
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    ones, manys = [], []
    with tempfile.TemporaryDirectory(prefix="sim-scaling-") as tmp:
        timed(2_000, 1, Path(tmp) / "warm")  # compile (or load the cache) once
        for round_ in range(args.rounds):
            ones.append(timed(args.runs, 1, Path(tmp) / f"one-{round_}"))
            manys.append(timed(args.runs, cores, Path(tmp) / f"many-{round_}"))
    one, many = min(ones), min(manys)
    seconds = lambda times: ", ".join(f"{t:.1f}" for t in times)  # noqa: E731
    print(f"engine=fast, baseline, {args.runs:,} runs, end to end (simulate, write parts, summarise); "
          f"best of {args.rounds} alternating rounds")
    print(f"{'1 worker':<34}{one:8.1f} s {args.runs / one:12,.0f} runs/s   (rounds: {seconds(ones)} s)")
    print(f"{f'{cores} workers ({cores - 1} spawned + this one)':<34}{many:8.1f} s {args.runs / many:12,.0f} runs/s"
          f"   (rounds: {seconds(manys)} s)")
    print(f"speed-up {one / many:.2f}x on {cores} cores (goal >= 1.8)")


if __name__ == "__main__":
    main()
