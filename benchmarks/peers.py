"""Runs per second of the same SimPy model under a peer tool, a hand-rolled pool and our runner.

Measured side by side in this one run on this machine, on the default (baseline) scenario with a
365-day horizon, 2 worker processes each, started with the ``spawn`` method (as our runner's
are) unless said otherwise, in ``--repeats`` interleaved rounds (the table shows medians):
  * EMA Workbench: a plain Python model function wrapping ``simulate_run``, evaluated by its
    ``MultiprocessingEvaluator`` (one task per experiment, as EMA dispatches them; ``spawn``),
  * a plain ``multiprocessing.Pool`` with ``imap_unordered`` over chunks of run indices, each
    worker calling ``simulate_run`` in a loop — the simplest thing a user would hand-roll,
  * our runner, ``engine=simpy`` (chunks, parameter sampling, full record tables, statistics),
  * EMA again with the ``fork`` start method — what a Linux user gets by default (no re-imports in
    the workers); an extra row, not like for like with the spawned ones (``--no-ema-fork`` skips it),
  * our runner, ``engine=fast`` when ``sim/engines/fast_engine.py`` imports (more runs; a warm-up
    batch in this process first, timed apart: it loads the project's Numba cache, or compiles when
    the cache is stale — minutes; ``--fresh-numba-cache`` forces a full compile into a temp dir),
plus the engine alone in one process as the reference, and the ratio of each to the plain pool.

Parameters (``--uncertainty``):
  * ``fixed`` (default): every parameter at its point value; the only per-run input is the run
    index, which keys the run's random stream. All configurations do identical work and the
    script checks that EMA's, the pool's and the runner's outcomes agree run by run.
  * ``sampled``: EMA samples the scenario's uncertain parameters itself (its LHS over
    ``RealParameter`` ranges; non-uniform ones are sampled as a uniform number and mapped through
    the parameter's distribution), the pool and the runner use ``sim.sampling`` (Monte Carlo).
    Same distributions, different draws: equal work on average, not run by run.

Wall times include starting and stopping the worker processes (each spawned worker imports
numpy, simpy and ``sim``; EMA's also import pandas, scipy and the workbench). A tiny batch per
pooled configuration and round measures that fixed cost, so the steady rate (runs/s once started)
is printed too. The machine may be shared: each row shows how much CPU other processes used
meanwhile ("others CPU"); numbers with much of it are not worth recording.

    python benchmarks/peers.py [--runs 600] [--fast-runs 200000] [--uncertainty fixed|sampled]
                               [--repeats 3] [--chunk-size 50] [--fast-chunk-size 25000]
                               [--no-startup] [--no-ema-fork] [--fresh-numba-cache]
"""

from __future__ import annotations

import argparse
import importlib
import math
import multiprocessing
import os
import sys
import tempfile
import time
import warnings

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:  # spawned workers unpickle `peers.<function>`; they inherit sys.path
    sys.path.insert(0, _HERE)

OUTCOMES = ("max_rung", "fatalities_total", "attacks")
WORKERS = 2
_CONFIGS: dict[tuple, object] = {}


# --------------------------------------------------------------------------------------------
# Model functions: top level, importable as `peers.<name>` by spawned workers.
# --------------------------------------------------------------------------------------------

def run_config(scenario: str, horizon_days: float, seed: int, extra: tuple[str, ...] = ()):
    """The composed RunConfig, once per process (Hydra composition costs ~0.3 s)."""
    key = (scenario, horizon_days, seed, extra)
    if key not in _CONFIGS:
        from sim.config import compose_run_config

        _CONFIGS[key] = compose_run_config([f"scenario={scenario}", f"horizon_days={horizon_days}",
                                            f"seed={seed}", *extra])
    return _CONFIGS[key]


def _outcomes(row: dict) -> dict[str, float]:
    return {name: row[name] for name in OUTCOMES}


def ema_model(run_index, scenario="baseline", horizon_days=365.0, seed=20251012, **sampled):
    """EMA model function: one run; ``sampled`` holds the uncertain parameters EMA drew.

    A parameter named ``u__<name>`` is a uniform number mapped through ``<name>``'s distribution.
    """
    from sim.engines.simpy_engine import simulate_run
    from sim.sampling import run_stream

    config = run_config(scenario, horizon_days, seed)
    values = config.scenario.point_values()
    for name, value in sampled.items():
        if name.startswith("u__"):
            name = name[3:]
            value = float(config.scenario.parameter(name).draw(float(value)))
        values[name] = float(value)
    row = simulate_run(config.scenario, values, run_stream(seed, int(run_index)), horizon_days=horizon_days,
                       run_index=int(run_index)).row
    return _outcomes(row)


