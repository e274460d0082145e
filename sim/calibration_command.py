"""The ``calibrate`` command: a :func:`sim.calibration.calibrate` result written out as a scenario YAML
with provenance, a ``calibrate.json`` and the ranges figure.

>>> from sim.calibration import Calibration, CalibrationSettings
>>> found = Calibration("events.csv", "timeline", ("2024-01-01", "2024-01-10"), 10, "baseline", {}, (), {}, None,
...                     {}, CalibrationSettings())
>>> scenario_yaml(found, "calibrated_events").splitlines()[2:5]
['defaults:', '- baseline', '- _self_']
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import numpy as np

from sim.calibration import Calibration, CalibrationSettings, calibrate
from sim.commands import CommandParser, publish, output_folder, reports_errors
from sim.errors import ConfigError

__all__ = ["scenario_yaml", "ranges_figure", "command"]


def _g(x: float) -> float:
    return float(f"{x:.6g}")          # monotone rounding: value stays inside its range


def scenario_yaml(calibration: Calibration, name: str, *, source: str | None = None, sha256: str = "") -> str:
    """The calibrated scenario as YAML: ``defaults: [<base>, _self_]`` plus the calibrated parameters,
    each with every provenance key set (null clears the base's quote/term), source ``data:<file>``."""
    import yaml

    source = source or calibration.source_file
    parameters = {}
    for p in calibration.parameters:
        parameters[p.name] = {"value": _g(p.value), "range": [_g(p.low), _g(p.high)], "dist": p.dist,
                              "source": f"data:{source}", "figure": p.figure, "derivation": p.derivation,
                              "quote": None, "term": None, "yardstick": None, "unit": None}
    body = {"defaults": [calibration.base, "_self_"], "name": name,
            "description": f"{calibration.base} with {len(parameters)} parameters calibrated from {source} "
                           f"({calibration.window[0]} to {calibration.window[1]}).",
            "parameters": parameters}
    kept = "".join(f"#   {k}: {why}\n" for k, why in sorted(calibration.kept.items()))
    header = (f"# Calibrated by `python -m sim calibrate` from {source} ({calibration.source_format}"
              f"{', sha256 ' + sha256[:16] if sha256 else ''}), window {calibration.window[0]} to "
              f"{calibration.window[1]} ({calibration.window_days} days).\n# Each parameter below: value = posterior "
              "mean, range = 90 % interval; every other parameter is the base scenario's.\n"
              + (f"# Kept at the base scenario's value and range:\n{kept}" if kept else ""))
    return header + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=110)


def _searchpath(folder: Path) -> str:
    return f"hydra.searchpath=[file://{Path(folder).resolve()}]"


def _check_loads(folder: Path, name: str) -> None:
    """Compose and validate the scenario written under ``folder/scenario/`` (raises ConfigError)."""
    from sim.config import compose_run_config

    compose_run_config([f"scenario={name}", _searchpath(folder)])


def _json(c: Calibration, name: str, sha256: str) -> dict:
    return {"kind": "calibration", "title": f"Calibration of {name} from {Path(c.source_file).name}",
            "source_file": c.source_file, "source_format": c.source_format, "sha256": sha256,
            "window": list(c.window), "window_days": c.window_days, "base": c.base, "scenario": name,
            "scenario_file": f"scenario/{name}.yaml", "estimates": c.estimates,
            "parameters": [p.__dict__ for p in c.parameters], "kept": c.kept, "unmapped": c.unmapped,
            "settings": c.settings.__dict__, "hawkes": c.hawkes.__dict__ if c.hawkes else None,
            "figures": [{"file": "calibrate_ranges.png", "alt": "Base ranges against calibrated 90 % intervals",
                         "caption": "Each calibrated parameter: the base scenario's range (grey) and the 90 % "
                                    "interval from the data (blue)."}] if c.parameters else [],
            "notes": ["intervals are 90 % equal-tailed posterior intervals",
                      "ranges are sampled uniform (probabilities) or loguniform (rates, durations) over the interval"]}


