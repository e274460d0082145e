"""Words of estimative probability: verbal judgements <-> numbers.

Two yardsticks are supported:

* ``"icd203"`` - US Intelligence Community Directive 203 (2015). Seven
  contiguous bands from 1 % to 99 %; values outside are *below/above the
  scale*. The directive's official alternative wording ("remote",
  "highly improbable", "probable", ...) is accepted as input.
* ``"phia"`` - UK Professional Head of Intelligence Assessment probability
  yardstick (2019). Seven bands from 0 to 1 with deliberate gaps between
  them (0.05-0.10, 0.20-0.25, ...); a value in a gap is reported with the
  number and both neighbouring terms.

Boundary rule: bands are closed ranges ``[low, high]``; where two bands share
an endpoint (ICD 203 has no gaps) the *upper* band wins, i.e. bands are
lower-inclusive, so ``describe(0.20).term == "unlikely"``. Comparisons use an
absolute tolerance of 1e-9 so that ``1 - 0.8`` counts as 0.20.

>>> term_range("Very Likely")
(0.8, 0.95)
>>> describe(0.62).text
'likely (62 %)'
>>> describe(0.07, "phia").text
'7 % (between remote and highly unlikely)'
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from sim.errors import ConfigError

__all__ = [
    "Band",
    "Judgement",
    "ICD203",
    "PHIA",
    "YARDSTICKS",
    "bands",
    "term_range",
    "describe",
    "describe_interval",
    "format_percent",
]

_TOL = 1e-9


@dataclass(frozen=True)
class Band:
    """One verbal term and the probability range it stands for.

    >>> Band("likely", 0.55, 0.80).term
    'likely'
    """

    term: str
    low: float
    high: float


ICD203: tuple[Band, ...] = (
    Band("almost no chance", 0.01, 0.05),
    Band("very unlikely", 0.05, 0.20),
    Band("unlikely", 0.20, 0.45),
    Band("roughly even chance", 0.45, 0.55),
    Band("likely", 0.55, 0.80),
    Band("very likely", 0.80, 0.95),
    Band("almost certain", 0.95, 0.99),
)

PHIA: tuple[Band, ...] = (
    Band("remote", 0.0, 0.05),
    Band("highly unlikely", 0.10, 0.20),
    Band("unlikely", 0.25, 0.35),
    Band("realistic possibility", 0.40, 0.50),
    Band("likely", 0.55, 0.75),
    Band("highly likely", 0.80, 0.90),
    Band("almost certain", 0.95, 1.0),
)

YARDSTICKS: dict[str, tuple[Band, ...]] = {"icd203": ICD203, "phia": PHIA}

# Alternative wording each yardstick itself sanctions (ICD 203's second row of
# terms, plus the short forms "roughly even" / "even chance"). PHIA has none.
_ALIASES: dict[str, dict[str, str]] = {
    "icd203": {
        "remote": "almost no chance",
        "highly improbable": "very unlikely",
        "improbable": "unlikely",
        "improbably": "unlikely",
        "roughly even odds": "roughly even chance",
        "roughly even": "roughly even chance",
        "even chance": "roughly even chance",
        "probable": "likely",
        "probably": "likely",
        "highly probable": "very likely",
        "almost certainly": "almost certain",
        "nearly certain": "almost certain",
    },
    "phia": {},
}


@dataclass(frozen=True)
class Judgement:
    """A probability put into words; ``text`` is ready to drop into a sentence.

    ``term`` is None when ``p`` falls in a gap or off the scale; ``between``
    then holds the neighbouring term(s).

    >>> j = describe(0.004)
    >>> (j.term, j.below_scale, j.text)
    (None, True, 'below the scale: 0.4 %')
    """

    term: str | None
    p: float
    text: str
    in_gap: bool = False
    below_scale: bool = False
    above_scale: bool = False
    between: tuple[str, ...] = ()


def _yardstick_key(yardstick: str) -> str:
    key = ""
    if isinstance(yardstick, str):
        key = "".join(ch for ch in yardstick.lower() if ch not in " -_")
    if key not in YARDSTICKS:
        raise ConfigError(
            f"unknown yardstick {yardstick!r}; allowed: "
            + ", ".join(repr(k) for k in YARDSTICKS)
        )
    return key


def bands(yardstick: str = "icd203") -> tuple[Band, ...]:
    """The band table of a yardstick (name is case-insensitive).

    >>> [b.term for b in bands("PHIA")][:2]
    ['remote', 'highly unlikely']
    """
    return YARDSTICKS[_yardstick_key(yardstick)]


def _normalise_term(term: str) -> str:
    return " ".join(term.lower().replace("-", " ").replace("_", " ").split())


def term_range(term: str, yardstick: str = "icd203") -> tuple[float, float]:
    """Probability range ``(low, high)`` of a verbal term, case-insensitive.

    >>> term_range("realistic possibility", "phia")
    (0.4, 0.5)
    >>> term_range("roughly even")
    (0.45, 0.55)
    """
    key = _yardstick_key(yardstick)
    table = YARDSTICKS[key]
    wanted = _normalise_term(term) if isinstance(term, str) else None
    if wanted is not None:
        wanted = _ALIASES[key].get(wanted, wanted)
        for band in table:
            if band.term == wanted:
                return (band.low, band.high)
    allowed = ", ".join(repr(b.term) for b in table)
    extra = ""
    if _ALIASES[key]:
        extra = "; also accepted: " + ", ".join(repr(a) for a in _ALIASES[key])
    raise ConfigError(f"unknown {key} term {term!r}; allowed: {allowed}{extra}")


def _check_p(p: float, name: str = "p") -> float:
    ok = isinstance(p, numbers.Real) and not isinstance(p, bool)
    if ok:
        p = float(p)
        ok = math.isfinite(p) and 0.0 <= p <= 1.0
    if not ok:
        raise ConfigError(f"{name}={p!r} is not a probability; allowed: a number in [0, 1]")
    return p


def format_percent(p: float) -> str:
    """Percentage with one decimal (trailing ``.0`` dropped), more near 0 % and 100 %.

    Never rounds a value strictly inside (0, 1) to "0 %" or "100 %".

    >>> [format_percent(x) for x in (0.07, 0.625, 0.004, 0.0004, 0.99996, 1.0)]
    ['7 %', '62.5 %', '0.4 %', '0.04 %', '99.996 %', '100 %']
    """
    pct = 100.0 * p
    edge = min(pct, 100.0 - pct)
    decimals = 1
    if 0.0 < edge < 0.1:
        decimals = min(12, max(1, 1 - math.floor(math.log10(edge))))
    text = f"{pct:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} %"


def _locate(p: float, table: tuple[Band, ...]) -> tuple[str, int]:
    """('band', i), ('gap', i) for the gap above band i, ('below', 0) or ('above', 0)."""
    if p < table[0].low - _TOL:
        return ("below", 0)
    if p > table[-1].high + _TOL:
        return ("above", 0)
    for i in range(len(table) - 1, -1, -1):
        if p >= table[i].low - _TOL:
            return ("band", i) if p <= table[i].high + _TOL else ("gap", i)
    raise AssertionError("unreachable")  # pragma: no cover


def describe(p: float, yardstick: str = "icd203") -> Judgement:
    """Put a probability into the yardstick's words (lower-inclusive bands).

    >>> describe(0.2).term, describe(0.1999).term
    ('unlikely', 'very unlikely')
    >>> describe(0.996).text
    'above the scale: 99.6 %'
    """
    table = bands(yardstick)
    p = _check_p(p)
    pct = format_percent(p)
    where, i = _locate(p, table)
    if where == "below":
        return Judgement(None, p, f"below the scale: {pct}", below_scale=True,
                         between=(table[0].term,))
    if where == "above":
        return Judgement(None, p, f"above the scale: {pct}", above_scale=True,
                         between=(table[-1].term,))
    if where == "gap":
        lo_term, hi_term = table[i].term, table[i + 1].term
        return Judgement(None, p, f"{pct} (between {lo_term} and {hi_term})",
                         in_gap=True, between=(lo_term, hi_term))
    return Judgement(table[i].term, p, f"{table[i].term} ({pct})")


def describe_interval(lo: float, hi: float, yardstick: str = "icd203") -> list[str]:
    """Terms whose bands the interval ``[lo, hi]`` touches, lowest first.

    Uses the same boundary rule as :func:`describe`. An interval lying wholly
    in a PHIA gap returns the two neighbouring terms; one wholly off the
    ICD 203 scale returns ``[]``. More than one term means the interval
    straddles bands.

    >>> describe_interval(0.5, 0.6)
    ['roughly even chance', 'likely']
    >>> describe_interval(0.06, 0.08, "phia")
    ['remote', 'highly unlikely']
    """
    table = bands(yardstick)
    lo, hi = _check_p(lo, "lo"), _check_p(hi, "hi")
    if lo > hi:
        raise ConfigError(f"interval lo={lo!r} > hi={hi!r}; allowed: lo <= hi")
    touched = []
    for i, band in enumerate(table):
        shared = i + 1 < len(table) and abs(table[i + 1].low - band.high) <= _TOL
        below_top = lo < band.high - _TOL if shared else lo <= band.high + _TOL
        if hi >= band.low - _TOL and below_top:
            touched.append(band.term)
    if not touched:
        j = describe(lo, yardstick)
        if j.in_gap:
            return list(j.between)
    return touched
