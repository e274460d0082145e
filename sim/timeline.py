"""Timelines: a dated CSV of what happened (the observations a backtest scores against), read and validated.

A timeline is a CSV with columns ``date`` (YYYY-MM-DD), ``event_kind`` (one of EVENT_KINDS),
``details`` and ``source``, optionally ``fatalities`` (whole number; empty = unknown) and
``crossing`` (torkham, chaman or empty); rows starting with ``#`` are comments. It is taken to
cover every event from its first date to ``observed_until`` (default: its last date).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from sim.errors import ConfigError
from sim.events import EVENT_KINDS      # the vocabulary of the event-data module (the contract)

__all__ = ["Timeline", "read_timeline", "parse_date"]

_REQUIRED = ("date", "event_kind", "details", "source")
_CROSSINGS = ("", "torkham", "chaman")


@dataclass(frozen=True)
class Timeline:
    """The events of a timeline file, sorted by date; ``lines`` are file line numbers (1 = header)."""

    path: str
    dates: np.ndarray                 # datetime64[D]
    kinds: np.ndarray                 # str, each in EVENT_KINDS
    details: np.ndarray
    sources: np.ndarray
    fatalities: np.ndarray            # float: NaN = not given
    crossings: np.ndarray
    lines: np.ndarray
    notes: tuple[str, ...] = ()

    def between(self, after: np.datetime64, upto: np.datetime64, kinds: Sequence[str]) -> np.ndarray:
        """True for the events of ``kinds`` dated in (after, upto]."""
        return (self.dates > after) & (self.dates <= upto) & np.isin(self.kinds, list(kinds))


def parse_date(text: str, where: str) -> np.datetime64:
    """A YYYY-MM-DD day; anything else is a ConfigError naming ``where``.

    >>> parse_date(" 2025-10-12 ", "--as-of")
    np.datetime64('2025-10-12')
    """
    try:
        if len(text.strip()) != 10:
            raise ValueError
        return np.datetime64(text.strip(), "D")
    except ValueError:
        raise ConfigError(f"{where}: date {text!r} is not YYYY-MM-DD") from None


def read_timeline(path: str | Path) -> Timeline:
    """Read and validate a timeline CSV; the first problem is one ConfigError naming file and line.

    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
    ...     _ = f.write("date,event_kind,details,source\\n2025-10-12,border_clash,Kurram,Reuters\\n")
    >>> read_timeline(f.name).kinds.tolist(); os.remove(f.name)
    ['border_clash']
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the timeline ({error.strerror or error})") from None
    notes = []
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        text = raw.decode("latin-1")
        notes.append(f"{path}: not UTF-8 (byte {raw[error.start]:#x} at offset {error.start}); read as latin-1")
    reader = csv.reader(text.splitlines())
    rows = [(reader.line_num, row) for row in reader                # line_num: the record's last line
            if row and any(cell.strip() for cell in row) and not row[0].lstrip().startswith("#")]
    if not rows:
        raise ConfigError(f"{path}: empty timeline; expected a header {','.join(_REQUIRED)}")
    header_line, header = rows[0]
    names = [cell.strip().lower() for cell in header]
    missing = [name for name in _REQUIRED if name not in names]
    if missing:
        raise ConfigError(f"{path} line {header_line}: header lacks column {missing[0]!r}; "
                          f"required: {', '.join(_REQUIRED)} (optional: fatalities, crossing)")
    if len(rows) == 1:
        raise ConfigError(f"{path}: the timeline has a header but no events")
    column = {name: names.index(name) for name in (*_REQUIRED, "fatalities", "crossing") if name in names}
    events = []
    for number, row in rows[1:]:
        where = f"{path} line {number}"
        if len(row) != len(names):
            raise ConfigError(f"{where}: {len(row)} fields, the header has {len(names)} (quote commas in details)")
        get = lambda name: row[column[name]].strip() if name in column else ""  # noqa: E731
        kind = get("event_kind")
        if kind not in EVENT_KINDS:
            raise ConfigError(f"{where}: unknown event_kind {kind!r}; known: {', '.join(EVENT_KINDS)}")
        if not get("source"):
            raise ConfigError(f"{where}: empty source; say where the event is reported")
        deaths = get("fatalities")
        if deaths and not (deaths.isdigit()):
            raise ConfigError(f"{where}: fatalities {deaths!r} is not a whole number >= 0 (leave empty if unknown)")
        crossing = get("crossing").lower()
        if crossing not in _CROSSINGS:
            raise ConfigError(f"{where}: crossing {crossing!r}; known: torkham, chaman or empty")
        events.append((parse_date(get("date"), where), kind, get("details"), get("source"),
                       float(deaths) if deaths else math.nan, crossing, number))
    events.sort(key=lambda event: (event[0], event[-1]))
    columns = list(zip(*events))
    return Timeline(str(path), np.array(columns[0], dtype="datetime64[D]"),
                    *(np.array(c, dtype=object) for c in columns[1:4]), np.array(columns[4], dtype=float),
                    np.array(columns[5], dtype=object), np.array(columns[6], dtype=np.int64), tuple(notes))
