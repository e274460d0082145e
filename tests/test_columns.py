"""Numpy <-> Arrow through buffers (sim.columns): the same values as pyarrow's own conversions."""

import subprocess
import sys
import textwrap

import numpy as np
import pyarrow as pa
import pytest

from sim.columns import strings, to_arrow, to_numpy

DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint64, np.float32, np.float64, np.bool_]


@pytest.mark.parametrize("dtype", DTYPES)
def test_round_trip_matches_pyarrow(dtype):
    rng = np.random.default_rng(3)
    values = (rng.integers(0, 2, 37) if dtype is np.bool_ else rng.integers(-50, 50, 37)).astype(dtype)
    ours = to_arrow(values)
    assert ours.equals(pa.array(values)) and ours.type == pa.array(values).type
    if np.dtype(dtype).kind == "f":  # NaN (never equal under Arrow's equals) survives the round trip
        values[5] = np.nan
        ours = to_arrow(values)
    back = to_numpy(ours)
    assert back.dtype == values.dtype
    np.testing.assert_array_equal(back, values)


@pytest.mark.parametrize("dtype", [np.int16, np.float64, np.bool_])
def test_sliced_and_chunked_arrays_read_from_their_offset(dtype):
    values = (np.arange(50) % 3 == 0) if dtype is np.bool_ else np.arange(50).astype(dtype)
    array = pa.array(values)
    for start, stop in [(0, 50), (3, 17), (9, 9), (13, 50)]:
        np.testing.assert_array_equal(to_numpy(array.slice(start, stop - start)), values[start:stop])
    chunked = pa.chunked_array([array.slice(0, 11), array.slice(11, 20), array.slice(31)])
    np.testing.assert_array_equal(to_numpy(chunked), values)


def test_strided_input_casts_and_other_types_fall_back_to_pyarrow():
    matrix = np.arange(12, dtype=np.int64).reshape(4, 3)
    assert to_arrow(matrix[:, 1]).to_pylist() == [1, 4, 7, 10]          # a strided column is copied
    assert to_arrow(np.array([1, 2], np.int64), pa.int8()).type == pa.int8()
    with_nulls = pa.array([1.0, None, 3.0])
    np.testing.assert_array_equal(to_numpy(with_nulls), [1.0, np.nan, 3.0])
    assert strings(["low_intensity", "", "war"]).equals(pa.array(["low_intensity", "", "war"]))
    for empty, dtype in [(pa.array([], pa.bool_()), bool), (pa.array([], pa.float32()), np.float32),
                         (pa.chunked_array([], pa.int64()), np.int64)]:
        assert to_numpy(empty).shape == (0,) and to_numpy(empty).dtype == dtype
    with pytest.raises(ValueError, match="1-d"):
        to_arrow(matrix)


def test_a_chunk_in_a_fresh_process_never_imports_pandas():
    """The point of the module: a spawned worker simulating, summarising and writing a chunk of the
    compiled engine does not pay pyarrow's pandas import (~0.4 s a worker)."""
    code = textwrap.dedent("""
        import sys, tempfile
        from sim.config import compose_run_config
        from sim.runner import execute_chunk
        config = compose_run_config(["engine=fast", "n_runs=40", "chunk_size=20", "horizon_days=60"])
        assert "pandas" not in sys.modules  # (a worker gets the config pickled; composing it here is extra)
        result = execute_chunk(config, 1, tempfile.mkdtemp())
        assert result.rows == 20 and result.file, result
        print("pandas" in sys.modules)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
