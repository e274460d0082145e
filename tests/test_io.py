"""Tests for sim.io: atomic writes, checked reads, hashes, provenance."""

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pytest

from sim import io as sio
from sim.errors import ConfigError, ResultsError


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# ---------------------------------------------------------------- atomic writes


def test_bytes_and_text_round_trip(tmp_path):
    sio.atomic_write_bytes(tmp_path / "a.bin", b"\x00\x01")
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
    sio.atomic_write_text(tmp_path / "a.txt", "Torkham ✓\r\n")
    assert (tmp_path / "a.txt").read_bytes() == "Torkham ✓\r\n".encode()
    sio.atomic_write_text(str(tmp_path / "a.txt"), "replaced")
    assert (tmp_path / "a.txt").read_text() == "replaced"
    assert _leftovers(tmp_path) == []


def test_new_file_is_world_readable_and_existing_mode_is_kept(tmp_path):
    target = tmp_path / "m.txt"
    sio.atomic_write_text(target, "x")
    assert target.stat().st_mode & 0o777 == 0o644
    os.chmod(target, 0o600)
    sio.atomic_write_text(target, "y")
    assert target.stat().st_mode & 0o777 == 0o600


def test_failed_json_write_leaves_original_untouched(tmp_path):
    target = tmp_path / "summary.json"
    sio.write_json(target, {"ok": 1})
    before = target.read_bytes()
    with pytest.raises(TypeError, match="object"):
        sio.write_json(target, {"ok": 2, "bad": object()})
    assert target.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_failure_after_temp_file_exists_cleans_up(tmp_path, monkeypatch):
    target = tmp_path / "runs.bin"
    target.write_bytes(b"original")

    def boom(*args):
        raise OSError("disk full")

    monkeypatch.setattr(sio.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        sio.atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"original"
    assert _leftovers(tmp_path) == []


def test_failed_parquet_write_cleans_up(tmp_path, monkeypatch):
    target = tmp_path / "runs.parquet"
    sio.write_parquet(target, pa.table({"x": [1]}))
    before = target.read_bytes()

    def encoding_fails(table, where, **kwargs):
        where.write(b"PAR1 half")
        raise OSError("encoder interrupted")

    with monkeypatch.context() as patch:
        patch.setattr(sio.pq, "write_table", encoding_fails)
        with pytest.raises(OSError, match="encoder interrupted"):
            sio.write_parquet(target, pa.table({"x": [2]}))
    assert target.read_bytes() == before
    assert _leftovers(tmp_path) == []

    def disk_fails(fd):  # the bytes are in the temporary file, then the disk gives up
        raise OSError("disk interrupted")

    monkeypatch.setattr(sio.os, "fsync", disk_fails)
    with pytest.raises(OSError, match="disk interrupted"):
        sio.write_parquet(target, pa.table({"x": [2]}))
    assert target.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_parquet_digest_and_deferred_durability(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(sio.os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    path = tmp_path / "part.parquet"
    digest = sio.write_parquet(path, pa.table({"x": np.arange(100)}), durable=False)
    assert digest == sio.sha256_file(path)
    assert synced == []  # deferred: nothing forced to disk yet
    sio.fsync_files([path])
    assert len(synced) == 2  # the file, then its folder
    assert sio.read_parquet(path).column("x").to_pylist() == list(range(100))


def test_write_rejects_wrong_types(tmp_path):
    with pytest.raises(TypeError):
        sio.atomic_write_bytes(tmp_path / "a", "text")
    with pytest.raises(TypeError):
        sio.atomic_write_text(tmp_path / "a", b"bytes")
    with pytest.raises(TypeError):
        sio.write_parquet(tmp_path / "a.parquet", {"x": [1]})
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- JSON


@dataclass(frozen=True)
class _Estimate:
    p: float
    ci95: tuple


def test_json_round_trip_converts_numpy_nan_and_dataclasses(tmp_path):
    obj = {
        "z": np.float64(0.25),
        "a": [np.int32(2), np.bool_(True), float("nan"), np.nan],
        "arr": np.array([[1, 2], [3, 4]]),
        "est": _Estimate(np.float32(0.5), (0.1, 0.9)),
        "none": None,
        3: "int key",
    }
    path = tmp_path / "s.json"
    sio.write_json(path, obj)
    text = path.read_text()
    assert text.endswith("\n") and "NaN" not in text
    assert list(json.loads(text)) == sorted(json.loads(text))
    assert sio.read_json(path, "summary") == {
        "3": "int key",
        "a": [2, True, None, None],
        "arr": [[1, 2], [3, 4]],
        "est": {"p": 0.5, "ci95": [0.1, 0.9]},
        "none": None,
        "z": 0.25,
    }
    assert text.startswith('{\n  "3"')


def test_json_rejects_infinity(tmp_path):
    with pytest.raises(ValueError, match="inf"):
        sio.write_json(tmp_path / "s.json", {"x": [1.0, np.inf]})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "content, fragment",
    [(b"{not json", "not valid JSON"), (b"[1, 2]", "JSON object"),
     (b"\xff\xfe", "UTF-8"), (b"", "not valid JSON")],
)
def test_read_json_errors_name_the_file(tmp_path, content, fragment):
    path = tmp_path / "manifest.json"
    path.write_bytes(content)
    with pytest.raises(ResultsError) as err:
        sio.read_json(path, "manifest")
    msg = str(err.value)
    assert "manifest.json" in msg and fragment in msg and "\n" not in msg
    assert isinstance(err.value, ConfigError)


def test_read_json_missing_file(tmp_path):
    with pytest.raises(ResultsError, match=r"summary file .*nope\.json is missing"):
        sio.read_json(tmp_path / "nope.json", "summary")


# ---------------------------------------------------------------- Parquet


def test_parquet_round_trip_uses_zstd(tmp_path):
    import pyarrow.parquet as pq

    table = pa.table({"run": np.arange(5), "outcome": ["war", "truce", "war", "war", "stalemate"]})
    path = tmp_path / "runs.parquet"
    sio.write_parquet(path, table)
    assert sio.read_parquet(path).equals(table)
    assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "ZSTD"


@pytest.mark.parametrize("content", [b"garbage, not parquet", b"", b"PAR1" + b"\x00" * 20 + b"PAR1"])
def test_read_parquet_corrupt(tmp_path, content):
    path = tmp_path / "runs.parquet"
    path.write_bytes(content)
    with pytest.raises(ResultsError) as err:
        sio.read_parquet(path)
    assert "runs.parquet" in str(err.value) and "\n" not in str(err.value)


def test_read_parquet_truncated(tmp_path):
    path = tmp_path / "runs.parquet"
    sio.write_parquet(path, pa.table({"x": np.arange(1000)}))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ResultsError, match="runs.parquet"):
        sio.read_parquet(path)


def test_read_parquet_missing(tmp_path):
    with pytest.raises(ResultsError, match="gone.parquet is missing"):
        sio.read_parquet(tmp_path / "gone.parquet")


def test_read_parquet_names_a_column_the_file_lacks_and_reads_the_columns_asked_for(tmp_path):
    path = tmp_path / "runs.parquet"
    sio.write_parquet(path, pa.table({"x": np.arange(4), "y": np.arange(4.0)}))
    assert sio.read_parquet(path, ["y"]).column_names == ["y"]
    with pytest.raises(ResultsError) as err:
        sio.read_parquet(path, ["y", "z"])
    assert str(err.value) == f"Parquet file {path} has no column 'z'"


# ---------------------------------------------------------------- hashes


def test_sha256_file(tmp_path):
    data = os.urandom(3_000_000)
    (tmp_path / "d").write_bytes(data)
    assert sio.sha256_file(tmp_path / "d") == hashlib.sha256(data).hexdigest()
    with pytest.raises(ResultsError, match="missing.bin"):
        sio.sha256_file(tmp_path / "missing.bin")


def _folder_with_manifest(tmp_path):
    sio.write_json(tmp_path / "summary.json", {"a": 1})
    (tmp_path / "sub").mkdir()
    sio.write_parquet(tmp_path / "sub" / "runs.parquet", pa.table({"x": [1, 2]}))
    names = ["summary.json", "sub/runs.parquet"]
    return {"files": {n: sio.sha256_file(tmp_path / n) for n in names}}


def test_verify_hashes_ok(tmp_path):
    sio.verify_hashes(tmp_path, _folder_with_manifest(tmp_path))


def test_verify_hashes_detects_change(tmp_path):
    manifest = _folder_with_manifest(tmp_path)
    (tmp_path / "summary.json").write_text('{"a": 2}\n')
    with pytest.raises(ResultsError) as err:
        sio.verify_hashes(tmp_path, manifest)
    msg = str(err.value)
    assert "summary.json" in msg and "mismatch" in msg and "runs.parquet" not in msg and "\n" not in msg


def test_verify_hashes_detects_missing(tmp_path):
    manifest = _folder_with_manifest(tmp_path)
    (tmp_path / "sub" / "runs.parquet").unlink()
    with pytest.raises(ResultsError, match=r"sub/runs\.parquet \(missing\)"):
        sio.verify_hashes(tmp_path, manifest)


@pytest.mark.parametrize(
    "manifest",
    [{}, {"files": ["a"]}, {"files": {"../escape.json": "0" * 64}}, {"files": {"/etc/passwd": "0" * 64}},
     {"files": {"summary.json": 5}}],
)
def test_verify_hashes_rejects_bad_manifest(tmp_path, manifest):
    sio.write_json(tmp_path / "summary.json", {"a": 1})
    with pytest.raises(ResultsError):
        sio.verify_hashes(tmp_path, manifest)


# ---------------------------------------------------------------- provenance


def test_package_versions():
    versions = sio.package_versions(["numpy", "pyarrow", "definitely-not-installed-pkg"])
    assert versions["numpy"] == np.__version__
    assert versions["pyarrow"] == pa.__version__
    assert versions["definitely-not-installed-pkg"] is None


def test_git_commit_outside_repo_and_bad_dir(tmp_path):
    assert sio.git_commit(tmp_path) is None
    assert sio.git_commit(tmp_path / "does-not-exist") is None


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_git_commit_in_repo(tmp_path):
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True, env=env)
    assert sio.git_commit(tmp_path) is None  # no commits yet
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "x"], cwd=tmp_path, check=True, env=env)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True,
                          check=True).stdout.strip()
    assert sio.git_commit(tmp_path) == head


