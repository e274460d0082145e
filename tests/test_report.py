"""The HTML brief: estimative wording, section builders, error cases, and the page in a real browser."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from markupsafe import escape

from sim import report
from sim.report import AnalysisOutput, analysis_section, command, load_inputs, quantile_intervals, write_report
from sim.estimative import estimative_sentence, estimative_words, percent_with_ci
from sim.report_sections import (ScenarioRun, assumptions_section, key_judgements, key_judgements_section,
                                 metrics_section, outcomes_section, parameters_section)

CLAUSE = "Pakistan launches a conventional incursion or worse within 365 days"


# ---------------------------------------------------------------- wording

def test_single_band_judgement_reads_like_the_issue_example():
    assert estimative_sentence(CLAUSE, 0.27, (0.26, 0.28)) == (
        "It is unlikely (27 %, 95 % CI 26–28 %) that Pakistan launches a conventional incursion or worse "
        "within 365 days.")


def test_band_edges_are_lower_inclusive_and_an_interval_touching_the_edge_does_not_straddle():
    at_edge = estimative_words(0.20, (0.20, 0.21))
    assert (at_edge.phrase, at_edge.straddles) == ("unlikely", False)
    below = estimative_words(0.1999, (0.19, 0.1999))
    assert (below.phrase, below.straddles) == ("very unlikely", False)


def test_interval_across_a_band_edge_names_both_bands_and_says_so():
    words = estimative_words(0.46, (0.44, 0.48))
    assert (words.phrase, words.straddles, words.terms) == ("unlikely to roughly even chance", True,
                                                           ("unlikely", "roughly even chance"))
    sentence = estimative_sentence(CLAUSE, 0.46, (0.44, 0.48))
    assert sentence.startswith("It is unlikely to roughly even chance (46 %, 95 % CI 44–48 %; the interval "
                               "spans two bands) that Pakistan")
    assert estimative_words(0.20, (0.19, 0.21)).phrase == "very unlikely to unlikely"


def test_interval_across_three_bands_names_the_outer_two():
    words = estimative_words(0.5, (0.40, 0.60))
    assert words.phrase == "unlikely to likely" and len(words.terms) == 3
    assert "spans three bands" in estimative_sentence("X", 0.5, (0.40, 0.60))


def test_noun_terms_get_a_grammatical_frame():
    assert estimative_sentence("X", 0.021, (0.017, 0.026)).startswith("There is almost no chance (2.1 %")
    assert estimative_sentence("X", 0.5, (0.49, 0.51)).startswith("There is a roughly even chance (50 %")
    assert estimative_sentence("X", 0.45, (0.43, 0.47), "phia").startswith("There is a realistic possibility")
    assert estimative_sentence("X", 0.05, (0.04, 0.06)) == (
        "The chance that X is assessed as almost no chance to very unlikely (5 %, 95 % CI 4–6 %; "
        "the interval spans two bands).")


def test_phia_gap_and_off_scale_values_are_worded_with_their_neighbours():
    assert estimative_sentence("X", 0.07, (0.065, 0.075), "phia") == (
        "It is between a remote chance and highly unlikely (7.0 %, 95 % CI 6.5–7.5 %) that X.")
    in_gap_reaching_a_band = estimative_words(0.09, (0.08, 0.11), "phia")
    assert (in_gap_reaching_a_band.phrase, in_gap_reaching_a_band.straddles) == (
        "between a remote chance and highly unlikely", False)
    assert estimative_words(0.07, (0.04, 0.11), "phia").straddles
    below = estimative_sentence("X", 0.004, (0.002, 0.007))
    assert below == "There is almost no chance (0.4 %, 95 % CI 0.2–0.7 %; below the ICD 203 scale) that X."
    assert estimative_words(0.999, (0.995, 0.9998)).label == "almost certain (above the scale)"


def test_percentages_inside_zero_and_one_never_print_as_0_or_100():
    p_text, ci_text = percent_with_ci(0.99975, (0.9986, 0.99996))
    assert "100" not in p_text + ci_text and ci_text.endswith("99.996 %")
    assert percent_with_ci(0.0004, (0.0001, 0.0012))[0] != "0.00 %"


@pytest.mark.parametrize("q, n, truth", [(0.5, 101, 0.5), (0.05, 400, 0.05)])
def test_quantile_interval_has_its_exact_binomial_coverage(q, n, truth):
    import numpy as np
    from scipy import stats

    rng = np.random.default_rng(20251012)
    reps = 600
    hits = sum(lo <= truth <= hi for lo, hi in (quantile_intervals(rng.random(n), [q])[q] for _ in range(reps)))
    low = max(1, int(stats.binom.ppf(0.025, n, q)))
    high = min(n, int(stats.binom.ppf(0.975, n, q)) + 1)
    exact = stats.binom.cdf(high - 1, n, q) - stats.binom.cdf(low - 1, n, q)  # P(low <= #below truth < high)
    assert exact >= 0.95
    assert abs(hits / reps - exact) < 4 * np.sqrt(exact * (1 - exact) / reps)


# ---------------------------------------------------------------- section builders (synthetic summaries)

def _proportion(count: int, n: int) -> dict:
    from sim.analysis import wilson_interval

    return {"p": count / n, "ci95": list(wilson_interval(count, n)), "count": count}


def _summary(counts: dict, n: int = 1000, scenario: str = "s") -> dict:
    from sim.results import CUMULATIVE

    return {
        "scenario": scenario, "n_runs": n, "horizon_days": 365.0, "seed": 1, "engine": "fast",
        "uncertainty": "sampled", "sampling": "mc",
        "outcomes": {name: _proportion(c, n) for name, c in counts.items()},
        "cumulative": {name: _proportion(sum(counts[c] for c in classes), n) for name, classes in CUMULATIVE.items()},
        "event_within_horizon": {"strike": _proportion(900, n)},
        "metrics": {"fatalities_total": {"mean": 4000.0, "ci95_mean": [3900.0, 4100.0], "p05": 2700.0,
                                         "p50": 3500.0, "p95": 9000.0, "n": n, "std": 1.0}},
    }


COUNTS_A = {"regional_war": 20, "conventional_incursion": 90, "limited_war": 180,
            "protracted_low_intensity": 620, "de_escalation": 90}
COUNTS_B = {"regional_war": 10, "conventional_incursion": 60, "limited_war": 150,
            "protracted_low_intensity": 500, "de_escalation": 280}


def _run(counts, label):
    return ScenarioRun(Path("/nowhere") / label, label, _summary(counts, scenario=label), {"files": {}})


def test_key_judgements_sum_the_cumulative_classes():
    sentences = key_judgements(_summary(COUNTS_A))
    assert sentences[0] == ("It is very unlikely (11 %, 95 % CI 9–13 %) that Pakistan launches a "
                            "conventional incursion or worse within 365 days.")
    assert "open war (limited war or worse)" in sentences[1] and "(29 %," in sentences[1]
    section = key_judgements_section([_run(COUNTS_A, "a"), _run(COUNTS_B, "b")], "icd203")
    assert section.html.count("<li>") == 8 and "Scenario b" in section.html


def test_outcome_table_puts_scenarios_side_by_side_with_intervals_and_counts():
    html = str(outcomes_section([_run(COUNTS_A, "alpha"), _run(COUNTS_B, "beta")], "icd203").html)
    header = html.split("</thead>")[0]
    assert "<th>alpha</th><th>beta</th>" in header
    p_text, ci_text = percent_with_ci(0.28, _proportion(280, 1000)["ci95"])
    assert f'{p_text}</span> <span class="ci">({ci_text})' in html
    assert "280 of 1,000" in html and "620 of 1,000" in html
    assert html.count('class="ci"') >= 2 * 7  # every probability cell carries its interval


def test_metric_table_shows_the_mean_interval_and_percentiles():
    html = str(metrics_section([_run(COUNTS_A, "a")]).html)
    assert "4,000" in html and "3,900–4,100" in html and "9,000" in html and "95 % CI of the mean" in html


def test_parameter_table_quotes_every_sourced_parameter_and_lists_another_scenarios_changes(baseline):
    import dataclasses

    changed = dataclasses.replace(baseline.parameters[0], value=baseline.parameters[0].value + 1)
    other = dataclasses.replace(baseline, name="other", parameters=(changed, *baseline.parameters[1:]))
    runs = [dataclasses.replace(_run(COUNTS_A, "a"), scenario=baseline),
            dataclasses.replace(_run(COUNTS_B, "b"), scenario=other)]
    html = str(parameters_section(runs).html)
    main, differences = html.split("parameters that differ from")
    for spec in baseline.parameters:
        assert spec.name.replace("_", "_<wbr>") in main
        if spec.quote:
            assert f"<q>{escape(spec.quote)}</q>" in main
            assert f'id="card-{spec.source}"' in html
    assert differences.split("Source cards")[0].count("<tr>") == 2  # header and the one changed parameter


def test_caveats_count_unsourced_parameters_and_flag_runs_without_parameter_uncertainty(baseline):
    import dataclasses

    fixed = _run(COUNTS_B, "fixed_run")
    fixed = dataclasses.replace(fixed, summary={**fixed.summary, "uncertainty": "fixed"}, scenario=baseline)
    context = assumptions_section([dataclasses.replace(_run(COUNTS_A, "a"), scenario=baseline), fixed]).context
    assert context["n_assumed"] == sum(spec.source == "assumption" for spec in baseline.parameters) > 0
    assert context["fixed"] == ["fixed_run"] and context["not_in_seeds"] and context["not_verified"]
    page = report.render_html([assumptions_section([fixed])], title="t", bottom_line="b")
    assert "not a forecast" in page and "fixed_run: run with every parameter fixed" in page


# ---------------------------------------------------------------- analysis sections

ANALYSES = {
    "compare": {"kind": "compare", "reference": "baseline", "comparisons": {"mediation_push": {
        "cumulative.incursion_or_worse": {"reference": 0.11, "alternative": 0.08, "difference": -0.03,
                                          "ci95": [-0.04, -0.02], "within_noise": False, "variance_reduction": 3.1},
        "metric.trade_loss_usd": {"reference": 6.1e8, "alternative": 5.0e8, "difference": -1.1e8,
                                  "ci95": [-1.2e8, -1.0e8], "within_noise": False},
        "restricted_mean.first_strike_day": {"difference": 1.0, "ci95": [0, 2]}}}},
    "signposts": {"kind": "signposts", "day": 30, "outcome": "incursion_or_worse",
                  "base_rate": {"p": 0.11, "ci95": [0.10, 0.12]},
                  "indicators": [{"name": "mass_casualty_attack", "description": "a mass-casualty attack",
                                  "prevalence": 0.3, "n": 900, "p_given": 0.2, "ci95_given": [0.17, 0.23],
                                  "lift": 1.8, "ci95_lift": [1.5, 2.1]}],
                  "notes": ["lift CI by the delta method"]},
    "sensitivity": {"kind": "sensitivity", "method": "sobol", "design": {"replications": 8}, "indices": {
        "incursion_or_worse": {"parameters": {"p_small": {"S1": 0.01, "S1_conf": 0.01, "ST": 0.02, "ST_conf": 0.01},
                                              "p_big": {"S1": 0.4, "S1_conf": 0.05, "ST": 0.5, "ST_conf": 0.06}}}},
                    "noise": {"incursion_or_worse": {"noise_share": 0.04}}},
    "paths": {"kind": "paths", "rung_codes": {"low_intensity": "L"}, "top_paths": {"conventional_incursion": {
        "paths": [{"path": "L→B→S→G→I", "count": 40, "share_of_outcome": 0.4, "share_of_outcome_ci95": [0.31, 0.5]}]}},
        "rungs": {"border_clashes": {"rung": "border_clashes", "p_reach": 0.93, "p_reach_ci95": [0.92, 0.94],
                                     "visit_median": 33.0, "visit_iqr": [13.0, 60.0]}}},
    "discover": {"kind": "discover", "method": "prim", "case": ["conventional_incursion"], "base_rate": 0.1,
                 "rules": [{"text": "mediation success < 0.3", "coverage": 0.6, "coverage_ci95": [0.5, 0.7],
                            "density": 0.4, "density_ci95": [0.3, 0.5]}]},
}
EXPECTED = {  # texts each section must show: values, their intervals, and the JSON's own notes
    "compare": ["-3.0 pp", "-4.0 to -2.0 pp", "3.1", "1 further quantity is", "-110", "-120 to -100"],
    "signposts": ["a mass-casualty attack", "17.0 to 23.0 %", "1.5 to 2.1", "<li>lift CI by the delta method</li>"],
    "sensitivity": ["p_big", '<td class="num">0.5</td>', "± 0.06", "averages 8 runs", "noise is 4.0 %"],
    "paths": ["L→B→S→G→I", "31.0 to 50.0 %", "<code>L</code> low intensity", "92.0 to 94.0 %"],
    "discover": ["mediation success &lt; 0.3", "50.0 to 70.0 %"],
}


@pytest.mark.parametrize("kind", sorted(ANALYSES))
def test_each_analysis_kind_renders_its_documented_shape_with_intervals(kind, tmp_path):
    section = analysis_section(AnalysisOutput(tmp_path, kind, ANALYSES[kind]), kind)
    assert section.title == report.ANALYSIS_KINDS[kind][0]
    for text in EXPECTED[kind]:
        assert text in str(section.html), text
    if kind == "sensitivity":  # ranked by total order
        assert str(section.html).index("p_big") < str(section.html).index("p_small")


def test_morris_sensitivity_in_the_list_layout_is_ranked_by_mu_star(tmp_path):
    data = {"kind": "sensitivity", "method": "morris", "outputs": {"trade_loss_usd": [
        {"parameter": "weak", "mu_star": 1.0, "mu_star_conf": 0.5, "sigma": 1.0},
        {"parameter": "strong", "mu_star": 9.0, "mu_star_conf": 0.5, "sigma": 2.0}]}}
    html = str(analysis_section(AnalysisOutput(tmp_path, "sensitivity", data), "sensitivity").html)
    assert html.index("strong") < html.index("weak") and "μ*" in html and "± 0.5" in html


def test_compare_in_the_documented_list_layout_renders_too(tmp_path):
    data = {"kind": "compare", "reference": "a", "alternatives": [{"scenario": "b", "differences": [
        {"quantity": "regional_war", "reference": 0.02, "alternative": 0.01, "difference": -0.01,
         "ci95": [-0.015, -0.005], "within_noise": False}]}]}
    html = str(analysis_section(AnalysisOutput(tmp_path, "compare", data), "compare").html)
    assert "b against a" in html and "-1.0 pp" in html and "-1.5 to -0.5 pp" in html


@pytest.mark.parametrize("data, words", [
    ({"kind": "compare", "alternatives": 3}, "not in the expected shape"),
    ({"kind": "signposts"}, "not in the expected shape (KeyError"),
    ({"kind": "tea_leaves"}, "is not one this report knows"),
])
def test_a_bad_or_unknown_analysis_becomes_a_one_line_note(data, words, tmp_path):
    section = analysis_section(AnalysisOutput(tmp_path, data["kind"], data), "x")
    assert words in section.note and "\n" not in section.note and not section.html


def test_analysis_folders_are_recognised_by_their_kind_json_and_broken_ones_noted(tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir(), (tmp_path / "c").mkdir()
    (tmp_path / "a" / "paths.json").write_text(json.dumps(ANALYSES["paths"]))
    (tmp_path / "b" / "compare.json").write_text("{not json")
    (tmp_path / "c" / "signposts.json").write_text(json.dumps({"day": 30}))
    runs, analyses = load_inputs([tmp_path / "a", tmp_path / "b", tmp_path / "c"])
    assert runs == [] and [(a.kind, a.data is None) for a in analyses] == [
        ("paths", False), ("compare", True), ("signposts", True)]
    assert "not valid JSON" in analyses[1].problem and "no \"kind\" key" in analyses[2].problem
    brief = write_report([tmp_path / "a", tmp_path / "b"], out=tmp_path / "only.html")
    assert "L→B→S→G→I" in brief.path.read_text() and "Not shown:" in brief.path.read_text()


# ---------------------------------------------------------------- command and error cases (real run)

@pytest.fixture(scope="module")
def real_folders(tmp_path_factory):
    """Two small real runs (baseline with its plots, mediation_push without) and an analysis folder with a PNG."""
    import sim
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    root = tmp_path_factory.mktemp("report")
    for scenario, plots in (("baseline", "true"), ("mediation_push", "false")):  # plots take most of the time
        sim.run(scenario, overrides=["engine=fast", "n_runs=3000", "seed=11", f"plots={plots}"],
                output_dir=root / scenario)
    analysis = root / "signposts_test"
    analysis.mkdir()
    (analysis / "signposts.json").write_text(json.dumps(ANALYSES["signposts"]), encoding="utf-8")
    fig = Figure(figsize=(6, 2.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.errorbar([1.8], [0], xerr=[[0.3], [0.3]], fmt="o")
    ax.set_xlabel("lift of P(incursion or worse)")
    fig.savefig(analysis / "lift.png")
    return root / "baseline", root / "mediation_push", analysis


@pytest.mark.slow  # shares the module's real runs (about 10 s to make)
def test_command_writes_the_brief_into_the_first_folder_and_prints_the_judgements(real_folders, capsys):
    baseline, alternative, analysis = real_folders
    assert command([str(baseline), str(alternative), str(analysis)]) == 0
    out = capsys.readouterr().out
    html = (baseline / "brief.html").read_text(encoding="utf-8")
    for label, folder in (("baseline", baseline), ("mediation_push", alternative)):
        summary = json.loads((folder / "summary.json").read_text())
        for sentence in key_judgements(summary):
            assert sentence in out and str(escape(sentence)) in html
    assert "Signposts: what to watch" in html and "Analyses not included" in html
    assert not re.search(r"""(src|href)=["'](https?:|//)""", html)  # self-contained
    assert html.count("data:image/png;base64,") == 4 + 1
    assert "No plots in the results folder of mediation_push (run with plots=true)." in html
    metrics = html.split('id="metrics"')[1].split("</section>")[0]
    assert metrics.count('class="ci"') == 2 * 13 * 3  # every percentile of every key metric has its interval
    from sim.results import load_results
    load_results(baseline)  # the brief in the folder does not spoil it


