"""The timeline format, the questions and baselines on hand-made data, and the command end to end."""

import dataclasses
import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from sim import backtest, scoring
from sim.errors import ConfigError
from sim.start import PEACE, StartState
from sim.timeline import start_mapping_at, start_overrides

EXAMPLE = Path(__file__).parent / "data" / "timeline_example.csv"
HEADER = "date,event_kind,details,source,fatalities,crossing\n"


def _write(tmp_path, text: str, name: str = "timeline.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# ---------------------------------------------------------------- the timeline format

def test_timeline_is_read_sorted_with_comments_skipped_and_line_numbers_kept(tmp_path):
    path = _write(tmp_path, "# synthetic\n" + HEADER + "2025-03-02,border_clash,b,src,2,\n"
                  "2025-03-01,closure,\"Torkham, shut\",src,,torkham\n")
    timeline = backtest.read_timeline(path)
    assert timeline.dates.astype(str).tolist() == ["2025-03-01", "2025-03-02"]
    assert timeline.kinds.tolist() == ["closure", "border_clash"]
    assert timeline.lines.tolist() == [4, 3]
    assert timeline.crossings.tolist() == ["torkham", ""]
    assert math.isnan(timeline.fatalities[0]) and timeline.fatalities[1] == 2


def test_timeline_with_a_byte_order_mark_and_only_the_required_columns_reads(tmp_path):
    path = _write(tmp_path, "\ufeffdate,event_kind,details,source\n2025-01-01,ceasefire,x,y\n")
    assert backtest.read_timeline(path).kinds.tolist() == ["ceasefire"]


def test_timeline_in_latin_1_reads_with_a_note(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"date,event_kind,details,source\n2025-01-01,ceasefire,caf\xe9,y\n")
    timeline = backtest.read_timeline(path)
    assert timeline.details.tolist() == ["café"] and "latin-1" in timeline.notes[0]


@pytest.mark.parametrize("text, message", [
    ("", "empty timeline"),
    ("# only a comment\n", "empty timeline"),
    (HEADER, "header but no events"),
    ("date,event_kind,source\n2025-01-01,closure,x\n", "line 1: header lacks column 'details'"),
    (HEADER + "2025-01-01,closure,a,s,,torkham\n2025-13-01,closure,a,s,,\n", "line 3: date '2025-13-01' is not YYYY-MM-DD"),
    (HEADER + "12 October 2025,closure,a,s,,\n", "line 2: date '12 October 2025' is not YYYY-MM-DD"),
    (HEADER + "2025-01-01,cease_fire,a,s,,\n", "line 2: unknown event_kind 'cease_fire'; known: ttp_attack"),
    (HEADER + "2025-01-01,closure,a,,,\n", "line 2: empty source"),
    (HEADER + "2025-01-01,ttp_attack,a,s,-3,\n", "line 2: fatalities '-3' is not a whole number"),
    (HEADER + "2025-01-01,closure,a,s,,khyber\n", "line 2: crossing 'khyber'"),
    (HEADER + "2025-01-01,closure,a, b,s,,\n", "line 2: 7 fields, the header has 6"),
])
def test_bad_timelines_give_one_line_naming_file_and_line(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        backtest.read_timeline(path)
    assert message in str(error.value) and str(path) in str(error.value) and "\n" not in str(error.value)


def test_missing_timeline_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the timeline"):
        backtest.read_timeline(tmp_path / "nope.csv")


def test_the_example_timeline_is_labelled_synthetic_and_valid():
    assert "SYNTHETIC" in EXAMPLE.read_text().splitlines()[0]
    timeline = backtest.read_timeline(EXAMPLE)
    assert set(timeline.kinds) <= set(backtest.EVENT_KINDS) and timeline.dates.size > 100


# ---------------------------------------------------------------- questions and baselines on hand-made data

def _runs(n: int, horizon: int, **columns) -> pa.Table:
    """A runs table: every column of the questions, filled with 'never' / zero unless given."""
    base = {q.run_column: np.full(n, np.nan) for q in backtest.BINARY_QUESTIONS.values()}
    base.update({q.run_column: np.zeros(n, np.int64) for q in backtest.COUNT_QUESTIONS.values()})
    base["crossings_closed_daily"] = [[0] * horizon] * n
    base.update(columns)
    return pa.table(base)


def _timeline(rows) -> backtest.Timeline:
    dates = np.array([np.datetime64(d, "D") for d, *_ in rows])
    kinds = np.array([k for _, k, *_ in rows], dtype=object)
    deaths = np.array([r[2] if len(r) > 2 else 0.0 for r in rows], dtype=float)
    empty = np.array([""] * len(rows), dtype=object)
    return backtest.Timeline("hand.csv", dates, kinds, empty, empty, deaths, empty, np.arange(len(rows)) + 2)


def test_binary_forecasts_and_baselines_on_a_hand_made_case():
    # history: clashes on 1 Jan and 1 Mar (day 1 and day 60 of 121); as of 1 May; a clash on 10 May
    timeline = _timeline([("2025-01-01", "ttp_attack"), ("2025-01-01", "border_clash"),
                          ("2025-03-01", "border_clash"), ("2025-05-10", "border_clash"), ("2025-12-31", "ttp_attack")])
    first_clash = np.array([3.0, 40.0, np.nan, 10.0])               # 2 of 4 runs clash within 30 days
    runs = {30: _runs(4, 30), 180: _runs(4, 180, first_clash_day=first_clash)}
    result = backtest.score_origin(timeline, "2025-05-01", runs, rng=np.random.default_rng(0))
    clash = next(f for f in result.binary if f.question == "clash_30d")
    assert clash.observed == 1 and clash.forecasts["model"]["p"] == 0.5
    assert clash.forecasts["model"]["brier"] == pytest.approx(0.25)
    # 30-day stretches (e − 30, e] for e = 30..121 (1 Jan = day 1): those holding day 1 or day 60
    ends = np.arange(30, 122)
    expected = np.mean(((ends - 30 < 1) & (1 <= ends)) | ((ends - 30 < 60) & (60 <= ends)))
    assert clash.forecasts["climatology"]["p"] == pytest.approx(expected)
    assert clash.forecasts["persistence"]["p"] == 0.0                # no clash in (1 Apr, 1 May]
    assert clash.forecasts["persistence"]["log"] == pytest.approx(-math.log(scoring.LOG_CLIP))


def test_reopening_counts_a_shut_crossing_that_opens_again_within_the_window():
    shut_then_open = [0] * 5 + [1] * 10 + [0] * 45
    still_shut = [0] * 5 + [3] * 55
    late = [0] * 50 + [2] * 5 + [0] * 5
    table = pa.table({"crossings_closed_daily": [shut_then_open, still_shut, late, [0] * 60]})
    question = backtest.BINARY_QUESTIONS["trade_reopening_60d"]
    assert question.happened(table, 60).tolist() == [True, False, True, False]
    assert question.happened(table, 54).tolist() == [True, False, False, False]


def test_reopening_counts_a_crossing_shut_at_the_start_that_opens_on_day_1():
    table = pa.table({"crossings_closed_daily": [[0] * 60, [1] * 60]})
    question = backtest.BINARY_QUESTIONS["trade_reopening_60d"]
    assert question.happened(table, 60, 1).tolist() == [True, False]     # torkham shut at day 0 (bit 0)
    assert question.happened(table, 60).tolist() == [False, False]       # from peace: nothing reopened


# ---------------------------------------------------------------- the situation on the as-of date

SITUATION = HEADER + """\
2025-01-01,ttp_attack,a,s,,
2025-03-01,closure,Torkham shut,s,,torkham
2025-03-10,trade_reopening,Torkham open,s,,torkham
2025-04-01,ceasefire,c,s,,
2025-04-15,ceasefire_collapse,c,s,,
2025-04-20,incursion,outside the 60-day look-back,s,,
2025-05-01,closure,both crossings shut,s,,
2025-05-02,seizure,before the ceasefire below,s,,
2025-05-05,ceasefire,c,s,,
2025-05-20,closure,Chaman shut again (already shut),s,,chaman
2025-05-30,ttp_attack,a,s,,
2025-06-01,ceasefire,renewed,s,,
2025-06-01,ttp_attack,a,s,,
2025-06-10,partial_reopening,Torkham to pedestrians,s,,torkham
2025-06-20,border_clash,b,s,,
2025-06-25,cross_border_strike,a strike moves no rung,s,,
2025-06-25,mediation_offer,Qatar and China offer talks,s,,
2025-06-28,ceasefire_collapse,c,s,,
2025-06-30,mass_casualty_attack,m,s,,
"""


def test_start_state_derived_from_a_hand_made_timeline(tmp_path):
    timeline = backtest.read_timeline(_write(tmp_path, SITUATION))
    # 27 June: the ceasefire of 5 May (renewed 1 June) holds, so only the 20 June clash sets the rung;
    # talks are not under way under a ceasefire; attacks in (28 May, 27 June]; both crossings shut since 1 May
    assert backtest.start_state_at(timeline, "2025-06-27") == StartState(
        name="timeline_2025-06-27", description="derived from the timeline up to 2025-06-27",
        date=dt.date(2025, 6, 27), rung=1, crossings=("partial", "closed"), crossings_since=(57.0, 57.0),
        ceasefire_since=53.0, recent_attack_ages=(28.0, 26.0), excitation_per_day=0.0)
    # 30 June: the ceasefire collapsed on 28 June, so the 2 May seizure counts (limited ground operation);
    # the Qatari offer of 25 June is talks under way; the 30 May attack has left the 30-day look-back
    assert backtest.start_state_at(timeline, "2025-06-30") == StartState(
        name="timeline_2025-06-30", description="derived from the timeline up to 2025-06-30",
        date=dt.date(2025, 6, 30), rung=3, crossings=("partial", "closed"), crossings_since=(60.0, 60.0),
        recent_attack_ages=(29.0, 0.0), excitation_per_day=0.0, mediator="qatar", offer_day=0.0)


def test_start_overrides_compose_into_the_same_start_state(tmp_path):
    from sim.config import compose_run_config

    timeline = backtest.read_timeline(_write(tmp_path, SITUATION))
    config = compose_run_config(["scenario=baseline", *start_overrides(start_mapping_at(timeline, "2025-06-30"))])
    assert config.start == backtest.start_state_at(timeline, "2025-06-30")


def test_a_peaceful_as_of_date_gives_the_peace_start(tmp_path):
    # everything resolved: the closure reopened, the offer older than 14 days, the strike moves no rung;
    # the timeline does not yet cover 30 days, so the scenario's stationary excitation stands
    timeline = backtest.read_timeline(_write(tmp_path, HEADER + "2025-01-01,mediation_offer,talks,s,,\n"
                                             "2025-01-02,closure,x,s,,torkham\n2025-01-03,partial_reopening,x,s,,torkham\n"
                                             "2025-01-08,trade_reopening,x,s,,torkham\n2025-01-10,ttp_attack,x,s,,\n"
                                             "2025-01-12,cross_border_strike,x,s,,\n"))
    state = backtest.start_state_at(timeline, "2025-01-20")
    assert state.is_peace and state.date == dt.date(2025, 1, 20)
    assert dataclasses.replace(state, name="peace", description="", date=None) == PEACE
    # a quiet month the timeline covers: peace, but with no attack the excitation is 0, not stationary
    quiet = backtest.start_state_at(timeline, "2025-02-15")
    assert dataclasses.replace(quiet, excitation_per_day=None).is_peace and quiet.excitation_per_day == 0.0


def test_count_forecasts_and_baselines_on_a_hand_made_case():
    rows = [("2025-01-01", "ttp_attack", 1)] + [(f"2025-04-{d:02d}", "ttp_attack", 2) for d in (5, 10, 20)]
    rows += [("2025-05-03", "mass_casualty_attack", 12), ("2025-05-20", "ttp_attack", 0), ("2025-12-31", "closure")]
    timeline = _timeline(rows)
    attacks = np.array([0, 1, 2, 2, 5])
    runs = {30: _runs(5, 30, attacks=attacks), 180: _runs(5, 180)}
    result = backtest.score_origin(timeline, "2025-04-30", runs, trailing_days=60, rng=np.random.default_rng(1))
    count = next(f for f in result.counts if f.question == "attacks_30d")
    assert count.observed == 2                                        # 3 May (mass-casualty) and 20 May
    assert count.forecasts["model"]["crps"] == pytest.approx(float(scoring.crps_ensemble(attacks, 2)))
    assert count.forecasts["persistence"]["mean"] == 3                # 5, 10, 20 April
    assert count.forecasts["persistence"]["crps"] == 1.0
    assert count.forecasts["poisson_trailing"]["mean"] == pytest.approx((3 + 0.5) / 60 * 30)
    deaths = next(f for f in result.counts if f.question == "attack_fatalities_30d")
    assert deaths.observed == 12 and deaths.forecasts["persistence"]["mean"] == 6


def test_durations_give_interval_pits_and_censored_ones_after_the_last_date():
    timeline = _timeline([("2025-01-01", "ttp_attack"), ("2025-01-11", "ceasefire"), ("2025-02-10", "ttp_attack")])
    days = np.array([1.5, 9.5, 10.0, np.nan])                           # ceasefire on day 10: runs 1, 2 ≤ 9 < …
    runs = {30: _runs(4, 30), 180: _runs(4, 180, first_ceasefire_day=days, first_clash_day=np.array([5.0] * 4))}
    result = backtest.score_origin(timeline, "2025-01-01", runs, rng=np.random.default_rng(2))
    by_event = {d.event: d for d in result.durations}
    assert by_event["ceasefire"].observed_day == 10 and 0.5 <= by_event["ceasefire"].pit <= 0.75
    assert by_event["clash"].observed_day is None and by_event["clash"].censored_day == 40
    assert by_event["clash"].pit == 1.0                                # every run had clashed by day 40


def test_unresolved_windows_are_skipped_with_a_reason():
    timeline = _timeline([("2025-01-01", "ttp_attack"), ("2025-02-01", "ttp_attack")])
    result = backtest.score_origin(timeline, "2025-01-20", {30: _runs(3, 30), 180: _runs(3, 180)},
                                   rng=np.random.default_rng(3))
    assert not result.binary and any("unresolved" in s for s in result.skipped)


def test_pit_of_the_models_own_runs_as_truth_is_uniform():
    """Known answer: a run of the model taken as the 'truth' has a uniform randomised PIT against the others."""
    import sim

    table = sim.run("baseline", overrides=["engine=fast", "n_runs=2000", "seed=5", "horizon_days=30"]).table
    attacks = np.asarray(table.column("attacks").to_numpy(), dtype=float)
    truth, ensemble = attacks[:1000], attacks[1000:]
    u = scoring.count_pit(ensemble, truth, rng=np.random.default_rng(4))
    assert stats.kstest(u, "uniform").pvalue > 0.001
    assert abs(u.mean() - 0.5) < 4 * math.sqrt(1 / 12 / u.size)
    p = np.mean(np.isfinite(np.asarray(table.column("first_clash_day").to_numpy(zero_copy_only=False), float)[1000:]))
    seen = np.isfinite(np.asarray(table.column("first_clash_day").to_numpy(zero_copy_only=False), float)[:1000])
    brier = scoring.brier_score(p, seen.astype(int))
    assert abs(brier.mean() - p * (1 - p)) < 4 * brier.std(ddof=1) / math.sqrt(brier.size)


# ---------------------------------------------------------------- the command

def test_backtest_command_end_to_end(tmp_path, capsys):
    out = tmp_path / "bt"
    code = backtest.command([str(EXAMPLE), "--as-of", "2025-07-01", "--as-of", "2025-09-01", "--runs", "2000",
                             "--out", str(out), "--", "seed=3"])
    assert code == 0
    report = json.loads((out / "backtest.json").read_text())
    assert report["kind"] == "backtest" and set(report["start_state"]) == {"2025-07-01", "2025-09-01"}
    september = report["start_state"]["2025-09-01"]                    # the example's situation on 1 September
    assert september["date"] == "2025-09-01" and september["rung"] == "border_clashes"
    assert september["crossings"] == {"torkham": {"state": "closed", "since_days": 12.0},
                                      "chaman": {"state": "closed", "since_days": 10.0}}
    assert september["mediation"] == {"mediator": "other", "offer_day": 0.0}
    assert report["start_state"]["2025-07-01"]["crossings"] == {}
    assert report["start_state_rules"] and "start from the situation" in report["start_state_note"]
    assert "start 2025-09-01: border_clashes; torkham closed 12 d" in capsys.readouterr().out
    reopen = {f["as_of"]: f["forecasts"]["model"]["p"] for f in report["binary"] if f["question"] == "trade_reopening_60d"}
    assert reopen["2025-09-01"] > reopen["2025-07-01"]                 # shut on 1 September: reopening likelier
    assert report["n_runs"] == 2000 and report["seed"] == 3 and report["as_of"] == ["2025-07-01", "2025-09-01"]
    assert {f["question"] for f in report["binary"]} >= {"ceasefire_14d", "trade_reopening_60d", "incursion_180d"}
    ceasefire = next(f for f in report["binary"] if f["question"] == "ceasefire_14d" and f["as_of"] == "2025-09-01")
    assert ceasefire["observed"] == 1                                  # 10 September in the example
    assert set(report["scores"]["binary"]) == {"model", "climatology", "persistence"}
    assert report["scores"]["counts"]["attacks_30d"]["model"]["n"] == 2
    assert len(report["pit"]["model"]["values"]) == len(report["counts"]) + 2 * len(backtest.DURATION_EVENTS)
    assert any("attacks_180d from 2025-09-01" in s for s in report["skipped"])   # window ends after the timeline
    for name in ("backtest_reliability", "backtest_pit"):
        assert (out / f"{name}.png").stat().st_size > 0 and (out / f"{name}.svg").is_file()


@pytest.mark.parametrize("argv, message", [
    (["--as-of", "2024-01-01"], "--as-of 2024-01-01: must lie in the timeline's span"),
    (["--as-of", "2025-07-01", "--", "n_runs=5"], "n_runs=5: set the runs with --runs"),
    (["--as-of", "2025-07-01", "--runs", "0"], "--runs 0: must be between 1"),
    (["--as-of", "July 2025"], "--as-of: date 'July 2025' is not YYYY-MM-DD"),
    (["--as-of", "2025-07-01", "--", "start=after_october_clashes"], "start=after_october_clashes: the start state"),
])
def test_backtest_command_bad_input_exits_2_with_one_line_and_no_output(tmp_path, capsys, argv, message):
    out = tmp_path / "bt"
    assert backtest.command([str(EXAMPLE), *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not out.exists() and not list(tmp_path.iterdir())


def test_backtest_command_on_a_bad_timeline_names_the_line(tmp_path, capsys):
    path = _write(tmp_path, HEADER + "2025-01-01,cease_fire,a,s,,\n")
    assert backtest.command([str(path), "--as-of", "2025-01-01", "--out", str(tmp_path / "bt")]) == 2
    assert "line 2: unknown event_kind 'cease_fire'" in capsys.readouterr().err
    assert not (tmp_path / "bt").exists()


def test_backtest_section_of_the_brief_shows_the_start_states_and_the_scores(tmp_path):
    from sim.report import AnalysisOutput, render_html
    from sim.report_backtest import backtest_html, backtest_section

    out = tmp_path / "bt"
    assert backtest.command([str(EXAMPLE), "--as-of", "2025-08-01", "--runs", "500", "--out", str(out)]) == 0
    data = json.loads((out / "backtest.json").read_text())
    section = backtest_section(AnalysisOutput(out, "backtest", data, file="backtest.json"))
    assert "Situation at each as-of date" in section.html and "low intensity" in section.html
    assert "Derivation rules" in section.html and "mean Brier" in section.html and "Caution" not in section.html
    assert len(section.figures) == 2
    html = render_html([section], title="t", bottom_line="")
    assert "Backtest" in html
    broken = backtest_section(AnalysisOutput(out, "backtest", {"kind": "backtest"}, file="backtest.json"))
    assert "not in the expected shape" in broken.note and len(broken.figures) == 2
    older = backtest_html({"start_state": None, "start_state_note": "runs start from peace", "scores": {"binary": {},
                                                                                                   "counts": {}}})
    assert "Caution:</strong> runs start from peace." in older
