"""Runs per second of the SimPy reference engine and the compiled engine, side by side.

Prints, measured in this one run on this machine, on the default scenario:
  * the SimPy engine alone, one process (simulate_run in a loop),
  * the runner with one worker, SimPy engine (chunks, parameter sampling, record tables),
  * the runner with every core, SimPy engine (spawned worker processes),
  * the compiled engine (``engine=fast``): its warm-up (compiling, or loading numba's cache),
    timed apart, then the runner with one worker,
  * the floor: a compiled loop that seeds each run's six streams and draws exactly the random
    variates the compiled engine drew for those runs (same counts per kind; Poisson draws at the
    run's mean of their means) and nothing else,
and the ratios between them: fast / SimPy (one worker each) and fast / floor.

    python benchmarks/throughput.py [--runs 1200] [--fast-runs 50000] [--fast-chunk-size 10000]
                                    [--rounds 3] [--scenario baseline] [--fresh-numba-cache]

``--fresh-numba-cache`` compiles into an empty temporary cache, so the warm-up is a full compile.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1200, help="runs for the SimPy measurements")
    parser.add_argument("--fast-runs", type=int, default=50_000, help="runs for the compiled engine")
    parser.add_argument("--fast-chunk-size", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the compiled-engine timings")
    parser.add_argument("--scenario", default="baseline")
    parser.add_argument("--fresh-numba-cache", action="store_true",
                        help="compile the compiled engine into an empty cache (times a full compile)")
    args = parser.parse_args()
    if args.fresh_numba_cache:  # before numba is first imported
        os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="numba-cache-")

    from sim.config import compose_run_config
    from sim.engines.simpy_engine import simulate_run
    from sim.runner import run_batch
    from sim.sampling import run_stream

    config = compose_run_config([f"scenario={args.scenario}", f"n_runs={args.runs}", "chunk_size=100",
                                 "uncertainty=fixed"])  # same work per run in every configuration
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

    # -- the compiled engine ------------------------------------------------------------------
    from sim.engines import fast_engine

    warm_up_seconds = fast_engine.warm_up()
    compiled = sum(fast_engine._simulate_runs.stats.cache_misses.values()) > 0
    fast_config = compose_run_config([f"scenario={args.scenario}", f"n_runs={args.fast_runs}",
                                      f"chunk_size={args.fast_chunk_size}", "uncertainty=fixed", "engine=fast"])
    small = compose_run_config([f"scenario={args.scenario}", "n_runs=200", "chunk_size=100", "uncertainty=fixed",
                                "engine=fast"])
    run_batch(small, workers=1, progress=False)  # warm-up call through the runner
    draws = fast_engine.variate_counts(fast_config, 0, args.fast_runs)
    fast_engine.variate_floor(fast_config, 0, draws[:100])  # warm

    def engine_alone() -> float:  # the same chunks, tables built, no runner
        started = time.perf_counter()
        for start in range(0, args.fast_runs, args.fast_chunk_size):
            fast_engine.simulate_chunk(fast_config, start, min(start + args.fast_chunk_size, args.fast_runs), {})
        return time.perf_counter() - started

    # interleaved rounds, best of each: the three rates see the same machine (other load comes and goes)
    fast_rate = alone_rate = floor_rate = 0.0
    for _ in range(args.rounds):
        fast_rate = max(fast_rate, args.fast_runs / run_batch(fast_config, workers=1, progress=False).wall_seconds)
        alone_rate = max(alone_rate, args.fast_runs / engine_alone())
        floor_rate = max(floor_rate, args.fast_runs / fast_engine.variate_floor(fast_config, 0, draws))
    per_run = draws.mean(axis=0)
    stats = dict(zip(fast_engine.DRAW_STATS, per_run))
    mean_of = lambda kind: stats[f"{kind}_mean_sum"] / max(stats[kind], 1e-9)  # noqa: E731

    print(f"scenario {args.scenario}, {config.horizon_days:g}-day runs, parameters at point values, {cores} cores")
    print(f"SimPy engine ({args.runs} runs)")
    print(f"  {'engine alone, 1 process':<40}{engine_rate:12.1f} runs/s")
    print(f"  {'runner, 1 worker':<40}{one_rate:12.1f} runs/s   ratio to engine alone {one_rate / engine_rate:6.2f}")
    print(f"  {f'runner, {cores} workers (spawn)':<40}{many_rate:12.1f} runs/s   ratio to 1 worker     "
          f"{many_rate / one_rate:6.2f}")
    print(f"  per run: {1000 / engine_rate:.1f} ms in the engine")
    print(f"compiled engine, engine=fast ({args.fast_runs} runs, chunks of {args.fast_chunk_size}; "
          f"best of {args.rounds} interleaved rounds)")
    how = "compile" if compiled else "numba cache load"
    print(f"  {'warm-up (' + how + ')':<40}{warm_up_seconds:12.1f} s")
    print(f"  {'runner, 1 worker':<40}{fast_rate:12.1f} runs/s   ratio to SimPy runner, 1 worker "
          f"{fast_rate / one_rate:7.1f}  (goal >= 100: {_verdict(fast_rate / one_rate, 100)})")
    print(f"  {'engine alone (simulate_chunk, tables)':<40}{alone_rate:12.1f} runs/s   ratio to runner, 1 worker"
          f"{alone_rate / fast_rate:12.2f}")
    print(f"  {'floor: its random variates alone':<40}{floor_rate:12.1f} runs/s   fast (runner) / floor "
          f"{fast_rate / floor_rate:11.3f}  (goal >= 0.5: {_verdict(fast_rate / floor_rate, 0.5)})")
    print(f"  {'':<40}{'':12s}         fast (engine alone) / floor {alone_rate / floor_rate:5.3f}")
    print(f"  per run: {1e6 / fast_rate:.1f} us through the runner ({1e6 / fast_rate - 1e6 / alone_rate:.1f} us of "
          f"it in the runner), {1e6 / floor_rate:.1f} us of variates: "
          f"{stats['uniform']:.0f} uniform, {stats['exponential']:.0f} exponential, "
          f"{stats['poisson_offspring']:.0f} offspring counts, "
          f"{stats['poisson_small']:.1f} Poisson by inversion (mean {mean_of('poisson_small'):.1f}), "
          f"{stats['poisson_large']:.1f} by PTRS (mean {mean_of('poisson_large'):.0f}), "
          f"{stats['power_law']:.1f} power-law (mass-casualty deaths)")


def _verdict(ratio: float, goal: float) -> str:
    """'met' or 'not met', judged on the unrounded ratio (0.496 is not 0.5)."""
    return "met" if ratio >= goal else "not met"


if __name__ == "__main__":
    main()
