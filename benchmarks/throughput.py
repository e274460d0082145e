"""Runs per second of the SimPy reference engine on the default scenario, side by side.

Prints, measured in this one run on this machine:
  * the engine alone, one process (simulate_run in a loop),
  * the runner with one worker (chunks, parameter sampling, record tables),
  * the runner with every core (spawned worker processes),
and the ratios between them. This is the baseline a compiled engine must beat.

    python benchmarks/throughput.py [--runs 1200] [--scenario baseline]
"""

from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1200)
    parser.add_argument("--scenario", default="baseline")
    args = parser.parse_args()

    from sim.config import compose_run_config
    from sim.engines.simpy_engine import simulate_run
    from sim.runner import run_batch
    from sim.sampling import run_stream

    config = compose_run_config([f"scenario={args.scenario}", f"n_runs={args.runs}", "chunk_size=100",
                                 "uncertainty=fixed"])  # same work per run in all three
    scenario, values = config.scenario, config.scenario.point_values()

    for index in range(50):  # warm up caches and the allocator before timing
        simulate_run(scenario, values, run_stream(config.seed + 1, index), horizon_days=config.horizon_days)
    started = time.perf_counter()
    for index in range(args.runs):
        simulate_run(scenario, values, run_stream(config.seed, index), horizon_days=config.horizon_days)
    engine_rate = args.runs / (time.perf_counter() - started)

    one = run_batch(config, workers=1, progress=False)
    one_rate = args.runs / one.wall_seconds
    cores = os.cpu_count() or 1
    many = run_batch(config, workers=cores, progress=False)
    many_rate = args.runs / many.wall_seconds

    print(f"scenario {args.scenario}, {args.runs} runs of {config.horizon_days:g} days, {cores} cores")
    print(f"{'engine alone, 1 process':<34}{engine_rate:10.1f} runs/s")
    print(f"{'runner, 1 worker':<34}{one_rate:10.1f} runs/s   ratio to engine alone {one_rate / engine_rate:5.2f}")
    print(f"{f'runner, {cores} workers (spawn)':<34}{many_rate:10.1f} runs/s   ratio to 1 worker     {many_rate / one_rate:5.2f}")
    print(f"per run: {1000 / engine_rate:.1f} ms in the engine")


if __name__ == "__main__":
    main()
