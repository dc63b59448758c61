"""The array payload of the Runtime wire format: an ``.npy`` file, zlib-compressed, base64 text.

Writing goes through numpy's own ``.npy`` writer so the bytes are exactly what ``np.save``
writes, compressed as the stream comes (the official client first copies the whole file into a
``BytesIO``). Reading is ours: a large sampler result is tens of megabytes, and the obvious
``np.load(BytesIO(zlib.decompress(b64decode(text))))`` holds four copies of it at once. Here the
base64 text is decoded a slice at a time, inflated a slice at a time, and written straight into
the one buffer the returned array uses.

The reader trusts nothing: it checks the magic, the version, the size of the header, parses the
header as a literal (never ``eval``), refuses object (pickled) arrays outright, and insists that
the data is exactly as long as the header says. Given ``max_bytes``, it refuses (before
allocating anything) an array whose header declares more data than that, so a small payload
that would inflate to gigabytes (a zlib bomb) costs nothing.
"""

from __future__ import annotations

import ast
import binascii
import math
import struct
import zlib
from collections.abc import Iterable, Iterator
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from jupyter_qrt.runtime.errors import InvalidInputError, PayloadTooLargeError

__all__ = ["decode_npy", "encode_npy"]

_MAGIC = b"\x93NUMPY"
# numpy itself refuses headers over 10000 bytes unless told otherwise; so do we.
_MAX_HEADER_BYTES = 10_000
# Base64 characters decoded per step: a multiple of 4, small enough to stay out of the peak.
_B64_STEP = 1 << 18
# Compressed bytes fed to zlib per step when the input is already bytes.
_ZLIB_IN_STEP = 3 * (1 << 16)
# Most inflated bytes zlib may hand back per call: bounds memory on highly compressible data.
_ZLIB_OUT_STEP = 1 << 22

_HEADER_FORMATS = {(1, 0): ("<H", "latin1"), (2, 0): ("<I", "latin1"), (3, 0): ("<I", "utf8")}

_NOT_AN_ARRAY = (
    "The {where} is not a valid encoded array ({why}). It should be base64 text of a "
    "zlib-compressed .npy file as written by numpy.save; check what produced it."
)


def _bad(why: str, where: str = "payload") -> InvalidInputError:
    return InvalidInputError(_NOT_AN_ARRAY.format(where=where, why=why))


class _CompressingSink:
    """A write-only file that zlib-compresses what numpy writes into it."""

    def __init__(self) -> None:
        self._deflater = zlib.compressobj()
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(self._deflater.compress(data))
        return len(data)

    def finish(self) -> bytes:
        self._parts.append(self._deflater.flush())
        return b"".join(self._parts)


def encode_npy(array: npt.NDArray[Any]) -> str:
    """Return ``array`` as base64 text of its zlib-compressed ``.npy`` file.

    The text is the same as ``base64(zlib.compress(np.save(array, allow_pickle=False)))``:
    streaming deflate with the default settings produces the same bytes as one-shot deflate.

    Raises
    ------
    InvalidInputError
        If the array holds Python objects (those travel as JSON lists, never pickled).
    """
    sink = _CompressingSink()
    try:
        np.lib.format.write_array(sink, np.asanyarray(array), allow_pickle=False)
    except ValueError as exc:
        raise InvalidInputError(
            f"Cannot encode a numpy array of dtype {array.dtype}: {exc}. Convert it to a "
            "numeric dtype first."
        ) from exc
    return binascii.b2a_base64(sink.finish(), newline=False).decode("ascii")


class _Base64NotCanonical(Exception):
    """The text is not plain unbroken base64, so it cannot be decoded a slice at a time."""


def _strict_base64_steps(text: str | bytes) -> Iterator[bytes]:
    for begin in range(0, len(text), _B64_STEP):
        try:
            # strict: a newline or stray character would shift every later slice
            yield binascii.a2b_base64(text[begin : begin + _B64_STEP], strict_mode=True)
        except (binascii.Error, ValueError) as exc:
            raise _Base64NotCanonical from exc


def _byte_steps(data: bytes) -> Iterator[memoryview]:
    view = memoryview(data)
    for begin in range(0, len(view), _ZLIB_IN_STEP):
        yield view[begin : begin + _ZLIB_IN_STEP]


def decode_npy(
    text: str | bytes, *, where: str = "payload", max_bytes: int | None = None
) -> npt.NDArray[Any]:
    """Return the array in ``text`` (base64 of a zlib-compressed ``.npy`` file).

    Parameters
    ----------
    text
        The encoded array, as found in ``{"__type__": "ndarray", "__value__": text}``.
    where
        Named in error messages (e.g. ``"ndarray payload"``).
    max_bytes
        Most bytes of array data the payload may inflate to (None: no limit).

    Returns
    -------
    numpy.ndarray
        A writable array in the dtype, shape and memory order the file declares.

    Raises
    ------
    InvalidInputError
        If the text is not base64, not zlib, not an ``.npy`` file, holds Python objects, or its
        data does not match its header.
    PayloadTooLargeError
        If its header declares more than ``max_bytes`` bytes of data (a subclass of the above).
    """
    try:
        return _assemble(_strict_base64_steps(text), where, max_bytes)
    except _Base64NotCanonical:
        pass
    # Tolerate what base64.standard_b64decode tolerates (line breaks and the like).
    try:
        compressed = binascii.a2b_base64(text)
    except (binascii.Error, ValueError) as exc:
        raise _bad(f"not base64: {exc}", where) from exc
    return _assemble(_byte_steps(compressed), where, max_bytes)


