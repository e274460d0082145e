"""Command line: ``python -m sim [overrides]`` and ``escalation-sim [overrides]``.

Analysis subcommands are recognised before Hydra sees the arguments, each handled by its
module's ``command(argv)``: ``python -m sim report <results dir> ...``, ``compare``,
``condition``, ``signposts``, ``paths``, ``discover``, ``sensitivity`` (see ``python -m sim
help``).

The only module that sees Hydra's DictConfig. Before Hydra runs (and creates its run folder),
the command line is composed and validated once through the compose API — every combination
of a ``--multirun`` sweep too — so a user mistake gives one line on stderr, exit code 2, and
no results folder. Hydra's own flags (``--cfg job``, ``--config-dir``, ``--multirun``, ...)
pass through unchanged.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Sequence

from sim.errors import ConfigError, ResultsError

__all__ = ["main", "hydra_error_message", "validate_command_line"]

log = logging.getLogger("sim")
_PASS_THROUGH_FLAGS = ("help", "hydra_help", "info", "shell_completion", "experimental_rerun")
_MAX_PREVALIDATED = 256
_HYDRA_SUFFIX = re.compile(r"\s*Set the environment variable HYDRA_FULL_ERROR=1.*$")
#: subcommand -> (module with ``command(argv) -> int``, one-line description)
SUBCOMMANDS = {
    "report": ("sim.report", "write the HTML brief of one or more results/analysis folders"),
    "compare": ("sim.compare", "paired differences between scenarios on common random numbers"),
    "signposts": ("sim.signposts", "what to watch: P(outcome | early indicator), lift, CIs"),
    "condition": ("sim.signposts", "outcome odds given what has been observed so far"),
    "paths": ("sim.paths", "escalation paths: frequent ladder sequences, time on rungs, flows"),
    "discover": ("sim.discovery", "scenario discovery: parameter regions leading to an outcome (PRIM/CART)"),
    "sensitivity": ("sim.sensitivity", "global sensitivity: Sobol indices or Morris screening (SALib)"),
    "events": ("sim.events", "read an ACLED / UCDP export: mapped event counts by month, unmapped rows"),
    "calibrate": ("sim.calibration", "calibrate a scenario from an ACLED / UCDP export (posteriors with provenance)"),
    "backtest": ("sim.backtest", "score the ensemble against a timeline of what followed (Brier, log, CRPS, PIT)"),
}


def hydra_error_message(error: BaseException) -> str:
    """One line from a Hydra/OmegaConf error: the key it concerns and what went wrong."""
    chain, seen = [], error
    while seen is not None and len(chain) < 6:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    key = next((getattr(item, "full_key", None) for item in chain if getattr(item, "full_key", None)), None)
    texts = []
    for item in chain:
        lines = [line.strip() for line in str(item).splitlines()]
        lines = [line for line in lines if line and not line.startswith(("full_key:", "object_type=", "reference_type="))]
        text = "; ".join(lines)
        if text and text not in texts:
            texts.append(text)
    message = " <- ".join(texts[:2]) if texts else type(error).__name__
    message = _HYDRA_SUFFIX.sub("", re.sub(r"\s+", " ", message))
    message = message.split("; Config search path:")[0].replace(":;", ":")
    return f"{key}: {message}" if key and not message.startswith(f"{key}:") else message


def _expand_sweeps(overrides: Sequence[str]) -> list[list[str]]:
    """Every combination of a multirun sweep as plain override lists (at most a few hundred)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(list(overrides))
    options = []
    for override in parsed:
        if override.is_sweep_override():
            if override.is_hydra_override():
                continue
            key = override.get_key_element()  # already carries its +, ++ or ~ prefix
            options.append([f"{key}={value}" for value in override.sweep_string_iterator()])
        else:
            options.append([override.input_line])  # hydra.* settings too: composed and checked
    return [list(combo) for combo in itertools.islice(itertools.product(*options), _MAX_PREVALIDATED)]