def pool_chunk(task):
    """Plain pool: simulate runs ``start .. stop-1`` in a loop; return (run_index, outcomes) pairs."""
    scenario, horizon_days, seed, uncertainty, n_runs, start, stop = task
    from sim.engines.simpy_engine import simulate_run
    from sim.sampling import run_stream, sample_parameters

    config = run_config(scenario, horizon_days, seed)
    point = config.scenario.point_values()
    sampled = sample_parameters(config.scenario, seed=seed, n_runs=n_runs, start=start, stop=stop,
                                uncertainty=uncertainty)
    out = []
    for offset, run_index in enumerate(range(start, stop)):
        values = dict(point)
        values.update({name: float(column[offset]) for name, column in sampled.items()})
        row = simulate_run(config.scenario, values, run_stream(seed, run_index), horizon_days=horizon_days,
                           run_index=run_index).row
        out.append((run_index, _outcomes(row)))
    return out


# --------------------------------------------------------------------------------------------
# The configurations
# --------------------------------------------------------------------------------------------

def time_engine_alone(args, n_runs: int) -> float:
    from sim.engines.simpy_engine import simulate_run
    from sim.sampling import run_stream

    config = run_config(args.scenario, args.horizon, args.seed)
    values = config.scenario.point_values()
    for index in range(20):  # warm up
        simulate_run(config.scenario, values, run_stream(args.seed + 1, index), horizon_days=args.horizon)
    started = time.perf_counter()
    for index in range(n_runs):
        simulate_run(config.scenario, values, run_stream(args.seed, index), horizon_days=args.horizon)
    return time.perf_counter() - started


def run_plain_pool(args, n_runs: int, chunk_size: int | None = None):
    chunk_size = chunk_size or args.chunk_size
    tasks = [(args.scenario, args.horizon, args.seed, args.uncertainty, n_runs, start,
              min(start + chunk_size, n_runs)) for start in range(0, n_runs, chunk_size)]
    started = time.perf_counter()
    results = {}
    with multiprocessing.get_context("spawn").Pool(WORKERS) as pool:
        for pairs in pool.imap_unordered(pool_chunk, tasks):
            results.update(pairs)
    return time.perf_counter() - started, results


def ema_uncertainties(args, n_runs: int):
    from ema_workbench import IntegerParameter, RealParameter

    uncertainties = [IntegerParameter("run_index", 0, max(n_runs - 1, 1))]
    if args.uncertainty == "sampled":
        scenario = run_config(args.scenario, args.horizon, args.seed).scenario
        for spec in scenario.parameters:
            if not spec.uncertain:
                continue
            if spec.dist == "uniform":
                uncertainties.append(RealParameter(spec.name, spec.low, spec.high))
            else:  # loguniform, triangular: EMA draws u, the model maps it through the distribution
                uncertainties.append(RealParameter(f"u__{spec.name}", 0.0, 1.0))
    return uncertainties


def run_ema(args, n_runs: int, chunk_size: int | None = None):  # EMA: one task per experiment
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench import Constant, Model, MultiprocessingEvaluator, ScalarOutcome, Scenario

    import peers

    model = Model("escalation", function=peers.ema_model)
    model.uncertainties = ema_uncertainties(args, n_runs)
    model.constants = [Constant("scenario", args.scenario), Constant("horizon_days", args.horizon),
                       Constant("seed", args.seed)]
    model.outcomes = [ScalarOutcome(name) for name in OUTCOMES]
    if args.uncertainty == "fixed":  # explicit points: run i is run i everywhere
        scenarios = [Scenario(f"run{i}", run_index=i) for i in range(n_runs)]
    else:  # EMA samples (LHS); run_index is sampled too, so streams may repeat — equal work
        scenarios = n_runs
    started = time.perf_counter()
    with MultiprocessingEvaluator(model, n_processes=WORKERS) as evaluator:
        experiments, outcomes = evaluator.perform_experiments(scenarios=scenarios, log_progress=True)
    seconds = time.perf_counter() - started
    keys = experiments["run_index"].to_numpy() if args.uncertainty == "fixed" else range(len(experiments))
    results = {int(i): {name: outcomes[name][k] for name in OUTCOMES} for k, i in enumerate(keys)}
    return seconds, results


