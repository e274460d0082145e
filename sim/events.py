"""Event data in: ACLED and UCDP GED exports mapped to the model's event kinds.

:func:`read_events` reads an export (csv module; UTF-8 with or without BOM, latin-1 as a fallback
with a note), detects its format from the header, parses both ACLED date forms ("2025-10-12",
"12 October 2025") and maps each row with the first matching rule of a YAML mapping
(``configs/mapping/<format>.yaml``, :func:`load_mapping`). Every row in the window gets one kind or
is counted in ``unmapped`` by type; a malformed row raises one ConfigError naming file and line.

>>> mapping = load_mapping("acled")
>>> row = {"event_type": "Explosions/Remote violence", "sub_event_type": "Suicide bomb",
...        "actor1": "TTP: Tehrik-i-Taliban Pakistan", "actor2": "Civilians (Pakistan)",
...        "country": "Pakistan", "notes": "", "location": "Bannu"}
>>> map_row(row, 3, mapping), map_row(row, 40, mapping)
(('ttp_attack', ''), ('mass_casualty_attack', ''))
"""

from __future__ import annotations

import csv
import datetime as _dt
import io as _io
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import yaml

from sim import io
from sim.commands import CommandParser, output_folder, publish, reports_errors
from sim.errors import ConfigError

__all__ = ["EVENT_KINDS", "FORMATS", "MAPPING_DIR", "MappedEvents", "MappingRule", "EventMapping",
           "load_mapping", "detect_format", "parse_event_date", "parse_fatalities", "map_row",
           "read_events", "monthly_counts", "command"]

EVENT_KINDS: tuple[str, ...] = (
    "ttp_attack", "mass_casualty_attack", "cross_border_strike", "decapitation_strike",
    "taliban_retaliation", "border_clash", "seizure", "closure", "partial_reopening",
    "trade_reopening", "ceasefire", "ceasefire_collapse", "mediation_offer",
    "attack_on_chinese_nationals", "incursion")

#: Shipped mappings, one per format.
MAPPING_DIR = Path(__file__).resolve().parent.parent / "configs" / "mapping"


@dataclass(frozen=True)
class SourceFormat:
    """What identifies an export format and which of its columns the reader needs."""

    signature: tuple[str, ...]      # all present in the header -> this format
    date: str
    fatalities: str
    required: tuple[str, ...]       # columns that must exist and be non-empty on every row


FORMATS: Mapping[str, SourceFormat] = {
    "acled": SourceFormat(("event_date", "event_type", "sub_event_type"), "event_date", "fatalities",
                          ("event_date", "event_type", "sub_event_type", "actor1", "country", "fatalities")),
    "ucdp": SourceFormat(("type_of_violence", "date_start", "best"), "date_start", "best",
                         ("date_start", "type_of_violence", "side_a", "side_b", "country", "best")),
}


@dataclass(frozen=True)
class MappedEvents:
    """A mapped event table: one entry per event, sorted by date, with provenance to the source rows."""

    dates: np.ndarray          # datetime64[D], sorted ascending
    kinds: np.ndarray          # str, each in EVENT_KINDS
    fatalities: np.ndarray     # int64, >= 0
    crossings: np.ndarray      # "torkham" | "chaman" | "" (closure/reopening events; else "")
    source_rows: np.ndarray    # int64 line number in the source file (1 = header)
    source_file: str
    source_format: str         # "acled" | "ucdp" | "timeline"
    window: tuple[np.datetime64, np.datetime64]   # first and last day covered (inclusive)
    unmapped: dict[str, int]   # unmapped_key -> rows in the window that mapped to nothing
    outside_window: int = 0    # rows read but outside --from/--to
    notes: tuple[str, ...] = ()  # what the reader had to work around (encoding, ...)

    def __len__(self) -> int:
        return len(self.kinds)

    def of_kind(self, *kinds: str) -> "MappedEvents":
        """The events of the given kinds (same window and provenance).

        >>> events = MappedEvents(np.array(["2025-01-02", "2025-01-05"], "datetime64[D]"),
        ...     np.array(["closure", "ttp_attack"]), np.array([0, 4]), np.array(["torkham", ""]),
        ...     np.array([2, 3]), "x.csv", "acled",
        ...     (np.datetime64("2025-01-01"), np.datetime64("2025-01-31")), {})
        >>> events.of_kind("ttp_attack").fatalities.tolist()
        [4]
        """
        unknown = [k for k in kinds if k not in EVENT_KINDS]
        if unknown:
            raise ConfigError(f"unknown event kind {unknown[0]!r}; known: {', '.join(EVENT_KINDS)}")
        keep = np.isin(self.kinds, list(kinds))
        return MappedEvents(self.dates[keep], self.kinds[keep], self.fatalities[keep], self.crossings[keep],
                            self.source_rows[keep], self.source_file, self.source_format, self.window,
                            dict(self.unmapped), self.outside_window, self.notes)


