"""Result files: atomic writes, checked reads, hashes and provenance.

Every writer puts the data in a temporary file in the destination's directory
and then ``os.replace``-s it into place, so a reader never sees a half-written
file; on any exception the temporary file is removed and an existing file is
left untouched. Readers turn every failure into a one-line ``ResultsError``
naming the file.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> write_json(d / "summary.json", {"b": float("nan"), "a": 1})
>>> read_json(d / "summary.json", "summary")
{'a': 1, 'b': None}
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim.columns import to_numpy
from sim.errors import ResultsError

__all__ = [
    "atomic_write_bytes",
    "atomic_write_text",
    "write_json",
    "write_parquet",
    "fsync_files",
    "sha256_file",
    "read_json",
    "read_parquet",
    "pack_int8_lists",
    "unpack_int8_lists",
    "verify_hashes",
    "package_versions",
    "git_commit",
]

_NEW_FILE_MODE = 0o644


def _atomic_write(path: str | os.PathLike, write: Callable[[str], None], *, durable: bool = True) -> None:
    """Call ``write(tmp_path)`` then move the temp file onto ``path``; ``durable``: on disk (fsync)
    before it takes the name, and the directory entry too. Without it the file is safe from the
    writing process being killed, not from the machine failing: :func:`fsync_files` later."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        if durable:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        try:
            mode = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = _NEW_FILE_MODE
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    if durable:
        _fsync_dir(path.parent)


def fsync_files(paths: Sequence[str | os.PathLike]) -> None:
    """Make files written with ``durable=False`` durable: each file, then each of their folders.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.parquet"
    >>> digest = write_parquet(p, pa.table({"x": [1]}), durable=False); fsync_files([p])
    """
    folders = []
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        if Path(path).parent not in folders:
            folders.append(Path(path).parent)
    for folder in folders:
        _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.bin"
    >>> atomic_write_bytes(p, b"abc"); p.read_bytes()
    b'abc'
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data for {path}: expected bytes, got {type(data).__name__}")

    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            fh.write(data)

    _atomic_write(path, write)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8, newlines untranslated) to ``path`` atomically.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> atomic_write_text(p, "héllo\\n"); p.read_text(encoding="utf-8")
    'héllo\\n'
    """
    if not isinstance(text, str):
        raise TypeError(f"text for {path}: expected str, got {type(text).__name__}")
    atomic_write_bytes(path, text.encode("utf-8"))


def _jsonable(obj: Any, where: str) -> Any:
    """Plain-JSON copy of ``obj``: numpy -> Python, tuples -> lists, NaN -> None."""
    if obj is None or isinstance(obj, (bool, str, int)):
        return obj
    if isinstance(obj, float):
        if math.isnan(obj):
            return None
        if math.isinf(obj):
            raise ValueError(f"{where}: infinite value {obj!r} cannot be written as JSON")
        return obj
    if isinstance(obj, np.generic):
        return _jsonable(obj.item(), where)
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist(), where)
    if isinstance(obj, Mapping):
        out = {}
        for key, value in obj.items():
            if isinstance(key, np.generic):
                key = key.item()
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise TypeError(f"{where}: JSON object keys must be str or int, got {key!r}")
            out[str(key)] = _jsonable(value, f"{where}.{key}")
        return out
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
        return _jsonable(fields, where)
    raise TypeError(f"{where}: {type(obj).__name__} is not JSON serialisable")


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as JSON (sorted keys, indent 2, trailing newline) atomically.

    numpy scalars/arrays and dataclasses are converted; NaN becomes null and
    an infinity raises ``ValueError``.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.json"
    >>> write_json(p, {"n": np.int64(3), "x": (1.5, np.nan)}); print(p.read_text())
    {
      "n": 3,
      "x": [
        1.5,
        null
      ]
    }
    <BLANKLINE>
    """
    plain = _jsonable(obj, Path(path).name)
    text = json.dumps(plain, sort_keys=True, indent=2, allow_nan=False, ensure_ascii=False)
    atomic_write_text(path, text + "\n")


