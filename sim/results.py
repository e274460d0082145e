"""From runs to a results folder: streamed Parquet parts, an exact summary, resume after a crash.

``run_and_save`` writes ``config.yaml`` first, then one Parquet part per chunk under
``runs.parquet/`` the moment the chunk finishes, recording each part and its SHA-256 in
``manifest.json`` as it goes. At the end it writes ``summary.json`` (from mergeable chunk
statistics; quantiles from values the statistics carried, or for large batches from a second
pass over the parts), the plots, and the final manifest with
``"status": "complete"``. ``resume`` finishes a killed run in the same folder: parts listed in the
manifest are verified and kept, unlisted ones recomputed; the rows and summary equal those of an
uninterrupted run.

>>> results = run("baseline", overrides=["experiment=smoke", "n_runs=20", "horizon_days=30"])
>>> round(sum(entry["p"] for entry in results.summary["outcomes"].values()), 12)
1.0
"""

from __future__ import annotations

import datetime as _dt
import functools
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from sim import analysis, io, wep
from sim.config import RunConfig, compose_run_config, run_config_from_mapping
from sim.start import calendar_date, start_record
from sim.errors import ResultsError
from sim.model import OUTCOME_CLASSES
from sim.records import FIRST_EVENTS, METRIC_COLUMNS, schema
from sim.runner import ChunkResult, RunFailed, drive, n_chunks, run_batch
from sim.stats import BatchStats, keeps_values, metric_quantiles

__all__ = ["SCHEMA_VERSION", "Results", "summarize", "summary_from_stats", "run_and_save", "resume", "run",
           "load_results", "PLOT_ROWS"]

log = logging.getLogger(__name__)
SCHEMA_VERSION = 3  # 3: crossings_closed_daily
PARTS_DIR = "runs.parquet"
PLOT_ROWS = 200_000  # plots and Results.table use at most this many runs (the first ones)
QUANTILES = (0.05, 0.5, 0.95)
#: Cumulative tail classes (severity is nested, so these are sums of classes).
CUMULATIVE = {
    "incursion_or_worse": ("conventional_incursion", "regional_war"),
    "limited_war_or_worse": ("limited_war", "conventional_incursion", "regional_war"),
}
_PACKAGES = ("numpy", "scipy", "simpy", "numba", "matplotlib", "hydra-core", "omegaconf", "pyarrow",
             "escalation-sim")


@dataclass(frozen=True)
class Results:
    """A batch's summary and runs.

    ``table`` holds every run's row when the batch has at most PLOT_ROWS runs. A bigger batch keeps
    only the first PLOT_ROWS runs' scalar outcome columns (no per-day lists, no sampled
    parameters) — enough for the plots, in bounded memory; ``load_results`` reads everything.
    ``table_source`` is that table, or a function that reads it from the results folder: then it
    is read the first time ``table`` is asked for (a run without plots that nobody inspects
    never reads its parts back).
    """

    config: RunConfig
    table_source: pa.Table | Callable[[], pa.Table]
    summary: dict
    wall_seconds: float
    folder: Path | None = None
    stats: BatchStats | None = None

    @functools.cached_property
    def table(self) -> pa.Table:
        return self.table_source() if callable(self.table_source) else self.table_source

    def outcome(self, name: str) -> dict:
        return self.summary["outcomes"][name]

    def describe(self) -> str:
        """A plain-text table of outcome probabilities with 95 % CIs and their verbal band."""
        s = self.summary
        lines = [f"scenario {s['scenario']}: {s['n_runs']:,} runs, {s['horizon_days']:g} days, seed {s['seed']}, "
                 f"engine {s['engine']} ({self.wall_seconds:.1f} s)"]
        for name, entry in s["outcomes"].items():
            lo, hi = entry["ci95"]
            lines.append(f"  {name:<26} {entry['p']:7.2%}  [{lo:6.2%}, {hi:6.2%}]  {entry['words']}")
        if s.get("runs_skipped"):
            lines.append(f"  {s['runs_skipped']} runs failed and were skipped (see failures.json)")
        if s.get("stopping"):
            lines.append(f"  sequential stopping: {s['stopping']['reason']} after {s['n_runs']:,} runs")
        if self.folder is not None:
            lines.append(f"results: {self.folder}")
        return "\n".join(lines)