@dataclass(frozen=True)
class MappingRule:
    """One rule: all conditions hold -> ``kind`` (regexes compiled case-insensitive)."""

    kind: str
    equals: Mapping[tuple[str, ...], frozenset[str]]
    matches: Mapping[tuple[str, ...], re.Pattern]
    not_matches: Mapping[tuple[str, ...], re.Pattern]
    min_fatalities: int | None = None
    max_fatalities: int | None = None
    mass_casualty: bool = False
    crossing: bool = False

    def applies(self, row: Mapping[str, str], fatalities: int) -> bool:
        """True when every condition of the rule holds for ``row``."""
        def cells(columns):
            return [row.get(c) or "" for c in columns]
        if self.min_fatalities is not None and fatalities < self.min_fatalities:
            return False
        if self.max_fatalities is not None and fatalities > self.max_fatalities:
            return False
        return (all(any(_norm(v) in allowed for v in cells(cols)) for cols, allowed in self.equals.items())
                and all(any(p.search(v) for v in cells(cols)) for cols, p in self.matches.items())
                and not any(any(p.search(v) for v in cells(cols)) for cols, p in self.not_matches.items()))


@dataclass(frozen=True)
class EventMapping:
    """A whole mapping file: format, the mass-casualty threshold, crossing patterns and ordered rules."""

    format: str
    mass_casualty_min_fatalities: int
    unmapped_key: str
    crossings: Mapping[str, re.Pattern]
    rules: tuple[MappingRule, ...]
    source: str = ""

    def unmapped_label(self, row: Mapping[str, str]) -> str:
        """The ``unmapped`` key of a row (``unmapped_key`` filled from its columns)."""
        return self.unmapped_key.format_map(_Blank({k: (v or "").strip() for k, v in row.items() if k}))


class _Blank(dict):
    def __missing__(self, key):
        return ""


def _norm(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def _compile(where: str, pattern) -> re.Pattern:
    if not isinstance(pattern, str):
        raise ConfigError(f"{where}: must be a regex string, got {pattern!r}")
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as error:
        raise ConfigError(f"{where}: invalid regex {pattern!r} ({error})") from None


def _conditions(where: str, raw, regex: bool) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: must be a mapping of column: value, got {raw!r}")
    out = {}
    for column, value in raw.items():
        columns = tuple(c.strip() for c in str(column).split("|"))
        if regex:
            out[columns] = _compile(f"{where}.{column}", value)
        else:
            values = value if isinstance(value, list) else [value]
            out[columns] = frozenset(_norm(v) for v in values)
    return out


_RULE_KEYS = {"kind", "equals", "matches", "not_matches", "min_fatalities", "max_fatalities", "mass_casualty",
              "crossing", "name"}


def _rule(where: str, raw) -> MappingRule:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: must be a mapping with kind: and conditions, got {raw!r}")
    unknown = sorted(set(raw) - _RULE_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(sorted(_RULE_KEYS))}")
    if raw.get("kind") not in EVENT_KINDS:
        raise ConfigError(f"{where}.kind: {raw.get('kind')!r} is not an event kind; known: {', '.join(EVENT_KINDS)}")
    bounds = {}
    for key in ("min_fatalities", "max_fatalities"):
        value = raw.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ConfigError(f"{where}.{key}: must be a whole number >= 0, got {value!r}")
        bounds[key] = value
    return MappingRule(raw["kind"], _conditions(f"{where}.equals", raw.get("equals"), False),
                       _conditions(f"{where}.matches", raw.get("matches"), True),
                       _conditions(f"{where}.not_matches", raw.get("not_matches"), True),
                       mass_casualty=bool(raw.get("mass_casualty", False)), crossing=bool(raw.get("crossing", False)),
                       **bounds)


def load_mapping(name_or_path: str | Path) -> EventMapping:
    """A mapping by format name (``"acled"``, ``"ucdp"``: the shipped file) or from a YAML path.

    >>> m = load_mapping("ucdp"); m.format, m.mass_casualty_min_fatalities
    ('ucdp', 12)
    """
    path = MAPPING_DIR / f"{name_or_path}.yaml" if str(name_or_path) in FORMATS else Path(name_or_path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"mapping {path}: cannot read ({error.strerror or error})") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"mapping {path}: not valid YAML ({' '.join(str(error).split())})") from None
    if not isinstance(raw, Mapping) or not isinstance(raw.get("rules"), list) or not raw["rules"]:
        raise ConfigError(f"mapping {path}: needs a non-empty `rules:` list")
    if raw.get("format") not in FORMATS:
        raise ConfigError(f"mapping {path}: format: {raw.get('format')!r}; allowed: {', '.join(FORMATS)}")
    threshold = raw.get("mass_casualty_min_fatalities")
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
        raise ConfigError(f"mapping {path}: mass_casualty_min_fatalities must be a whole number >= 1, got {threshold!r}")
    crossings = raw.get("crossings") or {}
    if not isinstance(crossings, Mapping) or set(crossings) - {"torkham", "chaman"}:
        raise ConfigError(f"mapping {path}: crossings: must map torkham/chaman to regexes, got {crossings!r}")
    rules = tuple(_rule(f"mapping {path}: rules[{i}]", r) for i, r in enumerate(raw["rules"]))
    return EventMapping(raw["format"], threshold, str(raw.get("unmapped_key", "{event_type}/{sub_event_type}")),
                        {name: _compile(f"mapping {path}: crossings.{name}", p) for name, p in crossings.items()},
                        rules, str(path))