def run_ema_fork(args, n_runs: int, chunk_size: int | None = None):
    """EMA as a Linux user gets it by default: its Pool forks this process (no re-imports)."""
    multiprocessing.set_start_method("fork", force=True)
    try:
        return run_ema(args, n_runs)
    finally:
        multiprocessing.set_start_method("spawn", force=True)


def runner_overrides(args, n_runs: int, engine: str, chunk_size: int) -> list[str]:
    return [f"scenario={args.scenario}", f"horizon_days={args.horizon}", f"seed={args.seed}",
            f"n_runs={n_runs}", f"chunk_size={chunk_size}", f"uncertainty={args.uncertainty}",
            f"engine={engine}", "executor=local"]


def run_runner(args, n_runs: int, engine: str = "simpy", chunk_size: int | None = None, workers: int = WORKERS):
    from sim.config import compose_run_config
    from sim.runner import run_batch

    config = compose_run_config(runner_overrides(args, n_runs, engine, chunk_size or args.chunk_size))
    started = time.perf_counter()
    batch = run_batch(config, workers=workers, progress=False)
    seconds = time.perf_counter() - started
    if batch.table.num_rows != n_runs:
        raise RuntimeError(f"runner returned {batch.table.num_rows} rows for {n_runs} runs")
    columns = {name: batch.table.column(name).to_pylist() for name in ("run_index", *OUTCOMES)}
    results = {i: {name: columns[name][k] for name in OUTCOMES} for k, i in enumerate(columns["run_index"])}
    return seconds, results


