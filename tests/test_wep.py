"""Tests for sim.wep: words of estimative probability."""

import pytest

from sim.errors import ConfigError
from sim.wep import ICD203, PHIA, bands, describe, describe_interval, format_percent, term_range

TABLES = {"icd203": ICD203, "phia": PHIA}
ALL_BANDS = [(name, band) for name, table in TABLES.items() for band in table]


def _ids(item):
    return f"{item[0]}:{item[1].term}"


def test_tables_are_ordered_and_in_unit_interval():
    for table in TABLES.values():
        assert len(table) == 7
        for a, b in zip(table, table[1:]):
            assert 0.0 <= a.low < a.high <= b.low < b.high <= 1.0


def test_icd203_is_contiguous_and_phia_has_the_six_gaps():
    assert all(a.high == b.low for a, b in zip(ICD203, ICD203[1:]))
    gaps = [(a.high, b.low) for a, b in zip(PHIA, PHIA[1:])]
    assert gaps == [(0.05, 0.10), (0.20, 0.25), (0.35, 0.40), (0.50, 0.55), (0.75, 0.80), (0.90, 0.95)]


@pytest.mark.parametrize("item", ALL_BANDS, ids=_ids)
def test_midpoint_maps_back_to_term(item):
    name, band = item
    mid = (band.low + band.high) / 2
    j = describe(mid, name)
    assert j.term == band.term
    assert not (j.in_gap or j.below_scale or j.above_scale)
    assert j.text.startswith(band.term + " (")


@pytest.mark.parametrize("item", ALL_BANDS, ids=_ids)
def test_round_trip_term_range_then_describe(item):
    name, band = item
    lo, hi = term_range(band.term.upper(), name)
    assert (lo, hi) == (band.low, band.high)
    assert describe((lo + hi) / 2, name).term == band.term


@pytest.mark.parametrize("variant", ["Very Likely", "  very   likely ", "VERY-LIKELY", "very_likely"])
def test_case_and_spacing_variants(variant):
    assert term_range(variant) == (0.80, 0.95)


@pytest.mark.parametrize(
    "alias, term",
    [("roughly even", "roughly even chance"), ("even chance", "roughly even chance"),
     ("Roughly even odds", "roughly even chance"), ("remote", "almost no chance"),
     ("highly probable", "very likely"), ("probable", "likely"), ("nearly certain", "almost certain")],
)
def test_icd203_official_synonyms(alias, term):
    assert term_range(alias, "icd203") == term_range(term, "icd203")


@pytest.mark.parametrize(
    "term, yardstick",
    [("highly likely", "icd203"), ("very likely", "phia"), ("roughly even", "phia"), ("maybe", "icd203")],
)
def test_vocabulary_is_strict_per_yardstick(term, yardstick):
    with pytest.raises(ConfigError) as err:
        term_range(term, yardstick)
    msg = str(err.value)
    assert repr(term) in msg and "\n" not in msg
    for band in TABLES[yardstick]:
        assert repr(band.term) in msg


def test_non_string_term_raises():
    with pytest.raises(ConfigError, match="0.5"):
        term_range(0.5)


@pytest.mark.parametrize("bad", ["nato", "", None])
def test_unknown_yardstick(bad):
    with pytest.raises(ConfigError) as err:
        describe(0.5, bad)
    msg = str(err.value)
    assert repr(bad) in msg and "'icd203'" in msg and "'phia'" in msg
    with pytest.raises(ConfigError):
        term_range("likely", bad)


def test_yardstick_name_is_case_insensitive():
    assert bands("ICD 203") is ICD203 and bands("PHIA") is PHIA


@pytest.mark.parametrize("i", range(6))
def test_every_phia_gap_reports_both_neighbours(i):
    lower, upper = PHIA[i], PHIA[i + 1]
    for p in (lower.high + 0.001, (lower.high + upper.low) / 2, upper.low - 0.001):
        j = describe(p, "phia")
        assert j.in_gap and j.term is None
        assert j.between == (lower.term, upper.term)
        assert f"(between {lower.term} and {upper.term})" in j.text
        assert j.text.startswith(format_percent(p))


def test_phia_gap_example_text():
    assert describe(0.07, "phia").text == "7 % (between remote and highly unlikely)"


def test_below_and_above_the_icd203_scale():
    below = describe(0.004)
    assert below.below_scale and below.term is None and below.text == "below the scale: 0.4 %"
    above = describe(0.996)
    assert above.above_scale and above.term is None and above.text == "above the scale: 99.6 %"
    assert describe(0.0).text == "below the scale: 0 %"
    assert describe(1.0).text == "above the scale: 100 %"
    # PHIA covers the whole unit interval.
    assert describe(0.0, "phia").term == "remote"
    assert describe(1.0, "phia").term == "almost certain"


def test_tiny_values_never_print_as_zero():
    assert describe(0.00004).text == "below the scale: 0.004 %"
    assert describe(0.99996).text == "above the scale: 99.996 %"


def test_boundary_rule_is_lower_inclusive():
    assert describe(0.01).term == "almost no chance"
    assert describe(0.05).term == "very unlikely"
    assert describe(0.20).term == "unlikely"
    assert describe(0.45).term == "roughly even chance"
    assert describe(0.55).term == "likely"
    assert describe(0.80).term == "very likely"
    assert describe(0.95).term == "almost certain"
    assert describe(0.99).term == "almost certain"
    assert describe(0.20 - 1e-6).term == "very unlikely"
    # Floating-point noise at a boundary does not flip the band.
    assert describe(1 - 0.8).term == "unlikely"


def test_phia_band_ends_are_inclusive():
    for band in PHIA:
        assert describe(band.low, "phia").term == band.term
        assert describe(band.high, "phia").term == band.term


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), float("inf"), "0.5", None, True])
def test_bad_probability_raises(bad):
    with pytest.raises(ConfigError) as err:
        describe(bad)
    assert repr(bad) in str(err.value)


def test_describe_interval_within_one_band():
    assert describe_interval(0.6, 0.7) == ["likely"]
    assert describe_interval(0.3, 0.3) == [describe(0.3).term]


def test_describe_interval_straddles_bands():
    assert describe_interval(0.5, 0.6) == ["roughly even chance", "likely"]
    assert describe_interval(0.1, 0.9) == [
        "very unlikely", "unlikely", "roughly even chance", "likely", "very likely"]
    assert describe_interval(0.15, 0.72, "phia") == [
        "highly unlikely", "unlikely", "realistic possibility", "likely"]


def test_describe_interval_uses_the_boundary_rule():
    assert describe_interval(0.1, 0.2) == ["very unlikely", "unlikely"]
    assert describe_interval(0.2, 0.3) == ["unlikely"]


def test_describe_interval_gap_and_off_scale():
    assert describe_interval(0.06, 0.08, "phia") == ["remote", "highly unlikely"]
    assert describe_interval(0.04, 0.12, "phia") == ["remote", "highly unlikely"]
    assert describe_interval(0.0, 0.005) == []
    assert describe_interval(0.0, 0.02) == ["almost no chance"]


def test_describe_interval_validates():
    with pytest.raises(ConfigError, match="lo=0.6"):
        describe_interval(0.6, 0.5)
    with pytest.raises(ConfigError, match="hi=1.2"):
        describe_interval(0.5, 1.2)
    with pytest.raises(ConfigError, match="'phiaa'"):
        describe_interval(0.1, 0.2, "phiaa")