def map_row(row: Mapping[str, str], fatalities: int, mapping: EventMapping) -> tuple[str | None, str]:
    """(kind, crossing) of a row by the first matching rule; (None, "") when no rule matches."""
    for rule in mapping.rules:
        if rule.applies(row, fatalities):
            kind = rule.kind
            if rule.mass_casualty and fatalities >= mapping.mass_casualty_min_fatalities:
                kind = "mass_casualty_attack"
            crossing = ""
            if rule.crossing:
                text = " ".join(row.get(c) or "" for c in ("notes", "location", "where_description"))
                crossing = next((name for name, p in mapping.crossings.items() if p.search(text)), "")
            return kind, crossing
    return None, ""


def detect_format(header: Sequence[str]) -> str:
    """The export format whose signature columns are all in ``header``.

    >>> detect_format(["event_id_cnty", "event_date", "event_type", "sub_event_type"])
    'acled'
    """
    names = {h.strip().lower() for h in header}
    for name, spec in FORMATS.items():
        if set(spec.signature) <= names:
            return name
    wanted = "; ".join(f"{n}: {', '.join(s.signature)}" for n, s in FORMATS.items())
    raise ConfigError(f"cannot tell the format from the header (needs the columns of {wanted}); use --format")


_DATE_FORMATS = ("%Y-%m-%d", "%d %B %Y", "%d %b %Y", "%d-%B-%Y", "%d-%b-%Y", "%d/%m/%Y")


def parse_event_date(text: str) -> np.datetime64:
    """A day from ACLED's "2025-10-12" or "12 October 2025" (or UCDP's "2025-10-12 00:00:00.000").

    >>> bool(parse_event_date("12 October 2025") == parse_event_date("2025-10-12"))
    True
    """
    text = " ".join(text.split())
    candidates = (text, text.split(" ")[0]) if re.match(r"\d{4}-\d\d-\d\d[ T]", text) else (text,)
    for candidate in candidates:
        for fmt in _DATE_FORMATS:
            try:
                return np.datetime64(_dt.datetime.strptime(candidate, fmt).date(), "D")
            except ValueError:
                continue
    raise ValueError(f"unparsable date {text!r} (expected e.g. 2025-10-12 or 12 October 2025)")


def parse_fatalities(text: str) -> int:
    """A whole, non-negative fatality count ("3", "3.0"); ValueError otherwise.

    >>> parse_fatalities(" 7 ")
    7
    """
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"fatalities {text.strip()!r} is not a number") from None
    if not np.isfinite(value) or value < 0 or not value.is_integer():
        raise ValueError(f"fatalities {text.strip()!r} must be a whole number >= 0")
    return int(value)