@reports_errors
def command(argv: Sequence[str]) -> int:
    """``python -m sim calibrate <events.csv> [--base baseline] [--name NAME] [--out DIR]``: estimates,
    calibrated scenario YAML (``<out>/scenario/<name>.yaml``), JSON and figure."""
    from sim import io
    from sim.config import CONFIG_DIR, load_scenario
    from sim.events import read_events

    parser = CommandParser(prog="python -m sim calibrate", description="Estimate the model's rates and "
                           "probabilities from an event export and write a calibrated scenario.")
    parser.add_argument("events", help="ACLED / UCDP GED export or timeline CSV")
    parser.add_argument("--format", default=None, help="acled | ucdp | timeline (default: detected)")
    parser.add_argument("--mapping", default=None, help="event mapping YAML (default: the format's shipped one)")
    parser.add_argument("--from", dest="start", default=None, help="first day of the window (YYYY-MM-DD)")
    parser.add_argument("--to", dest="end", default=None, help="last day of the window (YYYY-MM-DD)")
    parser.add_argument("--base", default="baseline", help="scenario the calibrated one derives from")
    parser.add_argument("--name", default=None, help="name of the calibrated scenario (default calibrated_<file>)")
    parser.add_argument("--out", default=None, help="output folder (default results/calibrate_<time>_<token>)")
    parser.add_argument("--install", action="store_true", help="also write configs/scenario/<name>.yaml")
    parser.add_argument("--seed", type=int, default=0, help="seed of the within-day jitter of the Hawkes fit")
    parser.add_argument("--min-events", type=int, default=5, help="events/trials an estimate needs to replace a prior")
    parser.add_argument("--min-hawkes-events", type=int, default=100, help="attacks a Hawkes fit needs")
    args = parser.parse_args(list(argv))
    stem = re.sub(r"[^a-z0-9_]+", "_", Path(args.events).stem.lower()).strip("_")
    name = args.name or f"calibrated_{stem}"
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ConfigError(f"--name {name!r}: use lower-case letters, digits and _ (starting with a letter)")
    if (CONFIG_DIR / "scenario" / f"{name}.yaml").exists():
        raise ConfigError(f"--name {name}: configs/scenario/{name}.yaml already exists; choose another name")
    if args.min_events < 1 or args.min_hawkes_events < 10:
        raise ConfigError("--min-events must be >= 1 and --min-hawkes-events >= 10")
    folder = output_folder("calibrate", args.out)
    base = load_scenario(args.base)
    events = read_events(args.events, format=args.format, mapping=args.mapping, start=args.start, end=args.end)
    settings = CalibrationSettings(min_events=args.min_events, min_hawkes_events=args.min_hawkes_events)
    result = calibrate(events, base, rng=np.random.default_rng(args.seed), settings=settings)
    sha256 = io.sha256_file(args.events)
    text = scenario_yaml(result, name, sha256=sha256)

    def write(staging: Path) -> None:
        (staging / "scenario").mkdir()
        io.atomic_write_text(staging / "scenario" / f"{name}.yaml", text)
        _check_loads(staging, name)
        if result.parameters:
            from sim.plotting import save_figure

            save_figure(ranges_figure(result, base, name), staging, "calibrate_ranges")
        io.write_json(staging / "calibrate.json", _json(result, name, sha256))

    folder = publish(folder, write)
    if args.install:
        io.atomic_write_text(CONFIG_DIR / "scenario" / f"{name}.yaml", text)
    print(f"calibrated {name} from {args.events} ({result.source_format}), {result.window[0]} to {result.window[1]} "
          f"({result.window_days} days); base {result.base}")
    print(f"  {'parameter':<36} {'base value [range]':<28} {'calibrated (90 % interval)':<30} from")
    for p in result.parameters:
        b = base.parameter(p.name)
        print(f"  {p.name:<36} {f'{b.value:.4g} [{b.low:.4g}, {b.high:.4g}]':<28} "
              f"{f'{p.value:.4g} ({p.low:.4g}, {p.high:.4g})':<30} {p.figure}")
    for pname, why in sorted(result.kept.items()):
        print(f"  kept {pname}: {why}")
    if result.unmapped:
        print(f"  rows mapped to nothing: {sum(result.unmapped.values())} ({len(result.unmapped)} types)")
    run_hint = (f"python -m sim scenario={name}" if args.install else
                f"python -m sim --config-dir {folder} scenario={name}")
    print(f"output: {folder}\nrun it: {run_hint} engine=fast")
    return 0


def ranges_figure(calibration: Calibration, base, name: str):
    """One row per calibrated parameter: the base range (grey) against the calibrated 90 % interval (blue)."""
    import matplotlib

    from sim.plotting import OKABE_ITO, STYLE, new_figure

    rows = calibration.parameters
    with matplotlib.rc_context(STYLE):
        fig = new_figure(1.2 + 0.75 * len(rows))
        axes = fig.subplots(len(rows), 1, squeeze=False)[:, 0]
        for ax, p in zip(axes, rows):
            b = base.parameter(p.name)
            ax.plot([b.low, b.high], [1, 1], color="#AAAAAA", lw=6, solid_capstyle="butt", label="base range")
            ax.plot([b.value], [1], "o", color="#666666", ms=5)
            ax.plot([p.low, p.high], [0, 0], color=OKABE_ITO["blue"], lw=6, solid_capstyle="butt",
                    label="calibrated 90 % interval")
            ax.plot([p.value], [0], "o", color="black", ms=5)
            span = [min(b.low, p.low), max(b.high, p.high)]
            if p.dist == "loguniform" and span[0] > 0 and span[1] / span[0] > 20:
                ax.set_xscale("log")
            ax.set_ylim(-0.8, 1.8)
            ax.set_yticks([])
            ax.set_title(p.name, loc="left", fontsize=9, pad=2)
            ax.spines["left"].set_visible(False)
        axes[0].legend(loc="upper right", fontsize=8, frameon=False, ncols=2, bbox_to_anchor=(1.0, 1.9))
        fig.suptitle(f"{name}: base ranges (grey) against calibrated 90 % intervals (blue) — "
                     f"{Path(calibration.source_file).name}, {calibration.window[0]} to {calibration.window[1]}",
                     fontsize=10)
    return fig