def write_parquet(path: str | os.PathLike, table: pa.Table, metadata: Mapping[str, str] | None = None, *,
                  durable: bool = True) -> str:
    """Write a pyarrow Table as zstd-compressed Parquet atomically (``metadata``: key-value stamps);
    return the file's SHA-256. ``durable=False``: no fsync here (see :func:`fsync_files`).

    The file is encoded in memory and written with one call, hashed on the way: no second read.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.parquet"
    >>> digest = write_parquet(p, pa.table({"x": [1, 2]})); read_parquet(p).num_rows
    2
    >>> digest == sha256_file(p)
    True
    """
    if not isinstance(table, pa.Table):
        raise TypeError(f"table for {path}: expected pyarrow.Table, got {type(table).__name__}")
    if metadata:
        merged = dict(table.schema.metadata or {})
        merged.update({key.encode(): str(value).encode() for key, value in metadata.items()})
        table = table.replace_schema_metadata(merged)
    table = pack_int8_lists(table)
    # Dictionary encoding pays for repeated values (counts, outcomes), not for lists or floats.
    dictionary = [field.name for field in table.schema
                  if not (pa.types.is_list(field.type) or pa.types.is_floating(field.type)
                          or pa.types.is_fixed_size_binary(field.type))]
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", use_dictionary=dictionary)
    encoded = memoryview(sink.getvalue())

    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            fh.write(encoded)

    _atomic_write(path, write, durable=durable)
    return hashlib.sha256(encoded).hexdigest()


_PACKED = b"sim.packed_int8_lists"  # schema metadata: the columns stored packed, comma-separated


def pack_int8_lists(table: pa.Table) -> pa.Table:
    """Equal-length ``list<int8>`` columns (the per-day rungs and crossings) as one fixed-size
    binary value per row: Parquet writes them ten times faster, reads them 25 times faster and
    smaller than as lists. :func:`unpack_int8_lists` restores them; ``read_parquet`` does it.

    >>> t = pa.table({"d": pa.array([[0, 1, 2], [3, 4, 5]], pa.list_(pa.int8())), "x": [1, 2]})
    >>> packed = pack_int8_lists(t); packed.schema.field("d").type
    FixedSizeBinaryType(fixed_size_binary[3])
    >>> unpack_int8_lists(packed).equals(t)
    True
    """
    packed = []
    for index, field in enumerate(table.schema):
        if not (pa.types.is_list(field.type) and pa.types.is_int8(field.type.value_type)):
            continue
        column = table.column(index).combine_chunks()
        offsets = to_numpy(column.offsets)
        width = int(offsets[1] - offsets[0]) if len(column) else 0
        if column.null_count or width <= 0 or not np.all(np.diff(offsets) == width):
            continue
        values = np.ascontiguousarray(to_numpy(column.flatten()).astype(np.int8, copy=False))
        binary = pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), len(column), [None, pa.py_buffer(values)])
        table = table.set_column(index, pa.field(field.name, binary.type), binary)
        packed.append(field.name)
    if not packed:
        return table
    metadata = dict(table.schema.metadata or {})
    metadata[_PACKED] = ",".join(packed).encode()
    return table.replace_schema_metadata(metadata)


