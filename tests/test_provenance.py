"""Every number traces to a source card or a stated assumption, and every card quotes its source."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from sim.config import CONFIG_DIR, load_scenario
from sim.errors import ConfigError
from sim.provenance import SEEDS_DIR, check_scenario_quotes, load_cards, normalise

ARTICLES_DIR = Path(__file__).resolve().parents[2] / "shared" / "seeds"
SCENARIOS = sorted(path.stem for path in (CONFIG_DIR / "scenario").glob("*.yaml"))


def article_text(card_id: str) -> str:
    path = ARTICLES_DIR / f"{card_id}.txt"
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} missing: CI runs with shared/ beside the project")
        pytest.skip(f"source articles not available at {ARTICLES_DIR}")
    return normalise(path.read_text(encoding="utf-8"))


def test_there_is_one_card_per_seed_article():
    cards = load_cards()
    articles = {card_id for card_id, card in cards.items() if card.kind == "article"}
    assert {card_id[:3] for card_id in articles} == {"000", "001", "002", "003", "004"}
    if ARTICLES_DIR.exists():
        assert articles == {path.stem for path in ARTICLES_DIR.glob("*.txt")}


@pytest.mark.parametrize("card_id", sorted(card for card, c in load_cards().items() if c.kind == "article"))
def test_article_card_quotes_are_short_and_verbatim(card_id):
    text = article_text(card_id)
    for quote in load_cards()[card_id].quotes:
        assert 2 <= len(quote.split()) <= 15, quote
        assert normalise(quote) in text, quote


def test_external_cards_carry_a_citation_and_how_they_were_verified():
    for path in SEEDS_DIR.glob("ext_*.yaml"):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert raw["kind"] == "external"
        assert raw.get("citation") and raw.get("verified_with"), path.name


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_parameter_of_every_scenario_has_a_source_and_derivation(name):
    if name == "base_scenario":
        pytest.skip("schema only")
    scenario = load_scenario(name)
    cards = load_cards()
    for spec in scenario.parameters:
        assert spec.derivation, spec.name
        assert spec.source == "assumption" or spec.source in cards, spec.name
        if spec.source != "assumption":
            assert spec.quote or spec.figure, spec.name


def test_a_quote_missing_from_its_card_is_rejected(baseline):
    import dataclasses

    spec = dataclasses.replace(baseline.parameter("ttp_attacks_per_year"), quote="words nobody wrote")
    doctored = dataclasses.replace(baseline, parameters=tuple(
        spec if item.name == spec.name else item for item in baseline.parameters))
    with pytest.raises(ConfigError, match="ttp_attacks_per_year.quote"):
        check_scenario_quotes(doctored)


def test_verbal_judgements_become_their_icd203_ranges(baseline):
    retaliation = baseline.parameter("p_retaliation_after_strike")
    assert retaliation.term == "likely" and (retaliation.low, retaliation.high) == (0.55, 0.80)
    success = baseline.parameter("p_mediation_success")
    assert success.term == "unlikely" and (success.low, success.high) == (0.20, 0.45)


def test_readme_parameter_table_is_the_baselines(baseline):
    from sim.provenance import markdown_parameter_table

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert markdown_parameter_table(baseline) in readme, "regenerate: python -m sim.provenance baseline"


def test_readme_ladder_table_is_the_baselines(baseline):
    from sim.provenance import markdown_ladder_table

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert markdown_ladder_table(baseline) in readme, "regenerate: python -m sim.provenance baseline"
