"""The plumbing of the analysis commands: one-line errors, output folders, all-or-nothing publishing."""

from __future__ import annotations

import json
import re

import pytest

from sim import commands
from sim.errors import ConfigError, ResultsError
from sim.plotting import new_figure


def _parser_command(argv):
    parser = commands.CommandParser(prog="python -m sim demo", description="a demo command")
    parser.add_argument("folder")
    parser.add_argument("--top", type=int, default=5)
    args = parser.parse_args(argv)
    if args.top < 1:
        raise ResultsError(f"--top {args.top}: must be at least 1")
    return 0


demo = commands.reports_errors(_parser_command)


def test_usage_and_input_errors_are_one_line_exit_2_and_help_exits_0(capsys):
    assert demo(["folder", "--top", "x"]) == 2
    assert demo(["folder", "--top", "0"]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert errors[0].startswith("error: python -m sim demo: argument --top: invalid int value")
    assert errors[1] == "error: --top 0: must be at least 1" and len(errors) == 2
    assert demo(["--help"]) == 0
    assert "a demo command" in capsys.readouterr().out
    assert demo(["folder"]) == 0


def test_default_output_folder_is_new_and_named_after_the_command():
    first, second = commands.output_folder("paths", None), commands.output_folder("paths", None)
    assert first.parent == commands.RESULTS_ROOT and first != second
    assert re.fullmatch(r"paths_\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_[0-9a-f]{6}", first.name)


def test_out_may_be_new_or_an_empty_folder_but_never_one_with_files(tmp_path):
    assert commands.output_folder("x", tmp_path / "new") == tmp_path / "new"
    (tmp_path / "empty").mkdir()
    assert commands.output_folder("x", tmp_path / "empty") == tmp_path / "empty"
    (tmp_path / "empty" / "a.json").write_text("{}")
    with pytest.raises(ConfigError, match="already exists and is not an empty folder"):
        commands.output_folder("x", tmp_path / "empty")


def test_publish_renames_the_filled_staging_folder_into_place(tmp_path):
    target = commands.publish(tmp_path / "out", lambda folder: (folder / "a.json").write_text("{}"))
    assert [p.name for p in target.iterdir()] == ["a.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]                    # no hidden staging left


def test_a_failing_write_leaves_nothing_behind(tmp_path):
    def write(folder):
        (folder / "half.json").write_text("{")
        raise ResultsError("figure failed")

    with pytest.raises(ResultsError):
        commands.publish(tmp_path / "out", write)
    assert list(tmp_path.iterdir()) == []


def test_publish_into_a_folder_with_files_adds_the_new_ones_and_keeps_the_rest(tmp_path):
    target = tmp_path / "hydra_run"
    (target / ".hydra").mkdir(parents=True)
    (target / "cli.log").write_text("log")
    commands.publish(target, lambda folder: (folder / "sensitivity.json").write_text("{}"))
    assert sorted(p.name for p in target.iterdir()) == [".hydra", "cli.log", "sensitivity.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["hydra_run"]


def test_write_outputs_writes_the_json_and_each_figure_as_png_and_svg(tmp_path):
    folder = commands.write_outputs("demo", tmp_path / "out", {"kind": "demo"},
                                    {"blank": lambda: new_figure(1.0, 2.0)})
    assert json.loads((folder / "demo.json").read_text()) == {"kind": "demo"}
    assert sorted(p.name for p in folder.iterdir()) == ["blank.png", "blank.svg", "demo.json"]
