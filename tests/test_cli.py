"""Tests for the command line (sim.cli) and the Python API's error contract.

The contract: bad input gets ONE line ``error: ...`` on stderr naming the problem, exit code 2,
no traceback, and nothing written (no results folder). Most cases run in-process through
``sim.cli.main``; a few subprocess tests (started together, in parallel, by one fixture) check
the real ``python -m sim`` / ``escalation-sim`` end to end.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

import sim
from sim import cli
from sim.config import CONFIG_DIR, register_schemas
from sim.errors import ConfigError
from sim.model import OUTCOME_CLASSES
from sim.results import load_results

P_RET = "scenario.parameters.p_retaliation_after_strike"
P_CALM = "scenario.parameters.p_ladder_calm_steps_down"
TTP = "scenario.parameters.ttp_attacks_per_year"
CALM = "scenario.parameters.calm_days"

RUN_DIR = re.compile(r"\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_mediation_push_[0-9a-f]{6}")

# (id, argv, substrings the one error line must contain)
BAD_INPUTS = [
    ("unknown-key", ["foo=1"], ["foo"]),
    ("unknown-key-plus", ["+foo=1"], ["foo", "unknown config key"]),
    ("unknown-parameter", ["+scenario.parameters.bogus.value=1"], ["scenario.parameters.bogus", "unknown parameter"]),
    ("unknown-parameter-no-plus", ["scenario.parameters.bogus.value=1"], ["bogus"]),
    ("probability-above-1-added-range", [f"{P_RET}.value=1.5", f"+{P_RET}.range=[0.5,1.5]"],
     ["p_retaliation_after_strike", "probability", "1.5"]),
    ("probability-above-1-with-range", [f"{P_CALM}.value=1.5", f"{P_CALM}.range=[0.5,1.5]"],
     ["p_ladder_calm_steps_down", "probability", "1.5"]),
    ("probability-outside-its-range", [f"{P_RET}.value=1.5"], ["p_retaliation_after_strike.value", "1.5"]),
    ("range-on-term-parameter-needs-plus", [f"{P_RET}.range=[0.5,1.5]"], ["p_retaliation_after_strike.range"]),
    ("negative-rate", [f"{TTP}.value=-5", f"{TTP}.range=[-10,900]"], ["ttp_attacks_per_year", "negative", "-5"]),
    ("negative-rate-no-range", [f"{TTP}.value=-5", f"{TTP}.range=null"], ["ttp_attacks_per_year", "negative"]),
    ("zero-duration", [f"{CALM}.value=0", f"{CALM}.range=null"], ["calm_days", "duration"]),
    ("negative-duration", [f"{CALM}.value=-3", f"{CALM}.range=null"], ["calm_days", "duration", "-3"]),
    ("min-above-max", [f"{CALM}.range=[90,30]"], ["calm_days.range", "90", "30"]),
    ("range-not-a-pair", [f"{TTP}.range=[1,2,3]"], ["ttp_attacks_per_year.range"]),
    ("value-not-finite", [f"{TTP}.value=nan"], ["ttp_attacks_per_year.value", "nan"]),
    ("unknown-distribution", [f"+{TTP}.dist=gaussian"], ["ttp_attacks_per_year.dist", "gaussian"]),
    ("unknown-scenario", ["scenario=atlantis"], ["scenario", "atlantis"]),
    ("unknown-experiment", ["experiment=huge"], ["experiment", "huge"]),
    ("unknown-ladder-event", ["+scenario.ladder.low_intensity.teleport={border_clashes:p_ladder_calm_steps_down}"],
     ["scenario.ladder.low_intensity.teleport", "unknown event"]),
    ("unknown-ladder-rung", ["+scenario.ladder.moon_base={clash:{border_clashes:p_ladder_calm_steps_down}}"],
     ["moon_base", "rung"]),
    ("unknown-initial-event-kind", ["scenario.initial_events=[{kind:alien_landing,day:0}]"],
     ["initial_events[0].kind", "alien_landing"]),
    ("initial-event-after-horizon", ["scenario.initial_events=[{kind:attack,day:400}]", "horizon_days=365"],
     ["initial_events", "horizon_days"]),
    ("unknown-source", [f"{TTP}.source=no_such_card"], ["ttp_attacks_per_year.source", "no_such_card"]),
    ("quote-not-on-card", [f'{TTP}.quote="made up words"'], ["ttp_attacks_per_year", "made up words"]),
    ("ladder-outgoing-sum-above-1",
     ["+scenario.ladder.low_intensity.clash.strike_retaliation_cycle=p_ladder_retaliation_starts_cycle"],
     ["scenario.ladder.low_intensity.clash", "sum", "above 1"]),
    ("n-runs-zero", ["n_runs=0"], ["n_runs", "0"]),
    ("n-runs-negative", ["n_runs=-5"], ["n_runs", "-5"]),
    ("horizon-zero", ["horizon_days=0"], ["horizon_days"]),
    ("horizon-too-long", ["horizon_days=1e9"], ["horizon_days"]),
    ("seed-negative", ["seed=-1"], ["seed", "-1"]),
    ("n-runs-not-a-number", ["n_runs=abc"], ["n_runs", "abc"]),
    ("n-runs-float", ["n_runs=1e3"], ["n_runs"]),
    ("seed-float", ["seed=1.5"], ["seed", "1.5"]),
    ("workers-not-a-number", ["workers=abc"], ["workers", "abc"]),
    ("parameter-value-not-a-number", [f"{TTP}.value=abc"], ["ttp_attacks_per_year.value", "abc"]),
    ("parameter-not-a-mapping", [f"{TTP}=5"], ["ttp_attacks_per_year"]),
    ("unknown-mechanism", ["+scenario.mechanisms.telepathy=false"], ["scenario.mechanisms.telepathy", "mechanism"]),
    ("mechanism-not-bool", ["+scenario.mechanisms.mediation=maybe"], ["scenario.mechanisms.mediation", "maybe"]),
    ("uncertainty-unknown", ["uncertainty=maybe"], ["uncertainty", "maybe"]),
    ("sampling-unknown", ["sampling=sobol"], ["sampling", "sobol"]),
    ("plots-not-bool", ["plots=maybe"], ["plots", "maybe"]),
    ("scenario-without-name", ["scenario.name="], ["scenario.name"]),
    ("malformed-override", ["n_runs=["], ["["]),
    ("override-without-equals", ["n_runs"], ["n_runs"]),
    ("multirun-one-bad-value", ["--multirun", "seed=1,2", "n_runs=10,0"], ["n_runs", "0"]),
    ("multirun-range-with-bad-value", ["--multirun", "n_runs=range(0,3)"], ["n_runs", "0"]),
    ("multirun-plus-on-existing-key", ["--multirun", "+n_runs=10,20"], ["n_runs"]),
    ("multirun-bad-hydra-setting", ["--multirun", "hydra.job.chdir=abc", "seed=1,2"], ["hydra.job.chdir", "abc"]),
    ("multirun-and-cfg", ["--multirun", "--cfg", "job"], ["--multirun", "--cfg"]),
    ("bad-hydra-setting", ["hydra.job.chdir=abc"], ["hydra.job.chdir", "abc"]),
    ("missing-config-dir", ["--config-dir", "/nonexistent/sim-configs"], ["--config-dir", "/nonexistent/sim-configs"]),
]


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """Run in an empty folder; HYDRA_FULL_ERROR (which main sets) restored afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HYDRA_FULL_ERROR", "0")
    return tmp_path