def _proportion(successes: int, n: int, yardstick: str) -> dict:
    lo, hi = analysis.wilson_interval(int(successes), int(n))
    p = successes / n
    return {"p": p, "ci95": [float(lo), float(hi)], "count": int(successes),
            "words": wep.describe(p, yardstick).text,
            "bands_in_ci": wep.describe_interval(float(lo), float(hi), yardstick)}


def summary_from_stats(stats: BatchStats, config: RunConfig, quantiles: dict, *, skipped: int = 0,
                       stopping: dict | None = None) -> dict:
    """The ``summary.json`` mapping from merged statistics and exact quantiles."""
    from scipy import stats as scipy_stats

    n = stats.n_runs
    if n == 0:
        raise ResultsError("no run finished: nothing to summarise")
    counts = dict(zip(OUTCOME_CLASSES, (int(c) for c in stats.outcome_counts)))
    summary = {
        "schema_version": SCHEMA_VERSION, "n_runs": n, "runs_skipped": skipped, "seed": config.seed,
        "scenario": config.scenario.name, "engine": config.engine, "horizon_days": config.horizon_days,
        "uncertainty": config.uncertainty, "sampling": config.sampling, "yardstick": config.yardstick,
        "start_date": None if config.start.date is None else config.start.date.isoformat(),
        "start": start_record(config.start),
        "outcomes": {name: _proportion(counts[name], n, config.yardstick) for name in OUTCOME_CLASSES},
        "cumulative": {name: _proportion(sum(counts[c] for c in classes), n, config.yardstick)
                       for name, classes in CUMULATIVE.items()},
        "event_within_horizon": {kind: _proportion(int(stats.event_counts[i]), n, config.yardstick)
                                 for i, kind in enumerate(FIRST_EVENTS)},
        "metrics": {},
    }
    if stopping is not None:
        summary["stopping"] = stopping
    for index, name in enumerate(METRIC_COLUMNS):
        count, mean, m2 = int(stats.metric_n[index]), float(stats.metric_mean[index]), float(stats.metric_m2[index])
        p05, p50, p95 = quantiles.get(name, [None] * 3)
        if count == 0:
            summary["metrics"][name] = {"mean": None, "p05": None, "p50": None, "p95": None,
                                        "ci95_mean": [None, None], "n": 0, "std": None}
            continue
        std = float(np.sqrt(m2 / (count - 1))) if count > 1 else float("nan")
        half = float(scipy_stats.t.ppf(0.975, count - 1)) * std / np.sqrt(count) if count > 1 else float("nan")
        summary["metrics"][name] = {"mean": mean, "p05": p05, "p50": p50, "p95": p95,
                                    "ci95_mean": [mean - half, mean + half], "n": count, "std": std}
        if config.start.date is not None and name.startswith("first_"):  # the calendar days of those days
            summary["metrics"][name].update({
                f"{q}_date": None if day is None else calendar_date(config.start, day).isoformat()
                for q, day in (("p05", p05), ("p50", p50), ("p95", p95))})
    if config.start.date is not None:
        summary["horizon_end_date"] = (config.start.date + _dt.timedelta(days=config.horizon_days)).isoformat()
    return summary


def summarize(table: pa.Table, config: RunConfig) -> dict:
    """The ``summary.json`` mapping of an in-memory table of runs."""
    stats = BatchStats.from_table(table, horizon_days=config.horizon_days)
    return summary_from_stats(stats, config, metric_quantiles(stats, table, QUANTILES))


def _write_config(path: Path, config: RunConfig) -> None:
    io.atomic_write_text(path, yaml.safe_dump(dict(config.resolved), sort_keys=False, allow_unicode=True))


