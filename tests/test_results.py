"""Tests for sim.results: the results folder round-trips, its summary is consistent with its
runs table, and every kind of damage to it is refused with one ResultsError naming the file."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml

import sim
from sim import io as sio
from sim.config import run_config_from_mapping
from sim.errors import ConfigError, ResultsError
from sim.model import OUTCOME_CLASSES
from sim.records import METRIC_COLUMNS
from sim.results import CUMULATIVE, SCHEMA_VERSION, load_results, run_and_save

N_RUNS = 30
CORE_FILES = {"summary.json", "config.yaml"}
PART = "runs.parquet/part-000000.parquet"


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """One tiny results folder, written once; tests copy it before touching it."""
    config = sim.compose_run_config(["experiment=smoke", f"n_runs={N_RUNS}", "horizon_days=60", "plots=false"])
    folder = tmp_path_factory.mktemp("saved") / "r"
    results = run_and_save(config, folder, progress=False, workers=1)
    return results, folder


@pytest.fixture
def copy(saved, tmp_path):
    """A private copy of the saved folder, so every test may damage its own."""
    _, folder = saved
    target = tmp_path / "r"
    shutil.copytree(folder, target)
    return target


def _rehash(folder, name):
    """Make the manifest agree with a damaged file, so the reader itself must notice."""
    manifest = json.loads((folder / "manifest.json").read_text())
    if name.startswith("runs.parquet/"):
        entry = next(e for e in manifest["chunks"].values() if e["file"] == name)
        entry["sha256"] = sio.sha256_file(folder / name)
    else:
        manifest["files"][name] = sio.sha256_file(folder / name)
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _nan_safe(values):
    """Lists with NaN replaced by a marker, so two equal columns compare equal."""
    if isinstance(values, list):
        return [_nan_safe(value) for value in values]
    return "NaN" if isinstance(values, float) and math.isnan(values) else values


def _refused(folder, *names):
    with pytest.raises(ResultsError) as caught:
        load_results(folder)
    message = str(caught.value)
    assert "\n" not in message, message
    for name in names:
        assert name in message, message
    return message


# ---------------------------------------------------------------- a good folder


def test_folder_holds_core_files_and_manifest_last(saved):
    results, folder = saved
    names = {path.name for path in folder.iterdir()}
    assert names == CORE_FILES | {"manifest.json", "runs.parquet"}  # plots=false: no plots/ folder
    assert (folder / PART).is_file()
    assert not [name for name in names if name.endswith(".tmp")]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert set(manifest["files"]) == CORE_FILES
    assert manifest["status"] == "complete" and manifest["chunks"]["0"]["file"] == PART
    assert manifest["schema_version"] == SCHEMA_VERSION
    assert manifest["n_runs"] == N_RUNS and manifest["seed"] == results.config.seed
    assert results.folder == folder


def test_load_results_round_trips(saved):
    results, folder = saved
    summary, table, manifest = load_results(folder)
    assert table.num_rows == N_RUNS
    assert table.schema.equals(results.table.schema)
    for name in table.column_names:  # NaN (censored first-event days) must compare equal
        assert _nan_safe(table.column(name).to_pylist()) == _nan_safe(results.table.column(name).to_pylist()), name
    # summary.json is plain JSON: NaN became null, tuples lists; otherwise identical
    assert summary == json.loads(json.dumps(results.summary).replace("NaN", "null"))
    assert summary["n_runs"] == N_RUNS and summary["scenario"] == "baseline"
    assert manifest["files"].keys() == CORE_FILES
    assert load_results(str(folder))[0] == summary  # a str path works too


def test_load_results_reads_only_the_columns_asked_for_in_the_parts_order(saved):
    _, folder = saved
    _, full, _ = load_results(folder)
    params = [name for name in full.column_names if name.startswith("param.")]
    _, some, _ = load_results(folder, columns=["outcome", "param.*", "no_such_column", "run_index"])
    assert params and some.num_rows == N_RUNS
    assert some.column_names == [name for name in full.column_names if name in {"outcome", "run_index", *params}]
    for name in some.column_names:
        assert _nan_safe(some.column(name).to_pylist()) == _nan_safe(full.column(name).to_pylist()), name


def test_reading_a_few_columns_still_checks_every_hash_and_part(copy):
    path = copy / PART
    intact = path.read_bytes()
    path.write_bytes(intact[:-12])                                  # footer gone: a hash mismatch
    with pytest.raises(ResultsError, match="sha256 mismatch"):
        load_results(copy, columns=["outcome"])
    _rehash(copy, PART)                                             # hash agrees: the reader must notice
    with pytest.raises(ResultsError, match="corrupt") as caught:
        load_results(copy, columns=["outcome"])
    assert PART in str(caught.value) and "\n" not in str(caught.value)


def test_saved_config_reproduces_the_run_config(saved):
    results, folder = saved
    mapping = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8"))
    assert mapping["n_runs"] == N_RUNS and mapping["preset"] == "smoke" and mapping["plots"] is False
    assert run_config_from_mapping(mapping) == results.config


def test_outcome_probabilities_sum_to_one_with_ordered_intervals(saved):
    summary, _, _ = load_results(saved[1])
    outcomes = summary["outcomes"]
    assert set(outcomes) == set(OUTCOME_CLASSES)  # summary.json is written with sorted keys
    assert math.fsum(entry["p"] for entry in outcomes.values()) == pytest.approx(1.0, abs=1e-12)
    assert sum(entry["count"] for entry in outcomes.values()) == N_RUNS
    for name, entry in outcomes.items():
        lo, hi = entry["ci95"]
        assert 0.0 <= lo <= entry["p"] <= hi <= 1.0, name
        assert entry["p"] == entry["count"] / N_RUNS


def test_cumulative_classes_are_sums_of_outcome_classes(saved):
    summary, _, _ = load_results(saved[1])
    p = {name: entry["p"] for name, entry in summary["outcomes"].items()}
    incursion = summary["cumulative"]["incursion_or_worse"]
    assert incursion["p"] == pytest.approx(p["conventional_incursion"] + p["regional_war"], abs=1e-12)
    for name, classes in CUMULATIVE.items():
        entry = summary["cumulative"][name]
        assert entry["count"] == sum(summary["outcomes"][c]["count"] for c in classes), name
        assert entry["p"] == pytest.approx(sum(p[c] for c in classes), abs=1e-12), name


def test_outcome_counts_match_the_runs_table(saved):
    summary, table, _ = load_results(saved[1])
    outcomes = table.column("outcome").to_pylist()
    for name in OUTCOME_CLASSES:
        assert summary["outcomes"][name]["count"] == outcomes.count(name), name


def test_metric_means_equal_the_runs_table_column_means(saved):
    summary, table, _ = load_results(saved[1])
    assert set(summary["metrics"]) == set(METRIC_COLUMNS)
    for name in METRIC_COLUMNS:
        values = table.column(name).to_numpy().astype(float)
        finite = values[np.isfinite(values)]
        entry = summary["metrics"][name]
        if finite.size == 0:  # e.g. a first-event day no run reached: censored everywhere
            assert entry["mean"] is None and entry["n"] == 0, name
            continue
        assert entry["n"] == finite.size, name
        assert entry["mean"] == pytest.approx(float(finite.mean()), rel=1e-9, abs=1e-12), name


# ---------------------------------------------------------------- damaged folders


def test_truncated_summary_is_a_hash_mismatch_naming_the_file(copy):
    path = copy / "summary.json"
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    _refused(copy, "summary.json", "sha256 mismatch")


def test_truncated_summary_with_a_matching_hash_is_invalid_json_naming_the_file(copy):
    path = copy / "summary.json"
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    _rehash(copy, "summary.json")
    _refused(copy, "summary.json", "not valid JSON")


def test_flipped_byte_in_runs_parquet_is_a_hash_mismatch_naming_it(copy):
    path = copy / PART
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    message = _refused(copy, PART, "sha256 mismatch")
    assert "summary.json" not in message  # only the damaged file is named


def test_corrupt_parquet_with_a_matching_hash_is_refused_naming_it(copy):
    path = copy / PART
    path.write_bytes(path.read_bytes()[:-12])  # footer gone
    _rehash(copy, PART)
    _refused(copy, PART, "corrupt")


def test_missing_data_file_is_named(copy):
    (copy / PART).unlink()
    _refused(copy, PART, "missing")


def test_a_foreign_part_file_is_refused_not_mixed_in(copy):
    shutil.copy(copy / PART, copy / "runs.parquet" / "part-000007.parquet")
    _refused(copy, "part-000007.parquet", "foreign")


def test_an_unfinished_run_is_refused_with_the_resume_command(copy):
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["status"] = "running"
    (copy / "manifest.json").write_text(json.dumps(manifest))
    _refused(copy, "resume=")


def test_missing_manifest_is_refused(copy):
    (copy / "manifest.json").unlink()
    _refused(copy, "manifest", "missing")


def test_corrupt_manifest_is_refused(copy):
    (copy / "manifest.json").write_text('{"schema_version": 1, "files": ')
    _refused(copy, "manifest.json", "not valid JSON")


def test_manifest_from_another_schema_version_is_refused(copy):
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["schema_version"] = SCHEMA_VERSION + 1
    (copy / "manifest.json").write_text(json.dumps(manifest))
    _refused(copy, "manifest.json", "schema_version", str(SCHEMA_VERSION + 1))


def test_manifest_pointing_outside_the_folder_is_refused(copy):
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["files"]["../outside.txt"] = "0" * 64
    (copy / "manifest.json").write_text(json.dumps(manifest))
    _refused(copy, "../outside.txt")


def test_not_a_folder_is_refused(tmp_path):
    _refused(tmp_path / "nowhere", "nowhere", "not a results folder")


def test_results_error_is_a_config_error(copy):
    """The CLI catches ConfigError once; ResultsError must be one of them."""
    (copy / "manifest.json").unlink()
    with pytest.raises(ConfigError):
        load_results(copy)


def test_parquet_is_readable_without_sim(saved):
    """runs.parquet is plain Parquet: any reader opens it."""
    assert pq.read_table(saved[1] / "runs.parquet").num_rows == N_RUNS


def test_a_batch_bigger_than_plot_rows_keeps_only_scalar_columns_of_its_first_runs(tmp_path, monkeypatch):
    import sim.results as results_module
    from sim.config import compose_run_config

    monkeypatch.setattr(results_module, "PLOT_ROWS", 150)
    config = compose_run_config(["experiment=smoke", "n_runs=400", "chunk_size=100", "horizon_days=60",
                                 "engine=fast", "workers=1"])
    results = run_and_save(config, tmp_path / "big", progress=False, workers=1)
    assert results.table.num_rows == 150
    assert results.table.column("run_index").to_pylist() == list(range(150))
    assert "rung_daily" not in results.table.column_names and "outcome" in results.table.column_names
    assert not any(name.startswith("param.") for name in results.table.column_names)
    assert (tmp_path / "big" / "plots" / "distributions.png").is_file()
    _, everything, _ = load_results(tmp_path / "big")
    assert everything.num_rows == 400 and "rung_daily" in everything.column_names


def test_a_run_without_plots_reads_its_rows_back_only_when_asked(tmp_path, monkeypatch):
    import sim.results as results_module
    from sim.config import compose_run_config

    reads = []
    real = results_module._first_rows
    monkeypatch.setattr(results_module, "_first_rows", lambda *args: reads.append(args) or real(*args))
    config = compose_run_config(["experiment=smoke", "n_runs=300", "chunk_size=100", "horizon_days=60",
                                 "engine=fast", "plots=false"])
    results = run_and_save(config, tmp_path / "r", progress=False, workers=2)
    assert reads == []  # the run itself never read its parts back
    first = results.table
    assert len(reads) == 1 and results.table is first  # read once, when asked
    _, stored, _ = results_module.load_results(tmp_path / "r")
    assert first.num_rows == 300 and first.column("run_index").to_pylist() == stored.column("run_index").to_pylist()


def test_first_rows_read_while_waiting_are_the_rows_read_at_the_end(tmp_path, monkeypatch):
    import sim.results as results_module
    from sim.config import compose_run_config

    monkeypatch.setattr(results_module, "PLOT_ROWS", 250)
    config = compose_run_config(["experiment=smoke", "n_runs=600", "chunk_size=100", "horizon_days=60",
                                 "engine=fast", "plots=false"])
    folder = tmp_path / "r"
    run_and_save(config, folder, progress=False, workers=1)
    manifest = results_module._Manifest(folder, config, json.loads((folder / "manifest.json").read_text()))
    parts = [folder / manifest.data["chunks"][str(k)]["file"] for k in range(6)]
    scalars = results_module._scalar_columns()
    at_the_end = results_module._first_rows(parts, 250, scalars)

    early = results_module._FirstRows(folder, config, manifest)
    early.prefetch()
    assert [path.name for path in early.read[0]] == [path.name for path in parts[:3]]  # 3 x 100 >= 250 rows
    same = lambda a, b: ({k: _nan_safe(v) for k, v in a.to_pydict().items()}  # noqa: E731
                         == {k: _nan_safe(v) for k, v in b.to_pydict().items()})
    assert early.take(parts, scalars) is early.read[2] and same(early.read[2], at_the_end)
    # other columns, or other parts (a sequential stop before them), or fewer rows: read afresh
    assert early.take(parts, None) is not early.read[2]
    assert same(early.take(parts, None), results_module._first_rows(parts, 250, None))
    assert early.take(parts[:2], scalars).num_rows == 200
    # a chunk among the first ones not done yet: nothing read early
    del manifest.data["chunks"]["1"]
    waiting = results_module._FirstRows(folder, config, manifest)
    waiting.prefetch()
    assert waiting.read is None and same(waiting.take(parts, scalars), at_the_end)


def test_every_part_is_on_disk_before_a_manifest_lists_it(tmp_path, monkeypatch):
    """Workers write parts without fsync; the manifest syncs them before it names them."""
    synced, written = set(), []
    real_fsync_files, real_write_json = sio.fsync_files, sio.write_json

    def fsync_files(paths):
        synced.update(str(path) for path in paths)
        real_fsync_files(paths)

    def write_json(path, obj):
        if path.name == "manifest.json":
            written.append(({entry["file"] for entry in obj["chunks"].values()}, set(synced)))
        real_write_json(path, obj)

    monkeypatch.setattr(sio, "fsync_files", fsync_files)
    monkeypatch.setattr(sio, "write_json", write_json)
    monkeypatch.setattr("sim.results.time.monotonic", iter(range(0, 10_000, 2)).__next__)  # a write per chunk
    config = sim.compose_run_config(["experiment=smoke", "n_runs=40", "chunk_size=10", "horizon_days=30",
                                     "plots=false"])
    folder = tmp_path / "r"
    run_and_save(config, folder, progress=False, workers=1)
    assert written[-1][0] == {f"runs.parquet/part-{k:06d}.parquet" for k in range(4)}
    assert len(written) >= 4
    for listed, synced_by_then in written:
        assert {str(folder / name) for name in listed} <= synced_by_then
