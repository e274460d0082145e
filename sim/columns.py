"""Plain numpy columns to Arrow and back, straight through their buffers.

pyarrow imports pandas (~0.4 s) the first time ``pa.array`` or ``to_numpy`` is called. A spawned
worker process that only moves numbers between the engine, its statistics and a Parquet part
would pay that for nothing, so the per-chunk path uses these: arrays without nulls of a numeric
or boolean type are wrapped (numeric: no copy) or read as they lie in memory; anything else falls
back to pyarrow's own conversion.

>>> to_numpy(to_arrow(np.array([3, 1, 2], np.int8))).tolist()
[3, 1, 2]
>>> to_numpy(to_arrow(np.array([True, False, True]))).tolist()
[True, False, True]
>>> strings(["a", "bc"]).to_pylist()
['a', 'bc']
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pyarrow as pa

__all__ = ["to_arrow", "to_numpy", "strings"]

_ARROW_OF = {np.dtype(kind): arrow for kind, arrow in [
    (np.int8, pa.int8()), (np.int16, pa.int16()), (np.int32, pa.int32()), (np.int64, pa.int64()),
    (np.uint8, pa.uint8()), (np.uint16, pa.uint16()), (np.uint32, pa.uint32()), (np.uint64, pa.uint64()),
    (np.float32, pa.float32()), (np.float64, pa.float64())]}
_NUMPY_OF = {arrow: dtype for dtype, arrow in _ARROW_OF.items()}


def to_arrow(values: np.ndarray, type: pa.DataType | None = None) -> pa.Array:
    """A 1-d numpy array as an Arrow array (cast to ``type`` when given and different)."""
    values = np.ascontiguousarray(values)
    if values.ndim != 1:
        raise ValueError(f"expected a 1-d array, got shape {values.shape}")
    if values.dtype == np.bool_:
        bits = np.packbits(values, bitorder="little")
        array = pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(bits)])
    elif values.dtype in _ARROW_OF:
        array = pa.Array.from_buffers(_ARROW_OF[values.dtype], len(values), [None, pa.py_buffer(values)])
    else:
        return pa.array(values, type)
    return array if type is None or array.type == type else array.cast(type)


def strings(values: Sequence[str]) -> pa.Array:
    """An Arrow string array of ``values`` (none of them null)."""
    encoded = [value.encode() for value in values]
    offsets = np.zeros(len(encoded) + 1, np.int32)
    offsets[1:] = np.cumsum([len(value) for value in encoded])
    return pa.Array.from_buffers(pa.string(), len(encoded),
                                 [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))])


def to_numpy(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The values of an Arrow array or chunked array as numpy (read-only when no copy was needed)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if len(array) == 0 and (pa.types.is_boolean(array.type) or array.type in _NUMPY_OF):
        return np.zeros(0, bool if pa.types.is_boolean(array.type) else _NUMPY_OF[array.type])
    if array.null_count == 0 and pa.types.is_boolean(array.type):
        bits = np.frombuffer(array.buffers()[1], np.uint8)
        return np.unpackbits(bits, count=array.offset + len(array), bitorder="little")[array.offset:].astype(bool)
    if array.null_count == 0 and array.type in _NUMPY_OF:
        dtype = _NUMPY_OF[array.type]
        return np.frombuffer(array.buffers()[1], dtype, count=len(array), offset=array.offset * dtype.itemsize)
    return array.to_numpy(zero_copy_only=False)