class _Manifest:
    """The manifest while a run is under way: chunks recorded as they finish (throttled writes).

    Workers write their parts without fsync (side by side, two processes' fsyncs queue behind
    each other); each write of the manifest first makes the parts it newly lists durable, so
    after a machine failure every listed part is on disk as hashed."""

    def __init__(self, folder: Path, config: RunConfig, existing: dict | None = None):
        self.path = folder / "manifest.json"
        self.data = existing or {
            "schema_version": SCHEMA_VERSION, "status": "running", "seed": config.seed,
            "scenario": config.scenario.name, "engine": config.engine, "chunk_size": config.chunk_size,
            "n_runs": config.n_runs, "start": start_record(config.start),
            "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "chunks": {},
        }
        self.data["status"] = "running"
        self._written = 0.0
        self._unsynced: list[Path] = []

    def record(self, result: ChunkResult) -> None:
        if result.file is None:
            return
        self.data["chunks"][str(result.index)] = {"file": f"{PARTS_DIR}/{result.file}", "sha256": result.sha256,
                                                  "rows": result.rows, "failed_runs": len(result.failures)}
        self._unsynced.append(self.path.parent / PARTS_DIR / result.file)
        if time.monotonic() - self._written >= 1.0:
            self.write()

    def write(self) -> None:
        io.fsync_files(self._unsynced)
        self._unsynced.clear()
        io.write_json(self.path, self.data)
        self._written = time.monotonic()


def _verified_done_chunks(folder: Path, manifest: dict, config: RunConfig) -> dict[int, BatchStats]:
    """Chunks a killed run finished: verify each listed part; recompute unlisted ones."""
    parts_dir = folder / PARTS_DIR
    listed = {}
    for key, entry in manifest.get("chunks", {}).items():
        path = folder / entry["file"]
        if not path.is_file():
            raise ResultsError(f"{path}: listed in the manifest but missing; cannot resume safely")
        if io.sha256_file(path) != entry["sha256"]:
            raise ResultsError(f"{path}: contents differ from the manifest's hash (corrupt or foreign part)")
        _check_part_identity(path, config, int(key))
        listed[int(key)] = path
    for path in sorted(parts_dir.glob("*.parquet")):
        if path not in listed.values():
            log.warning("%s is not in the manifest (the run stopped while writing it): recomputing", path.name)
            path.unlink()
    for stray in parts_dir.glob("*.tmp*"):
        stray.unlink()
    keep = keeps_values(config.max_runs)
    return {index: BatchStats.from_table(io.read_parquet(path), horizon_days=config.horizon_days, keep_values=keep)
            for index, path in listed.items()}


def _check_part_identity(path: Path, config: RunConfig, chunk_index: int) -> None:
    stamps = pq.read_schema(path).metadata or {}
    seed, chunk = stamps.get(b"sim.seed", b"").decode(), stamps.get(b"sim.chunk", b"").decode()
    if seed != str(config.seed) or chunk != str(chunk_index):
        raise ResultsError(f"{path}: a foreign part (seed {seed or '?'}, chunk {chunk or '?'}; "
                           f"expected seed {config.seed}, chunk {chunk_index})")


def _first_rows(paths: Sequence[Path], limit: int, columns: Sequence[str] | None = None) -> pa.Table:
    tables, rows = [], 0
    for path in paths:
        if rows >= limit:
            break
        table = io.read_parquet(path, columns)
        tables.append(table.slice(0, limit - rows))
        rows += tables[-1].num_rows
    return pa.concat_tables(tables)


class _FirstRows:
    """The first PLOT_ROWS runs' rows (``Results.table``) read back from the parts; when plots will
    want them, early if it can: while this process waits on the workers' last chunks, instead of
    after them."""

    def __init__(self, folder: Path, config: RunConfig, manifest: _Manifest):
        self.folder, self.config, self.manifest = folder, config, manifest
        self.read: tuple[list[Path], list[str] | None, pa.Table] | None = None

    def prefetch(self) -> None:
        """Read them now if the chunks that hold them are all done (else leave it for the end)."""
        chunks, total = self.manifest.data["chunks"], n_chunks(self.config)
        paths, rows = [], 0
        while rows < PLOT_ROWS and len(paths) < total:
            entry = chunks.get(str(len(paths)))
            if entry is None:
                return
            paths.append(self.folder / entry["file"])
            rows += entry["rows"]
        columns = None if self.config.max_runs <= PLOT_ROWS else _scalar_columns()
        try:
            self.read = (paths, columns, _first_rows(paths, PLOT_ROWS, columns))
        except ResultsError:  # read (and reported) at the end instead
            self.read = None

    def take(self, part_paths: Sequence[Path], columns: list[str] | None) -> pa.Table:
        """What ``_first_rows(part_paths, PLOT_ROWS, columns)`` gives: the prefetched rows if they
        came from exactly the parts it would read, with the same columns."""
        if self.read is not None:
            paths, read_columns, table = self.read
            same_parts = list(part_paths[:len(paths)]) == paths
            complete = table.num_rows >= PLOT_ROWS or len(paths) == len(part_paths)
            if same_parts and complete and read_columns == columns:
                return table
        return _first_rows(part_paths, PLOT_ROWS, columns)


