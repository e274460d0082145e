"""Escalation paths: exact answers on a hand-made table, and agreement with the run records' own
columns (max_rung, days_at_<rung>, rung_daily) on the real model."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import sim
from sim import paths as P
from sim.analysis import wilson_interval
from sim.model import RUNGS

HORIZON = 100.0


@pytest.fixture(scope="module")
def hand_made():
    """Four runs with known paths (horizon 100 days)."""
    table = pa.table({
        "run_index": [0, 1, 2, 3],
        "outcome": ["limited_war", "protracted_low_intensity", "protracted_low_intensity", "de_escalation"],
        "rung_path": [[0, 1, 3, 2], [0, 1, 0, 1, 0, 1], [0, 1, 0, 1, 0, 1], [0]],
        "rung_path_days": pa.array([[0, 10, 10, 40], [0, 5, 15, 20, 30, 50], [0, 1, 2, 3, 4, 5], [0]],
                                   type=pa.list_(pa.float32())),
        "first_clash_day": [10.0, 5.0, 1.0, np.nan],
        "first_seizure_day": [10.0, np.nan, np.nan, np.nan],
        "first_ceasefire_day": [np.nan, 12.0, np.nan, 0.0],
    })
    return P.ladder_paths(table, HORIZON)


def test_path_codes_follow_the_documented_collapse_rules():
    assert P.path_code([0, 1, 0], "cycles") == "L→B→L"                 # 3 visits: not a repeated cycle
    assert P.path_code([0, 1, 0, 1], "cycles") == "L⇄B"
    assert P.path_code([0, 2, 1, 2, 1, 3, 4, 5], "cycles") == "L→C⇄B→G→I→R"
    assert P.path_code([0, 2, 1, 2, 1, 3], "exact") == "L→C→B→C→B→G"
    assert P.path_code([0, 2, 1, 2, 1, 3, 2, 4], "escalation") == "L→C→G→I"
    with pytest.raises(sim.ConfigError, match="collapse"):
        P.path_code([0], "loops")


def test_story_puts_each_event_on_the_rung_it_happened_on(hand_made):
    # the clash and the seizure on day 10 moved the ladder: they count on the rung it moved from
    expected = ["L(k z)→B→G→C", "L(k)→B(f)→L→B→L→B", "L(k)→B→L→B→L→B", "L(f)"]
    assert hand_made.stories() == expected


def test_story_keeps_ties_when_path_days_are_float32():
    day = 17.113468170166016 + 1e-9                                     # float64 event, float32 path entry
    assert P.run_story([0, 2], np.array([0.0, day], dtype=np.float32), {"retaliation": day}) == "L(r)→C"


def test_time_on_rungs_of_hand_made_paths(hand_made):
    assert P.days_on_rungs(hand_made).tolist() == [
        [10, 0, 60, 30, 0, 0], [30, 70, 0, 0, 0, 0], [3, 97, 0, 0, 0, 0], [100, 0, 0, 0, 0, 0]]
    border = P.time_on_rungs(hand_made)[RUNGS.index("border_clashes")]
    assert (border.runs_reaching, border.visits, border.pass_throughs) == (3, 7, 1)
    # positive visits 10, 10, 50, 1, 1, 95 -> median 10, quartiles 3.25 and 40 (linear interpolation)
    assert (border.visit_median, border.visit_iqr) == (10.0, (3.25, 40.0))
    assert (border.total_median, border.total_iqr) == (70.0, (35.0, 83.5))
    # first reached on days 1, 5, 10 and never in one run: Kaplan-Meier S(5) = 0.75 * 2/3 = 0.5
    assert border.first_reach_median == 5.0
    ground = P.time_on_rungs(hand_made)[RUNGS.index("limited_ground_operation")]
    assert ground.first_reach_median is None and ground.p_reach == 0.25


def test_top_paths_count_and_share_exactly(hand_made):
    per_outcome = {entry.outcome: entry for entry in P.top_paths(hand_made, top=2)}
    protracted = per_outcome["protracted_low_intensity"]
    assert [(p.path, p.count, p.share_of_outcome, p.share_of_runs) for p in protracted.top] == [("L⇄B", 2, 1.0, 0.5)]
    assert protracted.top[0].share_of_runs_ci95 == wilson_interval(2, 4)
    assert per_outcome["limited_war"].top[0].path == "L→B→G→C"
    assert per_outcome["regional_war"].n_runs == 0 and per_outcome["regional_war"].top == ()
    everyone = per_outcome["all runs"]
    assert [p.path for p in everyone.top] == ["L⇄B", "L"]               # ties broken by the path string
    assert everyone.n_distinct_paths == 3 and everyone.other_share == pytest.approx(0.25)


def test_rungs_at_reads_the_rung_after_each_instant(hand_made):
    assert P.rungs_at(hand_made, [0, 9.9, 10, 50, 100]).tolist() == [
        [0, 0, 3, 2, 2], [0, 1, 1, 1, 1], [0, 1, 1, 1, 1], [0, 0, 0, 0, 0]]


def test_bad_paths_are_rejected_in_one_line():
    table = pa.table({"run_index": [0], "outcome": ["x"], "rung_path": [[0, 1]], "rung_path_days": [[0.0]]})
    with pytest.raises(sim.ResultsError, match="one entry day per rung"):
        P.ladder_paths(table, HORIZON)
    with pytest.raises(sim.ResultsError, match="lacks the column"):
        P.ladder_paths(table.drop(["rung_path"]), HORIZON)


@pytest.fixture(scope="module")
def model_runs():
    return sim.run("baseline", overrides=["engine=fast", "n_runs=2000", "seed=4242"]).table


def test_paths_agree_with_the_run_records(model_runs):
    paths = P.ladder_paths(model_runs, 365.0)
    assert np.array_equal(P.max_rungs(paths), model_runs.column("max_rung").to_numpy())
    recorded = np.stack([model_runs.column(f"days_at_{rung}").to_numpy() for rung in RUNGS], axis=1)
    visits = np.zeros_like(recorded)
    np.add.at(visits, (paths.entry_run, paths.rungs), 1.0)
    # entry days are float32: each end of a visit is off by at most half an ulp at < 512 days (2**-16)
    assert np.all(np.abs(P.days_on_rungs(paths) - recorded) <= visits * 2.0**-15 + 1e-9)
    daily = np.stack(model_runs.column("rung_daily").to_pylist())
    assert np.array_equal(P.rungs_at(paths, np.arange(1, 366)), daily)


def test_top_paths_cover_every_run_once(model_runs):
    paths = P.ladder_paths(model_runs, 365.0)
    per_outcome = P.top_paths(paths, top=100_000, collapse="exact")
    assert sum(e.n_runs for e in per_outcome if e.outcome != "all runs") == paths.n_runs
    assert all(abs(e.other_share) < 1e-12 for e in per_outcome if e.n_runs)


@pytest.fixture(scope="module")
def results_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs") / "baseline"
    sim.run("baseline", overrides=["engine=fast", "n_runs=1000", "seed=99", "plots=false"], output_dir=folder)
    return folder


def test_command_writes_paths_json_figures_and_stories(results_folder, tmp_path, capsys):
    out = tmp_path / "paths_out"
    assert P.command([str(results_folder), "--top", "3", "--out", str(out)]) == 0
    report = json.loads((out / "paths.json").read_text())
    assert report["kind"] == "paths" and report["n_runs"] == 1000
    assert set(report["files"]) == {"paths.json", "run_paths.parquet", "flow.png", "flow.svg", "top_paths.png",
                                    "top_paths.svg"}
    assert all((out / name).is_file() for name in report["files"])
    assert pq.read_table(out / "run_paths.parquet").num_rows == 1000
    assert report["flow"]["days"] == [0, 30, 90, 180, 365]
    assert "regional_war" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [(["{missing}"], "not a results folder"),
                                           (["{folder}", "--top", "0"], "top: must be at least 1"),
                                           (["{folder}", "--days", "0,400"], "--days")])
def test_command_bad_input_exits_2_with_one_line(results_folder, tmp_path, capsys, argv, message):
    out = tmp_path / "never"
    argv = [a.format(missing=tmp_path / "missing", folder=results_folder) for a in argv]
    assert P.command([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not out.exists()
