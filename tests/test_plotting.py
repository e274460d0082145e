"""Tests for sim.plotting: every figure builds, carries its labels, and the saver writes 8 files."""

import copy
import math

import numpy as np
import pyarrow as pa
import pytest
from matplotlib.container import BarContainer
from matplotlib.figure import Figure

from sim import plotting
from sim.model import OUTCOME_CLASSES, RUNGS
from sim.results import run

N_RUNS, HORIZON = 200, 120.0


@pytest.fixture(scope="module")
def results():
    return run("baseline", overrides=["experiment=smoke", f"n_runs={N_RUNS}", f"horizon_days={HORIZON:g}"])


def _header_ok(text: str) -> bool:
    return "baseline" in text and f"{N_RUNS:,} runs" in text and f"{HORIZON:g}-day horizon" in text


def _bars(ax) -> BarContainer:
    (bars,) = [c for c in ax.containers if isinstance(c, BarContainer)]
    return bars


# ---------------------------------------------------------------- outcome probabilities


def test_outcome_probabilities_bars_match_summary(results):
    fig = plotting.outcome_probabilities(results.summary)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert _header_ok(ax.get_title())
    assert "probability" in ax.get_xlabel()
    assert ax.get_xlim() == (0.0, 1.0)
    bars = _bars(ax)
    assert len(bars.patches) == len(OUTCOME_CLASSES)
    widths = [patch.get_width() for patch in bars.patches]
    assert widths == pytest.approx([results.summary["outcomes"][c]["p"] for c in OUTCOME_CLASSES])
    ys = [patch.get_y() for patch in bars.patches]
    assert ys == sorted(ys, reverse=True)                       # most severe class on top
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks[0] == "regional war" and len(ticks) == len(OUTCOME_CLASSES)
    texts = [t.get_text() for t in ax.texts]
    for c in OUTCOME_CLASSES:
        assert results.summary["outcomes"][c]["words"] in texts
    cumulative = results.summary["cumulative"]["incursion_or_worse"]["words"]
    assert any(cumulative in t for t in texts)


@pytest.mark.parametrize("yardstick", ["icd203", "phia"])
def test_outcome_labels_stay_inside_the_axes(results, yardstick):
    summary = copy.deepcopy(results.summary)
    summary["yardstick"] = yardstick
    summary["outcomes"]["protracted_low_intensity"].update(p=0.93, ci95=[0.9, 0.95], words="very likely (93 %)")
    fig = plotting.outcome_probabilities(summary)
    fig.canvas.draw()
    ax = fig.axes[0]
    right = ax.get_window_extent().x1
    for text in ax.texts:
        if "%" in text.get_text() and "\n" not in text.get_text():
            assert text.get_window_extent().x1 <= right + 1, text.get_text()


# ---------------------------------------------------------------- distributions


def test_outcome_distributions_panels(results):
    fig = plotting.outcome_distributions(results.table, results.summary)
    assert isinstance(fig, Figure)
    assert _header_ok(fig.get_suptitle())
    axes = fig.axes
    assert len(axes) == 4
    xlabels = " | ".join(ax.get_xlabel() for ax in axes)
    for unit in ("deaths per run", "days closed", "USD million"):
        assert unit in xlabels
    for ax in axes:
        assert ax.get_ylabel().startswith("share of runs")
        assert ax.get_legend() is not None
        assert all("median" in t.get_text() for t in ax.get_legend().get_texts())
    assert len(axes[0].get_legend().get_texts()) == 2            # total and TTP violence
    assert len(axes[3].get_legend().get_texts()) == 3            # three categories


# ---------------------------------------------------------------- time to incursion


def test_time_to_incursion(results):
    fig = plotting.time_to_incursion(results.table, HORIZON, scenario="baseline")
    ax = fig.axes[0]
    assert _header_ok(ax.get_title())
    assert "Kaplan" in ax.get_ylabel() and "day" in ax.get_xlabel()
    assert ax.get_xlim() == (0.0, HORIZON)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels[0].startswith("first conventional incursion")
    assert any("regional war" in t for t in labels) and any("clash" in t for t in labels)


def test_time_to_incursion_with_no_incursion(results):
    table = results.table
    index = table.schema.get_field_index("first_incursion_day")
    none = table.set_column(index, "first_incursion_day", pa.array(np.full(table.num_rows, np.nan)))
    fig = plotting.time_to_incursion(none, HORIZON)
    ax = fig.axes[0]
    assert any(t.get_text() == f"no incursion in {N_RUNS:,} runs" for t in ax.texts)
    main = next(line for line in ax.get_lines() if line.get_label().startswith("first conventional incursion"))
    assert np.all(main.get_ydata() == 0.0)                        # flat: nothing happened


# ---------------------------------------------------------------- ladder fan chart


def test_rung_shares_hand_count():
    table = pa.table({"rung_daily": pa.array([[0, 1, 5], [0, 0, 5], [2, 1, 3], [0, 1, 1]], pa.list_(pa.int8()))})
    shares = plotting.rung_shares(table)
    expected = np.zeros((3, len(RUNGS)))
    expected[0, [0, 2]] = [3 / 4, 1 / 4]
    expected[1, [0, 1]] = [1 / 4, 3 / 4]
    expected[2, [1, 3, 5]] = [1 / 4, 1 / 4, 2 / 4]
    np.testing.assert_allclose(shares, expected)
    # chunked and sliced tables give the same answer
    chunked = pa.concat_tables([table.slice(0, 1), table.slice(1)])
    np.testing.assert_allclose(plotting.rung_shares(chunked), expected)
    np.testing.assert_allclose(plotting.rung_shares(table.slice(2)), [[.5, 0, .5, 0, 0, 0], [0, 1, 0, 0, 0, 0],
                                                                      [0, .5, 0, .5, 0, 0]])


@pytest.mark.parametrize("bad", [[[0, 1], [0]], [[0, 6]], [[-1, 0]]])
def test_rung_shares_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        plotting.rung_shares(pa.table({"rung_daily": bad}))


def test_ladder_fan_chart_shares_sum_to_one(results):
    shares = plotting.rung_shares(results.table)
    assert shares.shape == (math.ceil(HORIZON), len(RUNGS))
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    fig = plotting.ladder_fan_chart(results.table, HORIZON, scenario="baseline")
    ax = fig.axes[0]
    assert _header_ok(ax.get_title())
    assert "share of runs" in ax.get_ylabel() and "day" in ax.get_xlabel()
    polys = ax.collections
    assert len(polys) == len(RUNGS)
    top = polys[-1].get_paths()[0].vertices[:, 1]
    assert top.max() == pytest.approx(1.0) and top.min() >= 0.0   # stack reaches 100 % every day
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[0].startswith("regional war") and legend[-1].startswith("low-intensity")


# ---------------------------------------------------------------- saver


def test_save_all_plots_writes_eight_files(results, tmp_path):
    folder = tmp_path / "plots" / "nested"
    paths = plotting.save_all_plots(results, folder)
    names = sorted(p.name for p in paths)
    assert names == sorted(f"{stem}.{ext}" for stem in ("outcomes", "distributions", "time_to_incursion",
                                                         "ladder_fan") for ext in ("png", "svg"))
    for path in paths:
        assert path.parent == folder and path.stat().st_size > 1000
    assert (folder / "outcomes.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert (folder / "ladder_fan.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert sorted(p.name for p in folder.iterdir()) == names     # no temporary files left behind