def _scalar_columns() -> list[str]:
    return [f.name for f in schema() if not pa.types.is_list(f.type)]


def run_and_save(config: RunConfig, folder: str | Path | None, *, progress: bool = True,
                 workers: int | None = None, resuming: bool = False) -> Results:
    """Run a batch; with a ``folder``, stream it there (manifest completed last)."""
    if folder is None:
        batch = run_batch(config, workers=workers, progress=progress)
        _raise_if_nothing(batch.stats)
        summary = summary_from_stats(batch.stats, config, metric_quantiles(batch.stats, batch.table, QUANTILES),
                                     skipped=len(batch.failures), stopping=_stopping(config, batch.stats))
        return Results(config, batch.table, summary, batch.wall_seconds, None, batch.stats)
    started = time.perf_counter()
    folder = Path(folder)
    parts_dir = folder / PARTS_DIR
    parts_dir.mkdir(parents=True, exist_ok=True)
    skip: dict[int, BatchStats] = {}
    existing = None
    if resuming and (folder / "manifest.json").is_file():
        existing = io.read_json(folder / "manifest.json", "manifest")
        if existing.get("status") == "complete":
            raise ResultsError(f"{folder}: already complete; nothing to resume")
        if existing.get("status") == "failed":
            raise ResultsError(f"{folder}: stopped on a failing run (see failures.json); rerun with on_error=skip")
        skip = _verified_done_chunks(folder, existing, config)
    elif not resuming:
        _write_config(folder / "config.yaml", config)
    manifest = _Manifest(folder, config, existing)
    manifest.write()
    first_rows = _FirstRows(folder, config, manifest)
    try:
        kept, stats, judged = drive(config, skip=skip, parts_dir=str(parts_dir), workers=workers,
                                    on_chunk=manifest.record, on_idle=first_rows.prefetch if config.plots else None, progress=progress)
    except RunFailed as error:  # keep what finished, say what failed, and stop
        io.write_json(folder / "failures.json", {"failures": list(error.failures)})
        manifest.data["status"] = "failed"
        manifest.write()
        raise RunFailed(f"{error} (traceback in {folder / 'failures.json'})", error.failures) from None
    # every result went through manifest.record as it came (drive's on_chunk); recording the kept
    # ones again would only queue their parts for a second fsync
    chunks = {int(key): entry for key, entry in manifest.data["chunks"].items() if int(key) < judged}
    manifest.data["chunks"] = {str(key): chunks[key] for key in sorted(chunks)}
    part_paths = [folder / chunks[key]["file"] for key in sorted(chunks)]
    _raise_if_nothing(stats)
    failures = [failure for result in kept for failure in result.failures]
    if resuming:
        failures += _previous_failures(folder)
    if failures:
        io.write_json(folder / "failures.json", {"failures": sorted(failures, key=lambda f: f["run_index"])})
    quantiles = metric_quantiles(stats, part_paths, QUANTILES)
    skipped = sum(entry.get("failed_runs", 0) for entry in chunks.values())
    summary = summary_from_stats(stats, config, quantiles, skipped=skipped, stopping=_stopping(config, stats))
    io.write_json(folder / "summary.json", summary)
    wall = time.perf_counter() - started
    scalars = None if stats.n_runs <= PLOT_ROWS else _scalar_columns()
    results = Results(config, functools.partial(first_rows.take, part_paths, scalars), summary, wall, folder, stats)
    written = ["summary.json", "config.yaml"] + (["failures.json"] if failures else [])
    if config.plots:
        from sim.plotting import save_all_plots

        written += [str(path.relative_to(folder)) for path in save_all_plots(results, folder / "plots")]
    manifest.data.update({
        "status": "complete", "n_runs": stats.n_runs, "runs_skipped": skipped, "n_chunks": judged,
        "command": sys.argv, "workers": workers or config.effective_workers, "executor": config.executor,
        "wall_seconds": wall, "runs_per_second": stats.n_runs / wall if wall > 0 else None,
        "resumed": bool(resuming) or bool(existing and existing.get("resumed")),
        "python": sys.version.split()[0], "packages": io.package_versions(_PACKAGES),
        "git_commit": io.git_commit(Path(__file__).resolve().parents[1]),
        "files": {name: io.sha256_file(folder / name) for name in written},
    })
    manifest.write()
    return results


