"""What every analysis command shares: its parser, its output folder, all-or-nothing publishing.

``python -m sim <command>`` calls ``sim.<module>.command(argv)``. Wrapped in :func:`reports_errors`,
a ConfigError or ResultsError (a usage error too: :class:`CommandParser` raises instead of exiting)
becomes one ``error:`` line on stderr and exit code 2. Outputs go to ``--out`` or a new
``results/<command>_<timestamp>_<token>`` (:func:`output_folder`), built in a hidden staging
folder that is renamed into place (:func:`publish`): a failure leaves nothing behind.

>>> output_folder("paths", None).name.startswith("paths_")
True
"""

from __future__ import annotations

import argparse
import datetime as _dt
import functools
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Callable, Mapping, Sequence

from sim import io
from sim.errors import ConfigError

__all__ = ["RESULTS_ROOT", "CommandParser", "reports_errors", "output_folder", "publish", "write_outputs"]

#: Where commands write when no ``--out`` is given (relative to the working directory).
RESULTS_ROOT = Path("results")


class CommandParser(argparse.ArgumentParser):
    """argparse that raises ConfigError (one line, naming the command) instead of printing usage and exiting."""

    def error(self, message: str):  # noqa: D102 - argparse hook
        raise ConfigError(f"{self.prog}: {message}")


def reports_errors(command: Callable[[Sequence[str]], int]) -> Callable[[Sequence[str]], int]:
    """Decorate ``command(argv)``: ConfigError/ResultsError -> ``error: ...`` on stderr and 2; ``--help`` -> 0."""

    @functools.wraps(command)
    def run(argv: Sequence[str]) -> int:
        try:
            return command(argv)
        except SystemExit as stop:                                  # --help
            return stop.code if isinstance(stop.code, int) else 0
        except ConfigError as error:                                # ResultsError too
            print(f"error: {error}", file=sys.stderr)
            return 2

    return run


def output_folder(command: str, out: str | os.PathLike | None) -> Path:
    """``--out`` (must not exist, or be an empty folder) or a new ``results/<command>_<timestamp>_<token>``."""
    if out is not None:
        target = Path(out)
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise ConfigError(f"--out {target}: already exists and is not an empty folder")
        return target
    stamp = _dt.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    return RESULTS_ROOT / f"{command}_{stamp}_{os.urandom(3).hex()}"


def publish(target: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Let ``write`` fill a hidden staging folder beside ``target``, then rename it to ``target``.

    A missing or empty ``target`` is replaced whole; into a folder that already holds files (a
    Hydra run folder) the staged files move one rename each. If ``write`` fails, nothing is left."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        write(staging)
        if target.is_dir() and any(target.iterdir()):
            for item in sorted(staging.iterdir()):
                os.replace(item, target / item.name)
            staging.rmdir()
        else:
            if target.is_dir():
                target.rmdir()
            os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def write_outputs(command: str, out: str | os.PathLike | None, payload: Mapping, figures: Mapping) -> Path:
    """Publish ``<command>.json`` and each figure (name -> function returning it, as PNG and SVG) into
    :func:`output_folder`; return the folder."""
    from sim.plotting import save_figure

    def write(folder: Path) -> None:
        for name, make in figures.items():
            save_figure(make(), folder, name)
        io.write_json(folder / f"{command}.json", payload)

    return publish(output_folder(command, out), write)