def unpack_int8_lists(table: pa.Table) -> pa.Table:
    """Undo :func:`pack_int8_lists` (tables without packed columns pass unchanged)."""
    metadata = dict(table.schema.metadata or {})
    names = metadata.pop(_PACKED, b"").decode().split(",")
    for name in filter(None, names):
        if name not in table.column_names:
            continue
        index = table.column_names.index(name)
        column = table.column(index).combine_chunks()
        width = column.type.byte_width
        values = np.frombuffer(column.buffers()[1], dtype=np.int8)[column.offset * width:
                                                                    (column.offset + len(column)) * width]
        offsets = pa.array(np.arange(len(column) + 1, dtype=np.int32) * width)
        lists = pa.ListArray.from_arrays(offsets, pa.array(values, pa.int8()))
        table = table.set_column(index, pa.field(name, lists.type), lists)
    return table.replace_schema_metadata(metadata or None)


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes; unreadable file -> ``ResultsError``.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "e"; p.write_bytes(b"")
    0
    >>> sha256_file(p)[:16]
    'e3b0c44298fc1c14'
    """
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as err:
        raise ResultsError(f"{path}: cannot read file to hash it ({_one_line(err)})") from None
    return digest.hexdigest()


def read_json(path: str | os.PathLike, what: str) -> dict:
    """Read a JSON object from ``path``; ``what`` names the file's role in errors.

    >>> read_json("/nonexistent/run.json", "manifest")
    Traceback (most recent call last):
    ...
    sim.errors.ResultsError: manifest file /nonexistent/run.json is missing
    """
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise ResultsError(f"{what} file {path} is missing") from None
    except OSError as err:
        raise ResultsError(f"{what} file {path} cannot be read ({_one_line(err)})") from None
    try:
        obj = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ResultsError(f"{what} file {path} is not UTF-8 text; expected a JSON object") from None
    except json.JSONDecodeError as err:
        raise ResultsError(
            f"{what} file {path} is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})"
        ) from None
    if not isinstance(obj, dict):
        raise ResultsError(f"{what} file {path} must hold a JSON object, found {type(obj).__name__}")
    return obj


def read_parquet(path: str | os.PathLike, columns: Sequence[str] | None = None) -> pa.Table:
    """Read a Parquet file (or a folder of parts, in name order); missing or corrupt -> ``ResultsError``."""
    if os.path.isdir(path):
        parts = sorted(Path(path).glob("*.parquet"))
        if not parts:
            raise ResultsError(f"Parquet folder {path} holds no parts")
        return pa.concat_tables([read_parquet(part, columns) for part in parts])
    if not os.path.isfile(path):
        raise ResultsError(f"Parquet file {path} is missing")
    try:
        return _read_parquet_file(path, columns)
    except ResultsError:
        raise
    except (pa.ArrowException, OSError, ValueError, KeyError) as err:
        raise ResultsError(f"Parquet file {path} is unreadable or corrupt ({_one_line(err)})") from None


def _read_parquet_file(path: str | os.PathLike, columns: Sequence[str] | None) -> pa.Table:
    # ParquetFile, not read_table: the same table, without importing pyarrow.dataset (0.15-0.3 s
    # the first time in a process, for instance in the tail of every large run)
    with pq.ParquetFile(path, pre_buffer=True) as parquet:
        names = set(parquet.schema_arrow.names)  # (schema_arrow is rebuilt on every access)
        missing = [name for name in columns or () if name not in names]
        if missing:  # (ParquetFile.read would leave them out without a word)
            raise ResultsError(f"Parquet file {path} has no column {', '.join(map(repr, missing))}")
        table = parquet.read(columns=None if columns is None else list(columns), use_threads=True)
    return unpack_int8_lists(table)


def _safe_relative(folder: Path, name: Any) -> Path:
    rel = PurePosixPath(name) if isinstance(name, str) else None
    if rel is None or not name or rel.is_absolute() or ".." in rel.parts or "\\" in name:
        raise ResultsError(
            f"manifest in {folder}: file name {name!r} must be a relative path inside the folder"
        )
    return folder.joinpath(*rel.parts)


def verify_hashes(folder: str | os.PathLike, manifest: Mapping) -> None:
    """Check every ``manifest["files"]`` entry ``{relative_name: sha256}`` under ``folder``.

    Raises one ``ResultsError`` naming every missing or changed file.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "a.txt").write_text("x")
    >>> verify_hashes(d, {"files": {"a.txt": sha256_file(d / "a.txt")}})
    >>> verify_hashes(d, {"files": {"a.txt": "0" * 64}})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sim.errors.ResultsError: results folder ...: a.txt (sha256 mismatch: manifest 000000000000..., file ...)
    """
    folder = Path(folder)
    files = manifest.get("files") if isinstance(manifest, Mapping) else None
    if not isinstance(files, Mapping):
        raise ResultsError(
            f"manifest in {folder}: 'files' must be an object mapping relative file names to sha256 hex"
        )
    problems = []
    for name in sorted(files, key=str):
        target = _safe_relative(folder, name)
        expected = files[name]
        if not isinstance(expected, str):
            raise ResultsError(f"manifest in {folder}: hash of {name!r} must be a hex string")
        if not target.is_file():
            problems.append(f"{name} (missing)")
            continue
        actual = sha256_file(target)
        if actual != expected.lower():
            problems.append(
                f"{name} (sha256 mismatch: manifest {expected[:12]}..., file {actual[:12]}...)"
            )
    if problems:
        raise ResultsError(
            f"results folder {folder} does not match its manifest: " + "; ".join(problems)
        )


def package_versions(names: Sequence[str]) -> dict[str, str | None]:
    """Installed version of each distribution, None when not installed.

    >>> package_versions(["numpy", "no-such-package-xyz"])["no-such-package-xyz"] is None
    True
    """
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_commit(cwd: str | os.PathLike | None = None) -> str | None:
    """HEAD commit hash of the repository at ``cwd``; None if unavailable. Never raises.

    >>> import tempfile
    >>> git_commit(tempfile.mkdtemp()) is None
    True
    """
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "--verify", "HEAD"],
            cwd=cwd, capture_output=True, text=True, timeout=10, check=False,
        )
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    commit = proc.stdout.strip()
    if proc.returncode != 0 or len(commit) < 40:
        return None
    return commit