def test_git_commit_without_git(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert sio.git_commit(tmp_path) is None


def test_per_day_int8_lists_round_trip_through_parquet_packed(tmp_path):
    days = pa.array([[0, 1, 2, 2], [3, 3, 3, 3], [5, 0, 0, 1]], pa.list_(pa.int8()))
    ragged = pa.array([[0, 1], [2], []], pa.list_(pa.int8()))  # unequal lengths stay a list
    table = pa.table({"rung_daily": days, "rung_path": ragged, "x": [1.5, 2.5, 3.5]})
    for piece in (table, table.slice(1, 2), pa.concat_tables([table.slice(0, 1), table.slice(1, 2)])):
        path = tmp_path / "t.parquet"
        sio.write_parquet(path, piece, metadata={"stamp": "1"})
        stored = sio.pq.read_schema(path)
        assert pa.types.is_fixed_size_binary(stored.field("rung_daily").type)
        assert pa.types.is_list(stored.field("rung_path").type)
        back = sio.read_parquet(path)
        assert back.column("rung_daily").to_pylist() == piece.column("rung_daily").to_pylist()
        assert back.column("rung_path").to_pylist() == piece.column("rung_path").to_pylist()
        assert back.schema.field("rung_daily").type == pa.list_(pa.int8())
        assert back.schema.metadata == {b"stamp": b"1"}
        assert sio.read_parquet(path, columns=["x"]).column_names == ["x"]