def _one_error_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{stderr}"
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in stderr
    return lines[0]


# ---------------------------------------------------------------- in-process: bad input


@pytest.mark.parametrize("argv, expected", [case[1:] for case in BAD_INPUTS], ids=[case[0] for case in BAD_INPUTS])
def test_bad_input_gives_one_line_exit_2_and_no_folder(in_tmp, capsys, argv, expected):
    code = cli.main(argv)
    captured = capsys.readouterr()
    assert code == 2, captured
    line = _one_error_line(captured.err)
    for text in expected:
        assert text in line, f"{text!r} not in {line!r}"
    assert "Traceback" not in captured.out
    assert not (in_tmp / "results").exists()
    assert list(in_tmp.iterdir()) == [], "nothing may be written for a bad command line"


def test_multirun_sweep_keeps_add_prefixes():
    """Regression: a swept ``+key``/``++key`` must not gain a second prefix when expanded."""
    combos = cli._expand_sweeps(["+foo=1,2", "++n_runs=10,20", "~scenario.description", "seed=7"])
    assert combos[0] == ["+foo=1", "++n_runs=10", "~scenario.description", "seed=7"]
    assert len(combos) == 4


def test_valid_multirun_force_add_sweep_is_accepted():
    cli.validate_command_line(["--multirun", "++n_runs=10,20", "experiment=smoke", "hydra.sweep.dir=sweeps"])


