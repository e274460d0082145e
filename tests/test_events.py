"""Event data in: mapping rules, dates, malformed files, encodings, the synthetic extracts, the command."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
from pathlib import Path

import numpy as np
import pytest

from sim.errors import ConfigError
from sim.events import (EVENT_KINDS, load_mapping, map_row, monthly_counts, parse_event_date, read_events,
                        command)

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent
PAK, AFG, TTP = "Military Forces of Pakistan (2018-)", "Military Forces of Afghanistan (2021-)", "TTP: Tehrik-i-Taliban Pakistan"
HEADER = ["event_id_cnty", "event_date", "year", "event_type", "sub_event_type", "actor1", "actor2", "country",
          "admin1", "location", "fatalities", "notes"]


def acled(event_type, sub_event_type, actor1="", actor2="", country="Pakistan", notes="", location="", admin1=""):
    return {"event_type": event_type, "sub_event_type": sub_event_type, "actor1": actor1, "actor2": actor2,
            "country": country, "notes": notes, "location": location, "admin1": admin1}


ACLED_CASES = [  # (row, fatalities, expected kind, expected crossing)
    (acled("Explosions/Remote violence", "Remote explosive/landmine/IED", TTP, "Police Forces of Pakistan (2018-)"),
     3, "ttp_attack", ""),
    (acled("Battles", "Armed clash", TTP, PAK), 11, "ttp_attack", ""),
    (acled("Battles", "Armed clash", TTP, PAK), 12, "mass_casualty_attack", ""),
    (acled("Violence against civilians", "Attack", "Jamaat-ul-Ahrar", "Civilians (Pakistan)"), 40,
     "mass_casualty_attack", ""),
    (acled("Explosions/Remote violence", "Suicide bomb", "BLA: Baloch Liberation Army", "Civilians (China)",
           notes="bomber hit a convoy of Chinese engineers"), 2, "attack_on_chinese_nationals", ""),
    (acled("Explosions/Remote violence", "Air/drone strike", PAK, TTP, "Afghanistan", "strikes on hideouts"), 6,
     "cross_border_strike", ""),
    (acled("Explosions/Remote violence", "Shelling/artillery/missile attack", PAK, "", "Afghanistan"), 0,
     "cross_border_strike", ""),
    (acled("Explosions/Remote violence", "Air/drone strike", PAK, TTP, "Afghanistan",
           "a strike in Kabul targeting the TTP chief"), 2, "decapitation_strike", ""),
    (acled("Battles", "Armed clash", PAK, AFG, "Pakistan", "exchange of fire at the border"), 5, "border_clash", ""),
    (acled("Battles", "Armed clash", AFG, PAK, "Afghanistan"), 5, "border_clash", ""),
    (acled("Battles", "Armed clash", AFG, PAK, "Pakistan", "fired on posts in retaliation for air strikes"), 4,
     "taliban_retaliation", ""),
    (acled("Battles", "Armed clash", AFG, PAK, "Pakistan", "Afghan forces captured two Pakistani border posts"), 9,
     "seizure", ""),
    (acled("Battles", "Armed clash", PAK, AFG, "Afghanistan", "troops crossed into Khost in a ground operation"), 12,
     "incursion", ""),
    (acled("Strategic developments", "Other", PAK, notes="Pakistan closed the Torkham crossing"), 0, "closure",
     "torkham"),
    (acled("Strategic developments", "Other", PAK, notes="border gate sealed", location="Chaman"), 0, "closure",
     "chaman"),
    (acled("Strategic developments", "Other", PAK, notes="Spin Boldak crossing partially reopened for pedestrians"),
     0, "partial_reopening", "chaman"),
    (acled("Strategic developments", "Other", PAK, notes="the Torkham crossing reopened for trade"), 0,
     "trade_reopening", "torkham"),
    (acled("Strategic developments", "Agreement", "Government of Pakistan (2018-)",
           notes="the two governments agreed to a ceasefire"), 0, "ceasefire", ""),
    (acled("Strategic developments", "Other", AFG, PAK, notes="the ceasefire collapsed as firing resumed"), 0,
     "ceasefire_collapse", ""),
    (acled("Strategic developments", "Other", "Government of Qatar", notes="Qatar offered to mediate"), 0,
     "mediation_offer", ""),
]


@pytest.mark.parametrize("row, deaths, kind, crossing", ACLED_CASES, ids=[c[2] + f"_{i}" for i, c in enumerate(ACLED_CASES)])
def test_every_acled_rule_maps_its_hand_made_row(row, deaths, kind, crossing):
    assert map_row(row, deaths, load_mapping("acled")) == (kind, crossing)


def test_acled_rules_cover_every_event_kind():
    covered = {case[2] for case in ACLED_CASES}
    assert covered == set(EVENT_KINDS)


@pytest.mark.parametrize("row", [
    acled("Battles", "Armed clash", PAK, TTP),                                   # army operation against the TTP
    acled("Protests", "Peaceful protest", "Protesters (Pakistan)"),
    acled("Explosions/Remote violence", "Air/drone strike", PAK, TTP, "Pakistan"),   # strike inside Pakistan
    acled("Strategic developments", "Other", PAK, notes="crossing closed", location="Ghulam Khan"),
])
def test_rows_no_rule_claims_map_to_nothing(row):
    assert map_row(row, 1, load_mapping("acled")) == (None, "")


UCDP_CASES = [
    ({"type_of_violence": "1", "dyad_name": "Government of Pakistan - TTP", "side_a": "Government of Pakistan",
      "side_b": "TTP", "country": "Pakistan"}, 4, "ttp_attack"),
    ({"type_of_violence": "3", "dyad_name": "TTP - Civilians", "side_a": "TTP", "side_b": "Civilians",
      "country": "Pakistan"}, 30, "mass_casualty_attack"),
    ({"type_of_violence": "1", "dyad_name": "Government of Afghanistan - Government of Pakistan",
      "country": "Afghanistan", "where_description": "Barmal town"}, 5, "cross_border_strike"),
    ({"type_of_violence": "1", "dyad_name": "Government of Afghanistan - Government of Pakistan",
      "country": "Afghanistan", "where_description": "border post near Spin Boldak"}, 5, "border_clash"),
    ({"type_of_violence": "1", "dyad_name": "Government of Afghanistan - Government of Pakistan",
      "country": "Pakistan", "where_description": "Kurram district"}, 5, "border_clash"),
    ({"type_of_violence": "1", "dyad_name": "Government of Pakistan - BLA", "side_a": "Government of Pakistan",
      "side_b": "BLA", "country": "Pakistan", "where_description": "attack on Chinese nationals, Karachi"}, 2,
     "attack_on_chinese_nationals"),
    ({"type_of_violence": "2", "dyad_name": "IS - TTP", "side_a": "IS", "side_b": "TTP", "country": "Afghanistan"}, 2,
     None),
]


@pytest.mark.parametrize("row, deaths, kind", UCDP_CASES)
def test_every_ucdp_rule_maps_its_hand_made_row(row, deaths, kind):
    assert map_row(row, deaths, load_mapping("ucdp"))[0] == kind


def test_the_mass_casualty_threshold_comes_from_the_mapping(tmp_path):
    text = (ROOT / "configs" / "mapping" / "acled.yaml").read_text().replace(
        "mass_casualty_min_fatalities: 12", "mass_casualty_min_fatalities: 20")
    (tmp_path / "m.yaml").write_text(text)
    row = ACLED_CASES[0][0]
    assert map_row(row, 19, load_mapping(tmp_path / "m.yaml"))[0] == "ttp_attack"
    assert map_row(row, 20, load_mapping(tmp_path / "m.yaml"))[0] == "mass_casualty_attack"


@pytest.mark.parametrize("text", ["2025-10-12", "12 October 2025", "12 Oct 2025", " 12  October 2025 ",
                                  "2025-10-12 00:00:00.000"])
def test_both_acled_date_forms_give_the_same_day(text):
    assert parse_event_date(text) == np.datetime64("2025-10-12")


def write_csv(path: Path, rows, header=HEADER, encoding="utf-8", prefix=b"") -> Path:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(prefix + out.getvalue().encode(encoding))
    return path


def attack_row(date="2025-10-12", deaths="3", notes="attack"):
    return ["PAK1", date, "2025", "Explosions/Remote violence", "Suicide bomb", TTP, "", "Pakistan", "KP", "Bannu",
            deaths, notes]


def test_a_file_mixing_date_forms_reads_in_order_with_line_numbers(tmp_path):
    path = write_csv(tmp_path / "a.csv", [attack_row("3 November 2025"), attack_row("2025-10-12", "20"),
                                          ["X", "2025-10-20", "2025", "Protests", "Peaceful protest", "P", "",
                                           "Pakistan", "", "", "0", ""]])
    events = read_events(path)
    assert events.dates.astype(str).tolist() == ["2025-10-12", "2025-11-03"]
    assert events.kinds.tolist() == ["mass_casualty_attack", "ttp_attack"]
    assert events.source_rows.tolist() == [3, 2]
    assert events.unmapped == {"Protests/Peaceful protest": 1}
    assert events.window == (np.datetime64("2025-10-12"), np.datetime64("2025-11-03"))


def test_rows_outside_from_to_are_counted_not_mapped(tmp_path):
    path = write_csv(tmp_path / "a.csv", [attack_row("2025-09-30"), attack_row("2025-10-01"), attack_row("2025-11-01")])
    events = read_events(path, start="1 October 2025", end="2025-10-31")
    assert (len(events), events.outside_window) == (1, 2)
    assert events.window == (np.datetime64("2025-10-01"), np.datetime64("2025-10-31"))
    assert sum(monthly_counts(events)["2025-10"].values()) == 1


@pytest.mark.parametrize("rows, message", [
    ([attack_row(), attack_row(date="32 October 2025")], "a.csv, line 3: unparsable date '32 October 2025'"),
    ([attack_row(), attack_row(), attack_row(deaths="-1")], "a.csv, line 4: fatalities '-1' must be a whole number"),
    ([attack_row(deaths="many")], "a.csv, line 2: fatalities 'many' is not a number"),
    ([attack_row(deaths="")], "a.csv, line 2: fatalities is empty"),
    ([attack_row(), attack_row()[:5]], "a.csv, line 3: 5 fields, the header has 12"),
])
def test_a_malformed_row_is_one_error_naming_file_and_line(tmp_path, rows, message):
    path = write_csv(tmp_path / "a.csv", rows)
    with pytest.raises(ConfigError) as error:
        read_events(path)
    assert str(error.value).startswith(f"{tmp_path}/{message}")
    assert "\n" not in str(error.value)


def test_line_numbers_count_multi_line_notes_and_blank_lines(tmp_path):
    path = write_csv(tmp_path / "a.csv", [attack_row(notes="first line\nsecond line"), [], attack_row(deaths="x")])
    with pytest.raises(ConfigError, match="line 5: fatalities 'x'"):
        read_events(path)


def test_a_missing_required_column_is_named(tmp_path):
    header = [h for h in HEADER if h != "actor1"]
    path = write_csv(tmp_path / "a.csv", [attack_row()[:5] + attack_row()[6:]], header=header)
    with pytest.raises(ConfigError, match="a.csv, line 1: no column 'actor1'"):
        read_events(path)


@pytest.mark.parametrize("content, message", [(b"", "empty file"), (",".join(HEADER).encode() + b"\n", "header only"),
                                              (b"a,b,c\n1,2,3\n", "cannot tell the format")])
def test_empty_header_only_and_foreign_files_give_a_clear_message(tmp_path, content, message):
    (tmp_path / "a.csv").write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        read_events(tmp_path / "a.csv")


def test_a_utf8_bom_is_stripped(tmp_path):
    path = write_csv(tmp_path / "a.csv", [attack_row()], prefix=b"\xef\xbb\xbf")
    events = read_events(path)
    assert (events.source_format, len(events), events.notes) == ("acled", 1, ())


def test_latin1_bytes_are_read_with_a_note(tmp_path):
    path = write_csv(tmp_path / "a.csv", [attack_row(), attack_row(notes="Pe\u00f1a attack")], encoding="latin-1")
    events = read_events(path)
    assert len(events) == 2
    assert events.notes == ("not valid UTF-8 (first bad byte on line 3); read as latin-1",)


def _generator():
    spec = importlib.util.spec_from_file_location("make_synthetic_acled", ROOT / "scripts" / "make_synthetic_acled.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_shipped_synthetic_files_are_what_the_generator_writes(tmp_path):
    _generator().main(tmp_path)
    for name in ("synthetic_acled.csv", "synthetic_acled.counts.json", "synthetic_ucdp.csv", "synthetic_ucdp.counts.json"):
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), f"{name}: rerun the script"


@pytest.mark.parametrize("name", ["synthetic_acled", "synthetic_ucdp"])
def test_the_synthetic_extract_maps_to_the_counts_the_generator_intended(name):
    intended = json.loads((DATA / f"{name}.counts.json").read_text())
    events = read_events(DATA / f"{name}.csv")
    counts = {k: int(np.sum(events.kinds == k)) for k in EVENT_KINDS}
    assert counts == {k: intended["counts"].get(k, 0) for k in EVENT_KINDS}
    assert events.unmapped == intended["unmapped"]
    assert len(events) + sum(events.unmapped.values()) == intended["n_rows"]
    for key, n in intended.get("crossings", {}).items():
        kind, crossing = key.split("/")
        assert int(np.sum((events.kinds == kind) & (events.crossings == crossing))) == n, key


def test_the_synthetic_acled_file_uses_both_date_forms_and_is_labelled():
    with open(DATA / "synthetic_acled.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    iso = sum(r["event_date"][:4].isdigit() for r in rows)
    assert 0 < iso < len(rows)
    assert all(r["notes"].startswith("SYNTHETIC") and r["event_id_cnty"].startswith("SYN") for r in rows)


def test_of_kind_keeps_window_and_provenance():
    events = read_events(DATA / "synthetic_acled.csv")
    closures = events.of_kind("closure")
    assert set(closures.kinds) == {"closure"} and closures.window == events.window
    assert closures.source_file == events.source_file and closures.unmapped == events.unmapped
    with pytest.raises(ConfigError, match="unknown event kind 'attack'"):
        events.of_kind("attack")


def test_command_prints_counts_and_writes_events_json(tmp_path, capsys):
    assert command([str(DATA / "synthetic_acled.csv"), "--out", str(tmp_path / "out"), "--from", "2025-10-01"]) == 0
    payload = json.loads((tmp_path / "out" / "events.json").read_text())
    assert payload["kind"] == "events" and payload["window"] == ["2025-10-01", "2025-12-31"]
    assert payload["n_rows"] == payload["n_mapped"] + payload["n_unmapped"] + payload["n_outside_window"]
    assert list(payload["monthly"]) == ["2025-10", "2025-11", "2025-12"]
    assert (tmp_path / "out" / "mapped_events.csv").read_text().startswith("date,kind,fatalities,crossing,source_line")
    out = capsys.readouterr().out
    assert "unmapped rows by type" in out and "Protests/Peaceful protest" in out


def test_command_reads_ucdp_with_explicit_format(tmp_path):
    assert command([str(DATA / "synthetic_ucdp.csv"), "--format", "ucdp", "--out", str(tmp_path / "out")]) == 0
    assert json.loads((tmp_path / "out" / "events.json").read_text())["source_format"] == "ucdp"


@pytest.mark.parametrize("extra", [[], ["--format", "ucdp"], ["--mapping", "no_such.yaml"]])
def test_command_bad_input_exits_2_with_one_line_and_leaves_nothing(tmp_path, capsys, extra):
    path = write_csv(tmp_path / "a.csv", [attack_row(), attack_row(date="someday")])
    target = tmp_path / "out"
    if extra:
        path = DATA / "synthetic_acled.csv"
    assert command([str(path), "--out", str(target), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert not target.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]