@pytest.mark.slow  # shares the module's real runs (about 10 s to make)
def test_phia_yardstick_and_title_options(real_folders, tmp_path):
    out = tmp_path / "phia.html"
    assert command([str(real_folders[0]), "--yardstick", "phia", "--out", str(out), "--title", "Brief X"]) == 0
    html = out.read_text(encoding="utf-8")
    assert "<title>Brief X</title>" in html and "Words follow the PHIA yardstick" in html
    entry = json.loads((real_folders[0] / "summary.json").read_text())["outcomes"]["regional_war"]
    phia, icd = (estimative_words(entry["p"], entry["ci95"], y).label for y in ("phia", "icd203"))
    assert phia != icd and f"<td>{phia}</td>" in html and f"<td>{icd}</td>" not in html


def _broken_copy(folder: Path, tmp_path: Path, how: str) -> Path:
    copy = tmp_path / f"broken_{how}"
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("brief.html"))
    if how == "running":
        manifest = json.loads((copy / "manifest.json").read_text())
        manifest["status"] = "running"
        (copy / "manifest.json").write_text(json.dumps(manifest))
    else:
        (copy / "summary.json").write_text("{}")
    return copy


@pytest.mark.slow
@pytest.mark.parametrize("how, message", [("running", "run not finished"), ("edited", "does not match its manifest")])
def test_unfinished_or_altered_results_folder_is_one_error_line_and_no_file(real_folders, tmp_path, capsys, how,
                                                                           message):
    broken = _broken_copy(real_folders[0], tmp_path, how)
    assert command([str(broken)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (broken / "brief.html").exists()


@pytest.mark.parametrize("argv, message", [
    (["{tmp}/missing"], "no such folder"),
    (["{tmp}"], "neither a results folder"),
    (["{tmp}", "--yardstick", "nato"], "invalid choice: 'nato'"),
    (["{tmp}", "--out", "{tmp}"], "is a folder; give a file name"),
    ([], "the following arguments are required"),
])
def test_bad_command_lines_exit_2_with_one_line(argv, message, tmp_path, capsys):
    assert command([arg.format(tmp=tmp_path) for arg in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- the page in a real browser

def _browser():
    """Headless Chromium through the system chromedriver; skip only outside CI when it is missing."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    missing = [p for p in (chromium, driver_path) if not Path(p).is_file()]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("the selenium package")
    if missing:
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(f"CI is set but the browser test cannot run: missing {', '.join(missing)}")
        pytest.skip(f"headless browser not available (missing {', '.join(missing)}); .ci/run installs it")
    options = Options()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver_path), options=options)


@pytest.mark.slow  # shares the module's real runs (about 10 s to make)
def test_brief_renders_in_chromium_without_errors_with_figures_and_judgements(real_folders, tmp_path):
    baseline, alternative, analysis = real_folders
    brief = write_report([baseline, alternative, analysis], out=tmp_path / "brief.html")
    driver = _browser()
    try:
        driver.get(brief.path.resolve().as_uri())
        severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth]);")
        text = driver.find_element("tag name", "body").text
        size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
    finally:
        driver.quit()
    png = base64.b64decode(shot["data"])
    (tmp_path / "brief.png").write_bytes(png)
    if os.environ.get("SIM_SCREENSHOT_DIR"):
        target = Path(os.environ["SIM_SCREENSHOT_DIR"])
        target.mkdir(parents=True, exist_ok=True)
        (target / "brief.png").write_bytes(png)
    assert severe == []
    assert len(images) == 4 + 1 and all(alt and complete and width > 0 for alt, complete, width in images), images
    for _, sentences in brief.judgements:
        for sentence in sentences:
            assert sentence in text
    assert text.index("Bottom line") < text.index("Contents") < text.index("Key judgements\n")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and size["height"] > 3000


def test_key_judgements_name_the_calendar_end_when_the_run_has_a_start_date():
    from sim.report_sections import key_judgements

    summary = {"horizon_days": 365, "start_date": "2025-10-13",
               "cumulative": {"incursion_or_worse": {"p": 0.11, "ci95": [0.10, 0.12]}},
               "outcomes": {"de_escalation": {"p": 0.08, "ci95": [0.07, 0.09]},
                            "protracted_low_intensity": {"p": 0.62, "ci95": [0.61, 0.63]}}}
    sentences = key_judgements(summary)
    assert any("incursion or worse within 365 days, by 2026-10-13." in s for s in sentences)
    assert any("persists through 365 days, to 2026-10-13." in s for s in sentences)
    assert any("de-escalates within 365 days, by 2026-10-13 (a ceasefire" in s for s in sentences)
    undated = key_judgements({**summary, "start_date": None})
    assert all("2026" not in s for s in undated)
    assert any("incursion or worse within 365 days." in s for s in undated)


def test_event_table_of_a_dated_run_gives_the_median_first_day_and_its_date():
    summary = _summary(COUNTS_A)
    summary["metrics"]["first_strike_day"] = {"mean": 40.0, "p05": 2.0, "p50": 36.6, "p95": 200.0}
    dated = {**summary, "start_date": "2025-10-13",
             "metrics": {"first_strike_day": {**summary["metrics"]["first_strike_day"], "p50_date": "2025-11-18"}}}
    html = str(outcomes_section([ScenarioRun(Path("/nowhere"), "a", dated, {"files": {}})], "icd203").html)
    assert "Events at least once within 365 days (to 2026-10-13)" in html
    assert "median first day, when it happens" in html and "day 36.6 (2025-11-18)" in html
    undated = str(outcomes_section([ScenarioRun(Path("/nowhere"), "a", summary, {"files": {}})], "icd203").html)
    assert "day 36.6<" in undated and "(to " not in undated
