"""Parallel scaling of the compiled engine on this machine: 1 worker vs every core, same runs.

Each configuration streams its runs to a temporary results folder exactly as
`python -m sim engine=fast n_runs=N workers=W plots=false` does (simulation, part files,
manifest, summary), after one warm-up call so numba's compile cache is filled. With W workers
the runner spawns W - 1 processes and this process works beside them. The two configurations
alternate for ``--rounds`` rounds and the best time of each counts (load from elsewhere comes
and goes on a shared machine); every time is printed.

Before and after, a machine check: the compiled floor loop (random variates only: no memory
traffic, no files, no Python) timed in one process alone and then in one process per core at
once. Its ratio is the speed-up this machine allows for purely compiled work at that moment;
on a virtual machine whose cores share hardware with its neighbours it can be well below the
core count.

    python benchmarks/scaling.py [--runs 1000000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def timed(runs: int, workers: int, folder: Path) -> float:
    from sim.config import compose_run_config
    from sim.results import run_and_save

    config = compose_run_config(["engine=fast", f"n_runs={runs}", "plots=false"])
    started = time.perf_counter()
    run_and_save(config, folder, workers=workers, progress=False)
    return time.perf_counter() - started


def _floor_seconds(barrier, draws) -> float:
    """Seconds of the compiled floor loop over ``draws`` (in a worker process: after the barrier)."""
    from sim.config import compose_run_config
    from sim.engines import fast_engine

    config = compose_run_config(["engine=fast", "uncertainty=fixed"])
    fast_engine.variate_floor(config, 0, draws[:100])  # load the compiled code first
    if barrier is not None:
        barrier.wait()
    return fast_engine.variate_floor(config, 0, draws)


def machine_ceiling(cores: int) -> tuple[float, float, float]:
    """(seconds alone, slowest process's seconds side by side, cores x alone / side by side), best
    of three alternating rounds each."""
    import multiprocessing

    from sim.config import compose_run_config
    from sim.engines import fast_engine

    config = compose_run_config(["engine=fast", "uncertainty=fixed", "n_runs=20000"])
    draws = fast_engine.variate_counts(config, 0, 20_000)
    draws = draws[np.arange(100_000) % len(draws)]  # ~1-2 s of variates
    context = multiprocessing.get_context("spawn")
    alone, side = [], []
    with context.Manager() as manager, context.Pool(cores) as pool:
        barrier = manager.Barrier(cores)
        for _ in range(3):  # alternating, best of each
            alone.append(pool.apply(_floor_seconds, (None, draws)))
            side.append(max(pool.starmap(_floor_seconds, [(barrier, draws)] * cores)))
    return min(alone), min(side), cores * min(alone) / min(side)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    ceilings = [machine_ceiling(cores)]
    ones, manys = [], []
    with tempfile.TemporaryDirectory(prefix="sim-scaling-") as tmp:
        timed(2_000, 1, Path(tmp) / "warm")  # compile (or load the cache) once
        for round_ in range(args.rounds):
            ones.append(timed(args.runs, 1, Path(tmp) / f"one-{round_}"))
            manys.append(timed(args.runs, cores, Path(tmp) / f"many-{round_}"))
    ceilings.append(machine_ceiling(cores))
    one, many = min(ones), min(manys)
    seconds = lambda times: ", ".join(f"{t:.1f}" for t in times)  # noqa: E731
    print(f"engine=fast, baseline, {args.runs:,} runs, end to end (simulate, write parts, summarise); "
          f"best of {args.rounds} alternating rounds")
    print(f"{'1 worker':<34}{one:8.1f} s {args.runs / one:12,.0f} runs/s   (rounds: {seconds(ones)} s)")
    print(f"{f'{cores} workers ({cores - 1} spawned + this one)':<34}{many:8.1f} s {args.runs / many:12,.0f} runs/s"
          f"   (rounds: {seconds(manys)} s)")
    verdict = "met" if one / many >= 1.8 else "not met"  # on the unrounded ratio
    print(f"speed-up {one / many:.3f}x on {cores} cores (goal >= 1.8: {verdict}); round by round: "
          + ", ".join(f"{a / b:.2f}x" for a, b in zip(ones, manys)))
    print("machine check, compiled floor loop alone vs one per core at once (before, after): "
          + ", ".join(f"{alone:.2f} s vs {side:.2f} s = {ceiling:.2f}x" for alone, side, ceiling in ceilings))


if __name__ == "__main__":
    main()
