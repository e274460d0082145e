"""Estimative wording: a probability and its 95 % interval in the words of a yardstick.

The ICD 203 or PHIA band a probability falls in (:mod:`sim.wep`), how to say so when its interval
straddles two or more bands, and the number printed beside the words with as many decimals as
it takes to keep the interval's ends apart.

>>> estimative_sentence("Pakistan launches a conventional incursion or worse within 365 days",
...                     0.27, (0.26, 0.28))
'It is unlikely (27 %, 95 % CI 26–28 %) that Pakistan launches a conventional incursion or worse within 365 days.'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from sim import wep

__all__ = ["YARDSTICK_NAMES", "EstimativeWords", "estimative_words", "estimative_sentence", "percent_with_ci"]

YARDSTICK_NAMES = {"icd203": "ICD 203", "phia": "PHIA"}
_COUNT_WORDS = {2: "two", 3: "three", 4: "four", 5: "five"}
#: Yardstick terms that are nouns ("There is a ... that"); the others are adjectives ("It is ... that").
_NOUN_TERMS = {"almost no chance": "almost no chance", "roughly even chance": "a roughly even chance",
               "remote": "a remote chance", "realistic possibility": "a realistic possibility"}


def _decimals(lo: float, hi: float) -> int:
    width = abs(hi - lo)
    return 0 if width >= 0.02 - 1e-12 else 1 if width >= 0.002 - 1e-12 else 2


def percent_with_ci(p: float, ci95: Sequence[float]) -> tuple[str, str]:
    """``p`` and its CI as percentages, with as many decimals as the interval's width warrants.

    >>> percent_with_ci(0.27, (0.26, 0.28))
    ('27 %', '26–28 %')
    >>> percent_with_ci(0.1106, (0.1022, 0.1196))
    ('11.1 %', '10.2–12.0 %')
    >>> percent_with_ci(0.9995, (0.9982, 0.99996))
    ('99.950 %', '99.820–99.996 %')
    """
    lo, hi = float(ci95[0]), float(ci95[1])
    d = max(_decimals(lo, hi), *(_edge_decimals(x) for x in (p, lo, hi)))
    return f"{100 * p:.{d}f} %", f"{100 * lo:.{d}f}–{100 * hi:.{d}f} %"


def _edge_decimals(x: float) -> int:
    """Decimals that keep a value strictly inside (0, 1) from printing as 0 % or 100 %."""
    edge = min(x, 1.0 - x)
    return 0 if edge <= 0 or edge >= 0.005 else min(6, math.ceil(-math.log10(100 * edge)))


@dataclass(frozen=True)
class EstimativeWords:
    """The yardstick words for an estimate: ``phrase`` covers the point and its 95 % CI."""

    phrase: str
    terms: tuple[str, ...]
    bands_spanned: int  # bands the 95 % CI touches (0 when it lies wholly off the scale)
    qualifier: str = ""

    @property
    def straddles(self) -> bool:
        return self.bands_spanned >= 2

    @property
    def label(self) -> str:
        """The phrase with a short qualifier, for table cells ("almost certain (above the scale)")."""
        return f"{self.phrase} ({self.qualifier.split(' the ')[0]} the scale)" if self.qualifier else self.phrase


def estimative_words(p: float, ci95: Sequence[float], yardstick: str = "icd203") -> EstimativeWords:
    """Words for ``p`` whose CI may reach into neighbouring bands ("unlikely to roughly even chance").

    >>> estimative_words(0.46, (0.44, 0.48)).phrase
    'unlikely to roughly even chance'
    >>> estimative_words(0.07, (0.06, 0.08), "phia").phrase
    'between a remote chance and highly unlikely'
    >>> estimative_words(0.004, (0.002, 0.007)).qualifier
    'below the ICD 203 scale'
    """
    lo, hi = float(ci95[0]), float(ci95[1])
    order = [band.term for band in wep.bands(yardstick)]
    point = wep.describe(p, yardstick)
    touched = wep.describe_interval(lo, hi, yardstick)
    ends = wep.describe(lo, yardstick), wep.describe(hi, yardstick)
    if all(end.in_gap for end in ends) and ends[0].between == ends[1].between:
        touched = []  # wholly inside one of PHIA's gaps: no band is touched
    own = [point.term] if point.term else list(point.between)
    terms = tuple(term for term in order if term in set(touched) | set(own))
    qualifier = ""
    if point.below_scale or point.above_scale:
        qualifier = f"{'below' if point.below_scale else 'above'} the {YARDSTICK_NAMES[yardstick.lower()]} scale"
    if point.in_gap and terms == tuple(point.between):
        phrase = f"between {_NOUN_TERMS.get(terms[0], terms[0])} and {terms[1]}"
    elif len(terms) == 1:
        phrase = terms[0]
    else:
        phrase = f"{terms[0]} to {terms[-1]}"
    return EstimativeWords(phrase, terms, len(touched), qualifier)


def estimative_sentence(clause: str, p: float, ci95: Sequence[float], yardstick: str = "icd203") -> str:
    """A key judgement: the yardstick's words, the number and its 95 % CI, then what is judged.

    >>> estimative_sentence("the conflict de-escalates", 0.46, (0.44, 0.48))
    'It is unlikely to roughly even chance (46 %, 95 % CI 44–48 %; the interval spans two bands) that the conflict de-escalates.'
    >>> estimative_sentence("X happens", 0.5, (0.49, 0.51))
    'There is a roughly even chance (50 %, 95 % CI 49–51 %) that X happens.'
    """
    words = estimative_words(p, ci95, yardstick)
    p_text, ci_text = percent_with_ci(p, ci95)
    notes = [f"{p_text}, 95 % CI {ci_text}"]
    if words.qualifier:
        notes.append(words.qualifier)
    if words.straddles:
        notes.append(f"the interval spans {_COUNT_WORDS.get(words.bands_spanned, words.bands_spanned)} bands")
    numbers = "; ".join(notes)
    first = words.terms[0] if words.terms else ""
    if words.phrase.startswith("between") or first not in _NOUN_TERMS:
        return f"It is {words.phrase} ({numbers}) that {clause}."
    if len(words.terms) == 1:
        return f"There is {_NOUN_TERMS[first]} ({numbers}) that {clause}."
    return f"The chance that {clause} is assessed as {words.phrase} ({numbers})."