def test_help_skips_validation_but_printing_a_config_checks_it():
    cli.validate_command_line(["--help"])
    cli.validate_command_line(["--cfg", "job", "n_runs=5"])
    with pytest.raises(ConfigError, match="n_runs"):
        cli.validate_command_line(["--cfg", "job", "n_runs=0"])


def test_hydra_error_message_is_one_line():
    with pytest.raises(ConfigError) as caught:
        sim.compose_run_config(["scenario=atlantis"])
    message = str(caught.value)
    assert "\n" not in message and "atlantis" in message
    assert "HYDRA_FULL_ERROR" not in message and "Config search path" not in message


# ---------------------------------------------------------------- run folders are unique


def test_two_runs_in_the_same_second_get_different_folders():
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register_schemas()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        first = compose(config_name="config", overrides=["scenario=mediation_push"], return_hydra_config=True)
        second = compose(config_name="config", overrides=["scenario=mediation_push"], return_hydra_config=True)
    a, b = str(first.hydra.run.dir), str(second.hydra.run.dir)
    assert RUN_DIR.fullmatch(a.removeprefix("results/")) and RUN_DIR.fullmatch(b.removeprefix("results/")), (a, b)
    assert a != b  # same second or not, the random token tells them apart
    assert str(first.hydra.run.dir) == a  # and is stable within one run (resolved twice)


# ---------------------------------------------------------------- Python API


def test_api_run_returns_results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    results = sim.run("baseline", overrides=["experiment=smoke", "n_runs=20", "horizon_days=30"])
    assert isinstance(results, sim.Results)
    assert results.table.num_rows == 20 and results.folder is None
    assert math.fsum(entry["p"] for entry in results.summary["outcomes"].values()) == pytest.approx(1.0, abs=1e-12)
    assert list(tmp_path.iterdir()) == []  # no output_dir: nothing written


@pytest.mark.parametrize("scenario, overrides, name", [
    ("baseline", ["foo=1"], "foo"),
    ("baseline", ["n_runs=abc"], "n_runs"),
    ("baseline", ["n_runs=0"], "n_runs"),
    ("atlantis", [], "atlantis"),
    ("baseline", [f"{P_RET}.value=1.5"], "p_retaliation_after_strike"),
])
def test_api_bad_override_raises_config_error_not_hydra(tmp_path, monkeypatch, scenario, overrides, name):
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        sim.run(scenario, overrides=overrides, output_dir=tmp_path / "out")
    error = caught.value
    assert type(error) is ConfigError
    assert not isinstance(error, (HydraException, OmegaConfBaseException))
    assert error.__cause__ is None  # raised "from None": no Hydra traceback chained on
    assert error.__suppress_context__ or error.__context__ is None
    assert "\n" not in str(error) and name in str(error)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- subprocesses, end to end

SCRIPT = Path(sys.executable).with_name("escalation-sim")
E2E_ARGS = ["experiment=smoke", "n_runs=60", "chunk_size=20", "horizon_days=120", "workers=2"]