def _raise_if_nothing(stats: BatchStats | None) -> None:
    if stats is None or stats.n_runs == 0:
        raise ResultsError("every run failed: nothing to summarise (see failures.json)")


def _previous_failures(folder: Path) -> list[dict]:
    path = folder / "failures.json"
    return io.read_json(path, "failures").get("failures", []) if path.is_file() else []


def _stopping(config: RunConfig, stats: BatchStats) -> dict | None:
    if not config.sequential:
        return None
    from sim.runner import halfwidth_reached

    reached = halfwidth_reached(stats, config.stop_halfwidth)
    return {"halfwidth_target": config.stop_halfwidth, "max_runs": config.max_runs,
            "reason": "half-width reached" if reached else "max_runs reached", "runs_used": stats.n_runs}


def resume(folder: str | Path, *, workers: int | None = None, progress: bool = True) -> Results:
    """Finish a killed run in its own folder (same config, same seed, only missing chunks)."""
    folder = Path(folder)
    config_path = folder / "config.yaml"
    if not config_path.is_file():
        raise ResultsError(f"{folder}: no config.yaml here, so not a results folder that can be resumed")
    try:
        mapping = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ResultsError(f"{config_path}: unreadable ({type(error).__name__})") from None
    config = run_config_from_mapping(mapping)
    return run_and_save(config, folder, workers=workers, progress=progress, resuming=True)


def run(scenario: str = "baseline", *, overrides: Sequence[str] = (), output_dir: str | Path | None = None,
        workers: int | None = 1, progress: bool = False) -> Results:
    """Python API: compose ``scenario`` with Hydra-style overrides, run, optionally save.

    ``workers=1`` (the default here) runs in this process; pass ``None`` for the config's value.
    """
    config = compose_run_config([f"scenario={scenario}", *overrides])
    return run_and_save(config, output_dir, progress=progress, workers=workers)


def load_results(folder: str | Path, columns: Sequence[str] | None = None) -> tuple[dict, pa.Table, dict]:
    """Read a complete results folder back (summary, runs table, manifest), checking every file.

    ``columns``: read only these run columns (a name ending in ``*`` stands for every column with
    that prefix, e.g. ``param.*``); names the runs lack are left out, for the caller to notice.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ResultsError(f"{folder}: not a results folder")
    manifest = io.read_json(folder / "manifest.json", "manifest")
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise ResultsError(f"{folder / 'manifest.json'}: schema_version {manifest.get('schema_version')!r}, "
                           f"expected {SCHEMA_VERSION}")
    if manifest.get("status") != "complete":
        raise ResultsError(f"{folder}: run not finished (status {manifest.get('status')!r}); "
                           f"finish it with: python -m sim resume={folder}")
    io.verify_hashes(folder, manifest)
    parts = {entry["file"]: entry["sha256"] for entry in manifest.get("chunks", {}).values()}
    io.verify_hashes(folder, {"files": parts})
    for path in sorted((folder / PARTS_DIR).glob("*.parquet")):
        if f"{PARTS_DIR}/{path.name}" not in parts:
            raise ResultsError(f"{path}: a part file the manifest does not list (foreign); refusing to mix it in")
    summary = io.read_json(folder / "summary.json", "summary")
    ordered = [folder / entry["file"] for _, entry in sorted(manifest["chunks"].items(), key=lambda kv: int(kv[0]))]
    if columns is not None and ordered:
        columns = _matching_columns(ordered[0], columns)
    table = pa.concat_tables([io.read_parquet(path, columns) for path in ordered])
    return summary, table, manifest


def _matching_columns(part: Path, wanted: Sequence[str]) -> list[str]:
    """The part's columns named in ``wanted`` (``prefix*`` matches by prefix), in the part's order."""
    try:
        available = pq.read_schema(part).names
    except (pa.ArrowException, OSError) as error:
        raise ResultsError(f"Parquet file {part} is unreadable or corrupt ({type(error).__name__})") from None
    exact = {name for name in wanted if not name.endswith("*")}
    prefixes = tuple(name[:-1] for name in wanted if name.endswith("*"))
    return [name for name in available if name in exact or name.startswith(prefixes)]