def _assemble(
    compressed_steps: Iterable[bytes | memoryview], where: str, max_bytes: int | None
) -> npt.NDArray[Any]:
    builder = _ArrayBuilder(where, max_bytes)
    for step in compressed_steps:
        builder.feed(step)
    return builder.finish()


class _ArrayBuilder:
    """Inflates an ``.npy`` stream into one preallocated buffer."""

    def __init__(self, where: str, max_bytes: int | None = None) -> None:
        self._where = where
        self._max_bytes = max_bytes
        self._inflater = zlib.decompressobj()
        self._head = bytearray()
        self._dtype: np.dtype[Any] | None = None
        self._shape: tuple[int, ...] = ()
        self._fortran = False
        self._buffer: npt.NDArray[np.uint8] = np.empty(0, dtype=np.uint8)
        self._view = self._buffer.data
        self._filled = 0

    def feed(self, compressed: bytes | memoryview) -> None:
        data: bytes | memoryview = compressed
        while data:
            try:
                piece = self._inflater.decompress(data, _ZLIB_OUT_STEP)
            except zlib.error as exc:
                raise _bad(f"not zlib data: {exc}", self._where) from exc
            self._take(piece)
            data = self._inflater.unconsumed_tail
        if self._inflater.unused_data:
            raise _bad("bytes after the end of the compressed stream", self._where)

    def _take(self, piece: bytes) -> None:
        if self._dtype is not None:
            self._write(piece)
            return
        self._head += piece
        prefix_len = self._parse_header()
        if prefix_len is None:
            return
        with memoryview(self._head) as head:
            self._write(head[prefix_len:])
        self._head = bytearray()

    def _write(self, data: bytes | memoryview) -> None:
        end = self._filled + len(data)
        if end > len(self._buffer):
            raise _bad("more data than its header declares", self._where)
        self._view[self._filled : end] = data
        self._filled = end

    def _parse_header(self) -> int | None:
        """Parse the header once enough bytes are in; return where the data starts."""
        head = self._head
        if len(head) < len(_MAGIC) + 2:
            return None
        if head[: len(_MAGIC)] != _MAGIC:
            raise _bad("no .npy magic at the start", self._where)
        version = (head[6], head[7])
        if version not in _HEADER_FORMATS:
            raise _bad(f".npy format version {version[0]}.{version[1]} is not known", self._where)
        length_format, encoding = _HEADER_FORMATS[version]
        length_end = 8 + struct.calcsize(length_format)
        if len(head) < length_end:
            return None
        header_len = int(struct.unpack(length_format, head[8:length_end])[0])
        if header_len > _MAX_HEADER_BYTES:
            raise _bad(f"its header claims {header_len} bytes", self._where)
        prefix_len = length_end + header_len
        if len(head) < prefix_len:
            return None
        self._apply_header(bytes(head[length_end:prefix_len]).decode(encoding, "replace"))
        return prefix_len

    def _apply_header(self, text: str) -> None:
        try:
            fields = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
            raise _bad("its header is not a Python literal", self._where) from exc
        if not isinstance(fields, dict) or set(fields) != {"descr", "fortran_order", "shape"}:
            raise _bad("its header lacks descr/fortran_order/shape", self._where)
        shape = fields["shape"]
        if not (
            isinstance(shape, tuple)
            and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)
        ):
            raise _bad(f"its shape {shape!r} is not a tuple of sizes", self._where)
        if not isinstance(fields["fortran_order"], bool):
            raise _bad("its fortran_order is not a bool", self._where)
        dtype = self._dtype_of(fields["descr"])
        if dtype.hasobject:
            raise InvalidInputError(
                f"The {self._where} holds Python objects (a pickle). jupyter-qrt never unpickles "
                "data from the network; the sender must send numeric arrays (object arrays "
                "travel as JSON lists)."
            )
        nbytes = math.prod(shape) * dtype.itemsize
        if self._max_bytes is not None and nbytes > self._max_bytes:
            raise PayloadTooLargeError(
                f"The {self._where} inflates to an array of {nbytes} bytes (shape {shape}, "
                f"dtype {dtype}), more than the {self._max_bytes} bytes allowed.",
                self._max_bytes,
            )
        try:
            self._buffer = np.empty(nbytes, dtype=np.uint8)
        except (ValueError, MemoryError) as exc:
            raise _bad(f"its header declares {nbytes} bytes of data", self._where) from exc
        self._view = self._buffer.data
        self._dtype, self._shape, self._fortran = dtype, shape, fields["fortran_order"]

    def _dtype_of(self, descr: object) -> np.dtype[Any]:
        try:
            if isinstance(descr, str):
                return np.dtype(descr)
            if isinstance(descr, list):
                dtype: np.dtype[Any] = np.lib.format.descr_to_dtype(descr)
                return dtype
        except (TypeError, ValueError) as exc:
            raise _bad(f"its dtype {descr!r} is not valid", self._where) from exc
        raise _bad(f"its dtype {descr!r} is not valid", self._where)

    def finish(self) -> npt.NDArray[Any]:
        self._take(self._inflater.flush())
        if not self._inflater.eof:
            raise _bad("the compressed stream is truncated", self._where)
        if self._dtype is None:
            raise _bad("it ends inside the .npy header", self._where)
        if self._filled != len(self._buffer):
            raise _bad(
                f"{self._filled} bytes of data where the header declares {len(self._buffer)}",
                self._where,
            )
        order: Literal["C", "F"] = "F" if self._fortran else "C"
        if self._dtype.itemsize == 0:
            return np.empty(list(self._shape), dtype=self._dtype, order=order)
        # a view of the buffer: no copy, and writable like what np.load returns
        flat: npt.NDArray[Any] = self._buffer.view(self._dtype)
        return flat.reshape(list(self._shape), order=order)