def _ci_env() -> dict:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("HYDRA_", "PYTEST_", "COV_")) and key not in {"TERM", "COLUMNS"}}
    env.update(CI="true", PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg")
    return env


class _Launched:
    """One subprocess started in its own empty folder; ``.result()`` waits for it."""

    def __init__(self, base: Path, name: str, command: list[str]):
        self.cwd = base / name
        self.cwd.mkdir()
        self._out = open(base / f"{name}.stdout", "w+")
        self._err = open(base / f"{name}.stderr", "w+")
        self.process = subprocess.Popen(command, cwd=self.cwd, env=_ci_env(), stdin=subprocess.DEVNULL,
                                        stdout=self._out, stderr=self._err, text=True)
        self.started = time.monotonic()
        self.seconds = None

    def close(self) -> None:
        self._out.close()
        self._err.close()

    def result(self, timeout: float = 300.0):
        if self.seconds is None:
            self.process.wait(timeout=timeout)
            self.seconds = time.monotonic() - self.started
        self._out.seek(0)
        self._err.seek(0)
        return self.process.returncode, self._out.read(), self._err.read()


@pytest.fixture(scope="module")
def launched(tmp_path_factory):
    """Start every end-to-end command at once (each costs seconds of imports), wait lazily."""
    base = tmp_path_factory.mktemp("e2e")
    python = [sys.executable, "-m", "sim"]
    script = [str(SCRIPT)] if SCRIPT.exists() else None
    runs = {
        "smoke": _Launched(base, "smoke", [*python, *E2E_ARGS]),
        "run_dir": _Launched(base, "run_dir", [*python, "experiment=smoke", "n_runs=5", "horizon_days=10",
                                                "plots=false", "workers=1", f"hydra.run.dir={base / 'mine'}"]),
        "multirun": _Launched(base, "multirun", [*python, "--multirun", "seed=1,2", "experiment=smoke",
                                                  "n_runs=10", "horizon_days=30", "plots=false", "workers=1"]),
        "bad": _Launched(base, "bad", [*python, "experiment=smoke", f"{P_RET}.value=1.5"]),
    }
    runs["report_missing"] = _Launched(base, "report_missing", [*python, "report", str(base / "no_such_run")])
    if script:
        runs["cfg"] = _Launched(base, "cfg", [*script, "--cfg", "job", "experiment=smoke"])
        runs["script_bad"] = _Launched(base, "script_bad", [*script, "n_runs=0"])
        runs["script_help"] = _Launched(base, "script_help", [*script, "help"])
    yield runs
    for run in runs.values():
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait()
        run.close()


@pytest.fixture(scope="module", autouse=True)
def _start_subprocesses_early(request):
    """Launch the end-to-end commands before the in-process tests, so they overlap (when selected)."""
    if any("launched" in getattr(item, "fixturenames", ()) for item in request.session.items):
        request.getfixturevalue("launched")


def _check_folder(folder: Path, n_runs: int) -> dict:
    summary, table, manifest = load_results(folder)  # verifies every sha256 in the manifest
    assert table.num_rows == n_runs and summary["n_runs"] == n_runs
    assert math.fsum(entry["p"] for entry in summary["outcomes"].values()) == pytest.approx(1.0, abs=1e-12)
    assert set(summary["outcomes"]) == set(OUTCOME_CLASSES)
    for name, entry in summary["outcomes"].items():
        lo, hi = entry["ci95"]
        assert lo <= entry["p"] <= hi, name
    assert (folder / "config.yaml").is_file()
    assert not list(folder.rglob("*.tmp")), "temporary files left behind"
    return manifest


def test_e2e_smoke_run_writes_one_complete_folder(launched):
    run = launched["smoke"]
    code, out, err = run.result()
    assert code == 0, err
    assert "Traceback" not in err
    folders = list((run.cwd / "results").iterdir())
    assert len(folders) == 1, folders
    folder = folders[0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_baseline_[0-9a-f]{6}", folder.name), folder.name
    assert folder.name in out  # describe() ends with "results: <folder>"
    manifest = _check_folder(folder, 60)
    assert manifest["n_runs"] == 60 and manifest["n_chunks"] == 3 and manifest["workers"] == 2
    assert {"summary.json", "config.yaml"} <= set(manifest["files"])
    assert [entry["file"] for entry in manifest["chunks"].values()] == [
        f"runs.parquet/part-{index:06d}.parquet" for index in range(3)]
    # Plots come from sim/plotting.py (another engineer's module, in progress when this was written).
    plots = sorted(path.relative_to(folder).as_posix() for path in (folder / "plots").glob("*"))
    png = [name for name in plots if name.endswith(".png")]
    svg = [name for name in plots if name.endswith(".svg")]
    assert len(png) == 4 and len(svg) == 4 and len(plots) == 8, f"PLOTS (sim/plotting.py): expected 4 PNG + 4 SVG, got {plots}"
    assert {name[:-4] for name in png} == {name[:-4] for name in svg}, "PLOTS: every figure in both formats"
    assert set(plots) <= set(manifest["files"]), "PLOTS: every plot file is hashed in the manifest"


def test_e2e_user_run_dir_wins(launched):
    run = launched["run_dir"]
    code, out, err = run.result()
    assert code == 0, err
    mine = run.cwd.parent / "mine"
    _check_folder(mine, 5)
    assert not (run.cwd / "results").exists()


def test_e2e_multirun_gives_one_folder_per_job(launched):
    run = launched["multirun"]
    code, out, err = run.result()
    assert code == 0, err
    assert "Traceback" not in err
    manifests = sorted((run.cwd / "results" / "multirun").glob("*/*/manifest.json"))
    assert len(manifests) == 2, manifests
    seeds = sorted(_check_folder(path.parent, 10)["seed"] for path in manifests)
    assert seeds == [1, 2]


def test_e2e_bad_override_exit_2_one_line_no_folder(launched):
    run = launched["bad"]
    code, out, err = run.result()
    assert code == 2, (out, err)
    line = _one_error_line(err)
    assert "p_retaliation_after_strike" in line
    assert list(run.cwd.iterdir()) == []


def test_console_script_prints_config_and_writes_nothing(launched):
    if "cfg" not in launched:
        pytest.fail(f"console script {SCRIPT} not installed (pip install -e .)")
    run = launched["cfg"]
    code, out, err = run.result()
    assert code == 0, err
    assert "n_runs: 200" in out and "preset: smoke" in out and "name: baseline" in out
    assert list(run.cwd.iterdir()) == []


def test_console_script_bad_override_exit_2(launched):
    if "script_bad" not in launched:
        pytest.fail(f"console script {SCRIPT} not installed (pip install -e .)")
    run = launched["script_bad"]
    code, out, err = run.result()
    assert code == 2, (out, err)
    assert "n_runs" in _one_error_line(err)
    assert list(run.cwd.iterdir()) == []


def test_a_failing_run_names_its_seed_exits_1_and_leaves_no_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = cli.main(["experiment=smoke", "n_runs=4", "horizon_days=30", "workers=1", "plots=false",
                     "max_events_per_run=5", "seed=99"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(err) == 1 and "seed 99" in err[0] and "max_events_per_run" in err[0]
    (folder,) = (tmp_path / "results").iterdir()  # kept, marked failed, with the traceback
    assert json.loads((folder / "manifest.json").read_text())["status"] == "failed"
    failures = json.loads((folder / "failures.json").read_text())["failures"]
    assert failures[0]["seed"] == 99 and "MaxEventsExceeded" in failures[0]["traceback"]


# ---------------------------------------------------------------- analysis subcommands


def test_help_lists_every_subcommand_and_each_module_has_its_command(capsys):
    import importlib

    assert cli.main(["help"]) == 0
    out = capsys.readouterr().out
    for name, (module, _) in cli.SUBCOMMANDS.items():
        assert f"  {name} " in out
        handler = getattr(importlib.import_module(module), f"{name}_command", None) or importlib.import_module(module).command
        assert callable(handler)


@pytest.mark.parametrize("argv", [["report", "nowhere"], ["signposts", "nowhere"], ["paths", "nowhere"],
                                  ["discover", "nowhere"], ["compare", "nowhere", "nor_here"],
                                  ["condition", "nowhere", "--day", "30", "clash=yes"]])
def test_subcommands_answer_a_missing_folder_with_one_line_and_exit_2(in_tmp, capsys, argv):
    assert cli.main(argv) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "nowhere" in line
    assert not any(in_tmp.iterdir()), "nothing may be written"


def test_subcommands_are_dispatched_before_hydra_in_a_real_process(launched):
    code, out, err = launched["report_missing"].result()
    assert code == 2 and "no_such_run" in _one_error_line(err)
    if "script_help" in launched:
        code, out, err = launched["script_help"].result()
        assert code == 0 and "report" in out and "sensitivity" in out