def cpu_snapshot() -> tuple[float, float] | None:
    """(CPU-seconds busy on the whole machine, CPU-seconds of this process and its reaped children).

    Their difference over a measurement is what *other* processes used meanwhile — this machine
    is shared, so each row reports it as a noise indicator. None where /proc/stat is missing.
    """
    import resource

    try:
        with open("/proc/stat") as handle:
            fields = [int(x) for x in handle.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    busy = (sum(fields) - fields[3] - fields[4] - fields[7]) / os.sysconf("SC_CLK_TCK")  # not idle/iowait/steal
    own = sum(getattr(resource.getrusage(who), attr) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
              for attr in ("ru_utime", "ru_stime"))
    return busy, own


def others_share(before, after, seconds: float) -> float | None:
    """Share of the machine's cores that other processes kept busy between two snapshots."""
    if before is None or after is None or seconds <= 0:
        return None
    foreign = (after[0] - before[0]) - (after[1] - before[1])
    return min(max(foreign, 0.0) / (seconds * (os.cpu_count() or 1)), 1.0)


def fast_engine_available() -> str | None:
    """None when sim.engines.fast_engine imports and has simulate_chunk, else the reason."""
    try:
        module = importlib.import_module("sim.engines.fast_engine")
    except Exception as error:  # missing, or mid-edit by someone else
        return f"{type(error).__name__}: {error}"
    if not hasattr(module, "simulate_chunk"):
        return "sim.engines.fast_engine has no simulate_chunk"
    return None


def agree(a: dict, b: dict) -> bool:
    if a.keys() != b.keys():
        return False
    for key in a:
        for name in OUTCOMES:
            x, y = float(a[key][name]), float(b[key][name])
            if not (x == y or (math.isnan(x) and math.isnan(y))):
                return False
    return True


def mean_outcomes(results: dict) -> str:
    n = len(results)
    return ", ".join(f"{name} {sum(float(r[name]) for r in results.values()) / n:.4g}" for name in OUTCOMES)


# --------------------------------------------------------------------------------------------

def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=600, help="SimPy runs per configuration")
    parser.add_argument("--fast-runs", type=int, default=200_000, help="runs for engine=fast")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds; the table shows medians")
    parser.add_argument("--chunk-size", type=int, default=50, help="runs per chunk (plain pool and runner)")
    parser.add_argument("--fast-chunk-size", type=int, default=25_000, help="runs per chunk for engine=fast")
    parser.add_argument("--uncertainty", choices=("fixed", "sampled"), default="fixed")
    parser.add_argument("--scenario", default="baseline")
    parser.add_argument("--horizon", type=float, default=365.0)
    parser.add_argument("--seed", type=int, default=20251012)
    parser.add_argument("--engine-runs", type=int, default=200, help="runs for the engine-alone reference")
    parser.add_argument("--no-startup", action="store_true", help="skip the tiny batches that measure startup")
    parser.add_argument("--no-ema-fork", action="store_true",
                        help="skip the extra row of EMA with the fork start method (Linux's default)")
    parser.add_argument("--fresh-numba-cache", action="store_true",
                        help="compile the fast engine from scratch (default: the project's Numba cache)")
    args = parser.parse_args()

    numba_cache = None
    if args.fresh_numba_cache:  # the warm-up is then a real compile (minutes); workers inherit the dir
        numba_cache = tempfile.TemporaryDirectory(prefix="peers-numba-")
        os.environ["NUMBA_CACHE_DIR"] = numba_cache.name
    multiprocessing.set_start_method("spawn", force=True)  # EMA uses the default context: spawn, as ours
    os.environ["PYTHONWARNINGS"] = "ignore:ipyparallel not installed:UserWarning"  # EMA workers' import

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import ema_workbench
    import numpy
    import simpy

    n = args.runs
    small = 2 * WORKERS  # tiny batch: one or two runs per worker — the fixed cost of a pool
    print(f"scenario {args.scenario}, {args.horizon:g}-day horizon, uncertainty={args.uncertainty}, "
          f"{WORKERS} workers (spawn), {os.cpu_count()} cores; Python {sys.version.split()[0]}, "
          f"ema-workbench {ema_workbench.__version__}, simpy {simpy.__version__}, numpy {numpy.__version__}",
          flush=True)

    engine_name = "engine alone, 1 process (reference)"
    ema_name, pool_name, runner_name = ("EMA Workbench, MultiprocessingEvaluator(2)",
                                        "plain Pool(2).imap_unordered, chunks", "our runner, engine=simpy, workers=2")
    pooled = [(ema_name, run_ema), (pool_name, run_plain_pool), (runner_name, run_runner)]
    if not args.no_ema_fork:
        pooled.append(("EMA Workbench, fork (Linux default)", run_ema_fork))
    fast_name = "our runner, engine=fast, workers=2"
    fast_note = fast_engine_available()
    fast_compile = None
    if fast_note is None:
        import hashlib

        import sim.engines.fast_engine as fast_module

        folder = os.path.dirname(fast_module.__file__)
        digest = hashlib.sha256()  # the compiled engine's source: every sim/engines/fast_*.py
        for name in sorted(n for n in os.listdir(folder) if n.startswith("fast_") and n.endswith(".py")):
            with open(os.path.join(folder, name), "rb") as handle:
                digest.update(handle.read())
        print(f"fast engine source (sim/engines/fast_*.py) sha256 {digest.hexdigest()[:12]}", flush=True)
        try:  # warm-up first, timed apart: Numba compile or cache load, in this process
            started = time.perf_counter()
            run_runner(args, 100, engine="fast", chunk_size=100, workers=1)
            fast_compile = time.perf_counter() - started
        except Exception as error:
            fast_note = f"{type(error).__name__}: {error}"

    runs = {engine_name: args.engine_runs, **{name: n for name, _ in pooled}, fast_name: args.fast_runs}
    times: dict[str, list[float]] = {name: [] for name in runs}
    others: dict[str, list[float]] = {name: [] for name in runs}
    startup_times: dict[str, list[float]] = {}
    answers: dict[str, dict] = {}

    def measure(name, function, *function_args, **keywords):
        before = cpu_snapshot()
        seconds, result = function(*function_args, **keywords)
        share = others_share(before, cpu_snapshot(), seconds)
        times[name].append(seconds)
        if share is not None:
            others[name].append(share)
        answers.setdefault(name, result)
        return seconds

    def engine_alone(args, count):
        return time_engine_alone(args, count), None

    for round_index in range(args.repeats):
        print(f"round {round_index + 1} of {args.repeats}:", flush=True)
        seconds = measure(engine_name, engine_alone, args, args.engine_runs)
        print(f"  {engine_name}: {seconds:.2f} s", flush=True)
        for name, function in pooled:
            tiny = None
            if not args.no_startup:
                tiny, _ = function(args, small, chunk_size=1)  # a run or two on each worker
                startup_times.setdefault(name, []).append(tiny)
            seconds = measure(name, function, args, n)
            print(f"  {name}: {seconds:.2f} s" + ("" if tiny is None else f" (tiny batch of {small}: {tiny:.2f} s)"),
                  flush=True)
        if fast_note is None:
            try:
                seconds = measure(fast_name, run_runner, args, args.fast_runs, engine="fast",
                                  chunk_size=args.fast_chunk_size)
                print(f"  {fast_name}: {seconds:.2f} s for {args.fast_runs} runs", flush=True)
            except Exception as error:
                fast_note = f"{type(error).__name__}: {error}"
    if fast_note is not None:
        lines = fast_note.strip().splitlines() or [""]
        print(f"fast engine: not available ({lines[0]}{' ...' if len(lines) > 1 else ''})")
    names = [name for name in runs if times[name] and not (name == fast_name and fast_note is not None)]

    seconds_of = {name: median(times[name]) for name in names}
    startups = {name: median(values) for name, values in startup_times.items()}
    rate_of = {name: runs[name] / seconds_of[name] for name in names}
    pool_rate = rate_of[pool_name]

    def text(value, spec):
        return "" if value is None else format(value, spec)

    print()
    print(f"medians of {args.repeats} interleaved rounds (range of runs/s in brackets)")
    print(f"{'configuration':<44}{'runs':>8}{'seconds':>9}{'runs/s':>10}{'(min-max)':>17}{'ratio to pool':>15}"
          f"{'startup s':>11}{'steady runs/s':>15}{'others CPU':>12}")
    for name in names:
        rates = [runs[name] / t for t in times[name]]
        spread = f"({min(rates):.0f}-{max(rates):.0f})"
        startup = startups.get(name)
        steady = None if startup is None else (runs[name] - small) / (seconds_of[name] - startup)
        busy = max(others[name]) if others[name] else None
        print(f"{name:<44}{runs[name]:>8}{seconds_of[name]:>9.2f}{rate_of[name]:>10.1f}{spread:>17}"
              f"{rate_of[name] / pool_rate:>15.3f}{text(startup, '.2f'):>11}{text(steady, '.1f'):>15}"
              f"{text(busy, '.0%'):>12}")
    print("(startup: median wall time of a tiny batch of 4 runs, chunk size 1, each round; steady: (runs - 4) /"
          " (seconds - startup); others CPU: the most, over the rounds, of the machine's cores busy with"
          " processes outside this benchmark)")
    if fast_compile is not None:
        how = ("empty Numba cache: a full compile" if numba_cache is not None else
               "the project's Numba cache: loading it when current, else compiling")
        print(f"fast engine warm-up (batch of 100 runs, 1 process; {how}): {fast_compile:.2f} s")

    engine_rate = rate_of[engine_name]
    print()
    print(f"EMA overhead ratio (EMA time / plain pool time): {seconds_of[ema_name] / seconds_of[pool_name]:.2f}"
          + ("" if args.no_ema_fork else
             f"; EMA forked / plain pool (spawned): {seconds_of[pooled[3][0]] / seconds_of[pool_name]:.2f}"))
    print(f"our runner (simpy) time / plain pool time: {seconds_of[runner_name] / seconds_of[pool_name]:.2f}")
    ideal = WORKERS * engine_rate
    print(f"per run and worker, beyond the engine's own {1000 / engine_rate:.1f} ms "
          f"(ideal {ideal:.1f} runs/s = {WORKERS} x engine alone):")
    for name, _ in pooled:
        per_run = 1000 * WORKERS / rate_of[name] - 1000 / engine_rate
        line = f"  {name}: {per_run:+.2f} ms with startup ({rate_of[name] / ideal:.0%} of ideal)"
        if name in startups:
            steady = (runs[name] - small) / (seconds_of[name] - startups[name])
            line += f", {1000 * WORKERS / steady - 1000 / engine_rate:+.2f} ms steady ({steady / ideal:.0%} of ideal)"
        print(line)
    ema, pool, runner = answers[ema_name], answers[pool_name], answers[runner_name]
    if args.uncertainty == "fixed":
        print(f"identical outcomes run by run: EMA vs pool {agree(ema, pool)}, runner vs pool {agree(runner, pool)}"
              + ("" if args.no_ema_fork else f", EMA forked vs pool {agree(answers[pooled[3][0]], pool)}")
              + ("" if fast_name not in names else "; the fast engine has its own random streams (means only)"))
    for name in names[1:]:
        print(f"  means, {name}: {mean_outcomes(answers[name])}")
    if numba_cache is not None:
        numba_cache.cleanup()


if __name__ == "__main__":
    main()