def _decode(path: Path) -> tuple[str, tuple[str, ...]]:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read ({error.strerror or error})") from None
    try:
        return data.decode("utf-8-sig"), ()
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        return data.decode("latin-1"), (f"not valid UTF-8 (first bad byte on line {line}); read as latin-1",)


def _day(text, what: str) -> np.datetime64 | None:
    if text is None:
        return None
    try:
        return parse_event_date(str(text))
    except ValueError as error:
        raise ConfigError(f"{what}: {error}") from None


def read_events(path: str | Path, *, format: str | None = None, mapping: EventMapping | str | Path | None = None,
                start=None, end=None) -> MappedEvents:
    """Read and map an ACLED / UCDP GED export; ``start``/``end`` (inclusive dates) limit the window."""
    path = Path(path)
    text, notes = _decode(path)
    lines = iter(_io.StringIO(text, newline=""))
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise ConfigError(f"{path}: empty file (no header, no rows)") from None
    except csv.Error as error:
        raise ConfigError(f"{path}, line 1: not readable as CSV ({error})") from None
    header = [h.strip().lower() for h in header]
    fmt = format or detect_format(header)
    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt!r}: unknown; allowed: {', '.join(FORMATS)}")
    mapping = load_mapping(mapping if mapping is not None else fmt) if not isinstance(mapping, EventMapping) else mapping
    if mapping.format != fmt:
        raise ConfigError(f"mapping {mapping.source} is for {mapping.format} files, {path} is {fmt}")
    spec = FORMATS[fmt]
    missing = [c for c in spec.required if c not in header]
    if missing:
        raise ConfigError(f"{path}, line 1: no column {missing[0]!r}, which {fmt} files need "
                          f"(required: {', '.join(spec.required)})")
    start, end = _day(start, "--from"), _day(end, "--to")
    if start is not None and end is not None and end < start:
        raise ConfigError(f"--to {end} is before --from {start}")
    rows, unmapped, outside, first, last = [], Counter(), 0, None, None
    line = 1
    while True:
        row_line = line + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise ConfigError(f"{path}, line {row_line}: not readable as CSV ({error})") from None
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue                                           # a blank line is not a row
        if len(cells) != len(header):
            raise ConfigError(f"{path}, line {row_line}: {len(cells)} fields, the header has {len(header)}")
        row = dict(zip(header, cells))
        empty = [c for c in spec.required if not row[c].strip()]
        if empty:
            raise ConfigError(f"{path}, line {row_line}: {empty[0]} is empty")
        try:
            day = parse_event_date(row[spec.date])
            deaths = parse_fatalities(row[spec.fatalities])
        except ValueError as error:
            raise ConfigError(f"{path}, line {row_line}: {error}") from None
        if (start is not None and day < start) or (end is not None and day > end):
            outside += 1
            continue
        first = day if first is None or day < first else first
        last = day if last is None or day > last else last
        kind, crossing = map_row(row, deaths, mapping)
        if kind is None:
            unmapped[mapping.unmapped_label(row)] += 1
        else:
            rows.append((day, kind, deaths, crossing, row_line))
    if line == 1:
        raise ConfigError(f"{path}: header only, no event rows")
    if first is None and start is None and end is None:
        raise ConfigError(f"{path}: no event rows (only blank lines after the header)")
    window = (start if start is not None else first, end if end is not None else last)
    if window[0] is None or window[1] is None:
        raise ConfigError(f"{path}: no rows between --from and --to; give both to set an empty window")
    rows.sort(key=lambda r: (r[0], r[4]))
    columns = list(zip(*rows)) if rows else [[], [], [], [], []]
    return MappedEvents(np.array(columns[0], dtype="datetime64[D]"), np.array(columns[1], dtype=object),
                        np.array(columns[2], dtype=np.int64), np.array(columns[3], dtype=object),
                        np.array(columns[4], dtype=np.int64), str(path), fmt, window,
                        dict(sorted(unmapped.items())), outside, notes)