def validate_command_line(argv: Sequence[str]) -> None:
    """Compose and validate what Hydra is about to run; raise ConfigError on a user mistake."""
    from hydra._internal.utils import get_args_parser

    from sim.config import compose_mapping, run_config_from_mapping

    args = get_args_parser().parse_args(list(argv))
    modes = [flag for flag, on in (("--run", args.run), ("--multirun", args.multirun), ("--cfg", args.cfg),
                                   ("--info", args.info is not None), ("--shell-completion", args.shell_completion))
             if on]
    if len(modes) > 1:
        raise ConfigError(f"{modes[0]}/{modes[1]}: only one of --run, --multirun, --cfg, --info and "
                          "--shell-completion can be given")
    if any(getattr(args, flag, None) for flag in _PASS_THROUGH_FLAGS):
        return
    if args.config_path or args.config_name:
        raise ConfigError("--config-path/--config-name: not supported; use --config-dir to add configs")
    extra = []
    if args.config_dir:
        directory = Path(args.config_dir).resolve()
        if not directory.is_dir():
            raise ConfigError(f"--config-dir: directory {str(directory)!r} not found")
        extra = [f"hydra.searchpath=[file://{directory}]"]
    try:
        combinations = _expand_sweeps(args.overrides) if args.multirun else [list(args.overrides)]
    except Exception as error:
        raise ConfigError(hydra_error_message(error)) from None
    for overrides in combinations:
        try:
            mapping = compose_mapping([*overrides, *extra])
        except ConfigError:
            raise
        except Exception as error:
            raise ConfigError(hydra_error_message(error)) from None
        run_config_from_mapping(mapping)


def _remove_if_only_hydra_files(folder: Path) -> None:
    """Undo the run folder Hydra created, but never delete anything a user put there."""
    if not folder.is_dir():
        return
    ours = {".hydra", "main.log", "__main__.log", "cli.log"}
    if all(entry.name in ours for entry in folder.iterdir()):
        shutil.rmtree(folder, ignore_errors=True)


def _task(cfg) -> None:
    """Hydra's task function: DictConfig -> RunConfig -> results folder."""
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf

    from sim.config import run_config_from_mapping
    from sim.results import run_and_save
    from sim.runner import RunFailed

    output_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        config = run_config_from_mapping(OmegaConf.to_container(cfg, resolve=True))
        if config.sensitivity.enabled:  # experiment=sensitivity: a design, not a batch of runs
            from sim.sensitivity import run_sensitivity

            results = run_sensitivity(config, output_dir)
        else:
            results = run_and_save(config, output_dir)
    except ConfigError as error:
        _remove_if_only_hydra_files(output_dir)
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except RunFailed as error:  # a model run raised: name it so it can be reproduced alone
        _remove_if_only_hydra_files(output_dir)
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    print(results.describe())


def _hydra_main(argv: Sequence[str]) -> None:
    import hydra

    from sim.config import CONFIG_DIR, register_schemas

    register_schemas()
    entry = hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")(_task)
    saved = sys.argv
    sys.argv = [saved[0] if saved else "escalation-sim", *argv]
    try:
        entry()
    finally:
        sys.argv = saved


def _resume(argv: Sequence[str]) -> int:
    """``python -m sim resume=<results dir> [workers=N]``: finish a killed run where it stopped."""
    from sim.results import resume
    from sim.runner import RunFailed

    options = dict(arg.split("=", 1) for arg in argv if "=" in arg)
    unknown = sorted(set(options) - {"resume", "workers"}) + [arg for arg in argv if "=" not in arg]
    if unknown:
        print(f"error: {unknown[0]}: with resume= only workers=N may be given (the run's own config.yaml "
              "fixes everything else)", file=sys.stderr)
        return 2
    try:
        workers = int(options.get("workers", "0")) or None
        logging.basicConfig(level=logging.INFO, format="[%(asctime)s][%(name)s][%(levelname)s] - %(message)s")
        results = resume(options["resume"], workers=workers)
    except ValueError as error:  # ConfigError and ResultsError are ValueErrors too
        message = error if isinstance(error, ConfigError) else f"workers: expected an integer ({error})"
        print(f"error: {message}", file=sys.stderr)
        return 2
    except RunFailed as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(results.describe())
    return 0


def subcommand_help() -> str:
    lines = ["usage: python -m sim [overrides ...]            run a scenario (Hydra overrides, e.g. engine=fast)",
             "       python -m sim resume=<results dir>      finish an interrupted run",
             "       python -m sim <command> [args ...]      an analysis; <command> --help for its options", "",
             "commands:"]
    lines += [f"  {name:<12} {description}" for name, (_, description) in SUBCOMMANDS.items()]
    return "\n".join(lines)


def _subcommand(name: str, argv: Sequence[str]) -> int:
    import importlib

    module = importlib.import_module(SUBCOMMANDS[name][0])
    command = getattr(module, f"{name}_command", None) or module.command
    try:
        return int(command(list(argv)) or 0)
    except (ConfigError, ResultsError) as error:  # user mistakes only: a bug keeps its traceback
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m sim`` and ``escalation-sim``; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("HYDRA_FULL_ERROR", "0")
    if argv and argv[0] in SUBCOMMANDS:
        return _subcommand(argv[0], argv[1:])
    if argv and argv[0] in ("help", "commands"):
        print(subcommand_help())
        return 0
    if any(arg.startswith("resume=") for arg in argv):
        return _resume(argv)
    try:
        validate_command_line(argv)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        _hydra_main(argv)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    return 0
