"""Source cards (``seeds/*.yaml``) and the check that every cited quote is on its card.

A card records what one article or published study contributes, with short verbatim quotes.
A scenario parameter cites a card by id and quotes it; :func:`check_scenario_quotes` makes sure
that quote really is on that card, so a reader can follow every number back to its words.

>>> cards = load_cards()
>>> cards["001_90e6efe186f9c982"].kind
'article'
>>> normalise("Pakistan’s  “strategic depth”")
'pakistan\\'s "strategic depth"'
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from sim.errors import ConfigError

__all__ = ["SEEDS_DIR", "SourceCard", "load_cards", "card_ids", "normalise", "check_scenario_quotes",
           "parameter_rows", "markdown_parameter_table", "markdown_ladder_table"]

SEEDS_DIR = Path(__file__).resolve().parents[1] / "seeds"
_CARD_KEYS = {"id", "kind", "title", "claims"}


@dataclass(frozen=True)
class SourceCard:
    """One source: an article from the seeds or an external study, with its quoted claims."""

    id: str
    kind: str
    title: str
    outlet: str
    citation: str
    quotes: tuple[str, ...]
    claim_keys: tuple[str, ...]


def normalise(text: str) -> str:
    """Lower case, straight quotes and single spaces, for comparing quotes."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return re.sub(r"\s+", " ", text).strip().lower()


@functools.lru_cache(maxsize=8)
def load_cards(directory: str | Path = SEEDS_DIR) -> dict[str, SourceCard]:
    """Read every ``*.yaml`` card in ``directory``; a malformed card is a ConfigError."""
    cards = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as error:
            raise ConfigError(f"{path.name}: unreadable source card ({type(error).__name__})") from None
        if not isinstance(raw, dict) or not _CARD_KEYS <= set(raw):
            raise ConfigError(f"{path.name}: a source card needs the keys {', '.join(sorted(_CARD_KEYS))}")
        if str(raw["id"]) != path.stem:
            raise ConfigError(f"{path.name}: card id {raw['id']!r} differs from its file name")
        claims = raw.get("claims") or []
        cards[path.stem] = SourceCard(
            id=path.stem,
            kind=str(raw["kind"]),
            title=str(raw["title"]),
            outlet=str(raw.get("outlet") or ""),
            citation=str(raw.get("citation") or ""),
            quotes=tuple(str(claim.get("quote", "")) for claim in claims),
            claim_keys=tuple(str(claim.get("key", "")) for claim in claims),
        )
    return cards


def card_ids() -> set[str]:
    """Ids of the project's source cards."""
    return set(load_cards())


def check_scenario_quotes(scenario) -> None:
    """Every parameter citing a card must quote (part of) one of that card's quotes."""
    cards = load_cards()
    for spec in scenario.parameters:
        card = cards.get(spec.source)
        if card is None or not spec.quote:
            continue
        wanted = normalise(spec.quote)
        if not any(wanted in normalise(quote) for quote in card.quotes):
            raise ConfigError(
                f"scenario.parameters.{spec.name}.quote: {spec.quote!r} is not among the quotes of card {spec.source}")


def parameter_rows(scenario) -> list[dict]:
    """One row per parameter for tables: name, value, range, source, quote or figure, derivation."""
    cards = load_cards()
    rows = []
    for spec in scenario.parameters:
        card = cards.get(spec.source)
        rows.append({
            "name": spec.name,
            "value": spec.value,
            "range": (spec.low, spec.high) if spec.uncertain else None,
            "dist": spec.dist,
            "term": spec.term,
            "source": spec.source,
            "source_title": card.title if card else "",
            "evidence": spec.quote or spec.figure,
            "derivation": spec.derivation,
        })
    return rows


def _number(value: float) -> str:
    return f"{value:,.6g}" if abs(value) >= 1000 else f"{value:.6g}"


def markdown_parameter_table(scenario) -> str:
    """The scenario's parameters as a Markdown table: value, range, source, evidence, derivation."""
    lines = ["| parameter | value | range (distribution) | source | evidence | derivation |",
             "|---|---|---|---|---|---|"]
    for row in parameter_rows(scenario):
        span = "fixed"
        if row["range"] is not None:
            span = f"{_number(row['range'][0])} – {_number(row['range'][1])} ({row['dist']})"
        if row["term"]:
            span += f"; ICD 203 “{row['term']}”"
        evidence = row["evidence"].replace("|", "\\|")
        evidence = f"“{evidence}”" if evidence else ""
        derivation = " ".join(row["derivation"].split()).replace("|", "\\|")
        lines.append(f"| `{row['name']}` | {_number(row['value'])} | {span} | {row['source']} | {evidence} | {derivation} |")
    return "\n".join(lines)


def markdown_ladder_table(scenario) -> str:
    """The escalation matrix as a Markdown table: from rung, on event, to rung, probability."""
    lines = ["| from rung | on event | to rung | probability (range) | parameter |", "|---|---|---|---|---|"]
    for transition in scenario.transitions:
        spec = scenario.parameter(transition.parameter)
        span = f" ({_number(spec.low)} – {_number(spec.high)})" if spec.uncertain else ""
        lines.append(f"| {transition.state} | {transition.event} | {transition.target} | "
                     f"{_number(spec.value)}{span} | `{spec.name}` |")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m sim.provenance [scenario]: the README's two tables
    import sys

    from sim.config import load_scenario

    chosen = load_scenario(sys.argv[1] if len(sys.argv) > 1 else "baseline")
    print(markdown_ladder_table(chosen), markdown_parameter_table(chosen), sep="\n\n")
