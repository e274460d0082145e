"""From runs to a results folder: summary with Monte Carlo error, files written atomically.

``summarize`` turns the runs table into the ``summary.json`` mapping; ``run_and_save`` runs a
batch and writes ``runs.parquet``, ``summary.json``, ``config.yaml``, ``plots/`` and, last,
``manifest.json`` (whose presence marks a complete folder); :func:`run` is the Python API.

>>> results = run("baseline", overrides=["experiment=smoke", "n_runs=20", "horizon_days=30"])
>>> round(sum(entry["p"] for entry in results.summary["outcomes"].values()), 12)
1.0
"""

from __future__ import annotations

import datetime as _dt
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pyarrow as pa
import yaml

from sim import analysis, io, wep
from sim.config import RunConfig, compose_run_config
from sim.errors import ResultsError
from sim.model import OUTCOME_CLASSES
from sim.records import FIRST_EVENTS, METRIC_COLUMNS
from sim.runner import run_batch

__all__ = ["SCHEMA_VERSION", "Results", "summarize", "run_and_save", "run", "load_results"]

SCHEMA_VERSION = 1
#: Cumulative tail classes (severity is nested, so these are sums of classes).
CUMULATIVE = {
    "incursion_or_worse": ("conventional_incursion", "regional_war"),
    "limited_war_or_worse": ("limited_war", "conventional_incursion", "regional_war"),
}
_PACKAGES = ("numpy", "scipy", "simpy", "matplotlib", "hydra-core", "omegaconf", "pyarrow", "escalation-sim")


@dataclass(frozen=True)
class Results:
    """What a batch produced: the runs table, its summary, and where they were written."""

    config: RunConfig
    table: pa.Table
    summary: dict
    wall_seconds: float
    folder: Path | None = None

    def outcome(self, name: str) -> dict:
        return self.summary["outcomes"][name]

    def describe(self) -> str:
        """A plain-text table of outcome probabilities with 95 % CIs and their verbal band."""
        lines = [f"scenario {self.config.scenario.name}: {self.config.n_runs} runs, "
                 f"{self.config.horizon_days:g} days, seed {self.config.seed} ({self.wall_seconds:.1f} s)"]
        for name, entry in self.summary["outcomes"].items():
            lo, hi = entry["ci95"]
            lines.append(f"  {name:<26} {entry['p']:7.2%}  [{lo:6.2%}, {hi:6.2%}]  {entry['words']}")
        if self.folder is not None:
            lines.append(f"results: {self.folder}")
        return "\n".join(lines)


def _proportion(successes: int, n: int, yardstick: str) -> dict:
    lo, hi = analysis.wilson_interval(int(successes), int(n))
    p = successes / n
    return {"p": p, "ci95": [float(lo), float(hi)], "count": int(successes),
            "words": wep.describe(p, yardstick).text,
            "bands_in_ci": wep.describe_interval(float(lo), float(hi), yardstick)}


def summarize(table: pa.Table, config: RunConfig) -> dict:
    """The ``summary.json`` mapping: outcome probabilities (Wilson CIs) and metric summaries."""
    n = table.num_rows
    outcomes = np.asarray(table.column("outcome").to_numpy(zero_copy_only=False))
    counts = {name: int((outcomes == name).sum()) for name in OUTCOME_CLASSES}
    summary = {
        "schema_version": SCHEMA_VERSION,
        "n_runs": n,
        "seed": config.seed,
        "scenario": config.scenario.name,
        "engine": config.engine,
        "horizon_days": config.horizon_days,
        "uncertainty": config.uncertainty,
        "sampling": config.sampling,
        "yardstick": config.yardstick,
        "outcomes": {name: _proportion(counts[name], n, config.yardstick) for name in OUTCOME_CLASSES},
        "cumulative": {name: _proportion(sum(counts[c] for c in classes), n, config.yardstick)
                       for name, classes in CUMULATIVE.items()},
        "event_within_horizon": {},
        "metrics": {},
    }
    for kind in FIRST_EVENTS:
        days = table.column(f"first_{kind}_day").to_numpy()
        summary["event_within_horizon"][kind] = _proportion(int(np.isfinite(days).sum()), n, config.yardstick)
    for name in METRIC_COLUMNS:
        values = table.column(name).to_numpy().astype(float)
        if not np.isfinite(values).any():
            summary["metrics"][name] = {"mean": None, "p05": None, "p50": None, "p95": None,
                                        "ci95_mean": [None, None], "n": 0}
            continue
        stats = analysis.summarize_metric(values, nan_policy="omit")
        summary["metrics"][name] = {"mean": stats.mean, "p05": stats.p05, "p50": stats.p50, "p95": stats.p95,
                                    "ci95_mean": list(stats.ci95_mean), "n": stats.n, "std": stats.std}
    return summary