def monthly_counts(events: MappedEvents) -> dict[str, dict[str, int]]:
    """Events per calendar month ("2025-10") and kind, months of the window in order (zeros kept).

    >>> e = MappedEvents(np.array(["2025-01-31", "2025-03-01"], "datetime64[D]"), np.array(["closure", "ceasefire"]),
    ...     np.array([0, 0]), np.array(["", ""]), np.array([2, 3]), "x.csv", "acled",
    ...     (np.datetime64("2025-01-01"), np.datetime64("2025-03-31")), {})
    >>> monthly_counts(e)["2025-02"]["closure"], monthly_counts(e)["2025-03"]["ceasefire"]
    (0, 1)
    """
    months = np.arange(events.window[0].astype("datetime64[M]"), events.window[1].astype("datetime64[M]") + 1)
    table = {str(m): dict.fromkeys(EVENT_KINDS, 0) for m in months}
    for day, kind in zip(events.dates.astype("datetime64[M]"), events.kinds):
        table[str(day)][kind] += 1
    return table


def _mapped_csv(events: MappedEvents) -> str:
    out = _io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["date", "kind", "fatalities", "crossing", "source_line"])
    for row in zip(events.dates.astype(str), events.kinds, events.fatalities, events.crossings, events.source_rows):
        writer.writerow(row)
    return out.getvalue()


@reports_errors
def command(argv: Sequence[str]) -> int:
    """``python -m sim events <file.csv> [--format] [--mapping] [--from] [--to] [--out]``: map and count."""
    parser = CommandParser(prog="python -m sim events", description="Map an ACLED / UCDP GED export to the "
                           "model's event kinds; print counts per kind per month and the unmapped rows by type.")
    parser.add_argument("file", help="the export (CSV)")
    parser.add_argument("--format", choices=tuple(FORMATS), help="default: detected from the header")
    parser.add_argument("--mapping", help="mapping YAML (default: configs/mapping/<format>.yaml)")
    parser.add_argument("--from", dest="start", help="first day kept (2025-10-12 or 12 October 2025)")
    parser.add_argument("--to", dest="end", help="last day kept (inclusive)")
    parser.add_argument("--out", help="output folder (default: results/events_<timestamp>_<token>)")
    args = parser.parse_args(list(argv))
    events = read_events(args.file, format=args.format, mapping=args.mapping, start=args.start, end=args.end)
    mapping = load_mapping(args.mapping if args.mapping is not None else events.source_format)
    months = monthly_counts(events)
    totals = {k: int(np.sum(events.kinds == k)) for k in EVENT_KINDS}
    n_unmapped = sum(events.unmapped.values())
    payload = {"kind": "events", "title": f"Events mapped from {Path(args.file).name}",
               "source_file": events.source_file, "source_format": events.source_format,
               "mapping": mapping.source, "mass_casualty_min_fatalities": mapping.mass_casualty_min_fatalities,
               "window": [str(events.window[0]), str(events.window[1])],
               "n_rows": len(events) + n_unmapped + events.outside_window, "n_mapped": len(events),
               "n_unmapped": n_unmapped, "n_outside_window": events.outside_window,
               "totals": totals, "fatalities": {k: int(events.fatalities[events.kinds == k].sum()) for k in EVENT_KINDS},
               "monthly": months, "unmapped": events.unmapped, "notes": list(events.notes),
               "files": {"mapped_events": "mapped_events.csv"}}

    def write(staging: Path) -> None:
        io.write_json(staging / "events.json", payload)
        io.atomic_write_text(staging / "mapped_events.csv", _mapped_csv(events))

    folder = publish(output_folder("events", args.out), write)
    used = [k for k in EVENT_KINDS if totals[k]]
    print(f"{events.source_format} file {events.source_file}: {payload['n_rows']:,} rows, {len(events):,} mapped, "
          f"{n_unmapped:,} unmapped, {events.outside_window:,} outside the window "
          f"{events.window[0]} to {events.window[1]}")
    for note in events.notes:
        print(f"note: {note}")
    if used:
        print(f"  {'month':<8} " + " ".join(f"{k:>{max(len(k), 5)}}" for k in used))
        for month, counts in months.items():
            print(f"  {month:<8} " + " ".join(f"{counts[k]:>{max(len(k), 5)}}" for k in used))
        print(f"  {'total':<8} " + " ".join(f"{totals[k]:>{max(len(k), 5)}}" for k in used))
    if events.unmapped:
        print("unmapped rows by type:")
        for key, n in sorted(events.unmapped.items(), key=lambda item: (-item[1], item[0])):
            print(f"  {n:>6}  {key}")
    print(f"output: {folder}")
    return 0