def _write_config(path: Path, config: RunConfig) -> None:
    io.atomic_write_text(path, yaml.safe_dump(dict(config.resolved), sort_keys=False, allow_unicode=True))


def run_and_save(config: RunConfig, folder: str | Path | None, *, progress: bool = True,
                 workers: int | None = None) -> Results:
    """Run a batch; when ``folder`` is given write the results folder (manifest last)."""
    started = _dt.datetime.now(_dt.timezone.utc)
    batch = run_batch(config, workers=workers, progress=progress)
    summary = summarize(batch.table, config)
    results = Results(config=config, table=batch.table, summary=summary, wall_seconds=batch.wall_seconds,
                      folder=Path(folder) if folder is not None else None)
    if folder is None:
        return results
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    io.write_parquet(folder / "runs.parquet", batch.table)
    io.write_json(folder / "summary.json", summary)
    _write_config(folder / "config.yaml", config)
    written = ["runs.parquet", "summary.json", "config.yaml"]
    if config.plots:
        from sim.plotting import save_all_plots

        written += [str(path.relative_to(folder)) for path in save_all_plots(results, folder / "plots")]
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "created_utc": started.isoformat(timespec="seconds"),
        "command": sys.argv,
        "n_runs": config.n_runs,
        "seed": config.seed,
        "scenario": config.scenario.name,
        "engine": config.engine,
        "chunk_size": config.chunk_size,
        "n_chunks": batch.n_chunks,
        "workers": batch.workers,
        "wall_seconds": batch.wall_seconds,
        "runs_per_second": config.n_runs / batch.wall_seconds if batch.wall_seconds > 0 else None,
        "python": sys.version.split()[0],
        "packages": io.package_versions(_PACKAGES),
        "git_commit": io.git_commit(Path(__file__).resolve().parents[1]),
        "files": {name: io.sha256_file(folder / name) for name in written},
    }
    io.write_json(folder / "manifest.json", manifest)
    return results


def run(scenario: str = "baseline", *, overrides: Sequence[str] = (), output_dir: str | Path | None = None,
        workers: int | None = 1, progress: bool = False) -> Results:
    """Python API: compose ``scenario`` with Hydra-style overrides, run, optionally save.

    ``workers=1`` (the default here) runs in this process; pass ``None`` for the config's value.
    """
    config = compose_run_config([f"scenario={scenario}", *overrides])
    return run_and_save(config, output_dir, progress=progress, workers=workers)


def load_results(folder: str | Path) -> tuple[dict, pa.Table, dict]:
    """Read a results folder back (summary, runs table, manifest), checking every file's hash."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ResultsError(f"{folder}: not a results folder")
    manifest = io.read_json(folder / "manifest.json", "manifest")
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise ResultsError(f"{folder / 'manifest.json'}: schema_version {manifest.get('schema_version')!r}, "
                           f"expected {SCHEMA_VERSION}")
    io.verify_hashes(folder, manifest)
    summary = io.read_json(folder / "summary.json", "summary")
    table = io.read_parquet(folder / "runs.parquet")
    return summary, table, manifest
