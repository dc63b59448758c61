"""Messages between the scheduler and its worker processes, and how they travel.

Each worker is connected to the scheduler by a Unix socket pair. A message is a pickled
dataclass (both ends are our own code, from the same installation) preceded by its length as an
8-byte big-endian integer.

Conversation::

    scheduler -> worker   WorkerInit        once, first
    worker -> scheduler   WorkerReady       after the heavy imports (qiskit, qiskit-aer)
    scheduler -> worker   RunJob            only to a ready, idle worker
    worker -> scheduler   JobDone | JobFailed

The scheduler never waits for a worker's bytes: it reads what has arrived with a
non-blocking ``recv`` and lets a :class:`MessageReader` assemble whole messages, so a worker
that stops half-way through a message stalls only its own slot. Workers use the blocking
:func:`receive_message`.
"""

from __future__ import annotations

import pickle
import socket
import struct
from dataclasses import dataclass, field
from typing import Any

from jupyter_qrt.local.devices import DeviceCatalog

__all__ = [
    "JobDone",
    "JobFailed",
    "MessageReader",
    "RunJob",
    "WorkerInit",
    "WorkerReady",
    "encode_message",
    "receive_message",
    "send_message",
]

_HEADER = struct.Struct("!Q")


@dataclass(frozen=True)
class WorkerInit:
    """What a worker needs to run jobs: where params are, and which devices exist."""

    name: str
    db_path: str
    catalog: DeviceCatalog
    log_level: int
    #: Bytes of memory a job may allocate on top of the worker's own (None: no limit).
    memory_limit: int | None = None


@dataclass(frozen=True)
class WorkerReady:
    """The worker has imported everything and waits for jobs."""

    pid: int


@dataclass(frozen=True)
class RunJob:
    """Run one job; its params are read from the database by id."""

    job_id: str
    program_id: str
    backend: str
    log_level: str | None = None


@dataclass(frozen=True)
class JobDone:
    """A run that produced a result: RuntimeEncoder JSON text, zlib-compressed (as stored)."""

    job_id: str
    result_zlib: bytes
    quantum_seconds: float
    metrics: dict[str, Any] = field(default_factory=dict)
    qiskit_version: str = ""
    logs: str = ""


@dataclass(frozen=True)
class JobFailed:
    """A run that failed, with a reason code and a message for people (never a traceback)."""

    job_id: str
    reason_code: int
    reason: str
    logs: str = ""
    #: The worker exits after this message (e.g. it ran out of memory: a fresh one replaces it).
    worker_exits: bool = False


def encode_message(message: object) -> bytes:
    """The bytes :func:`send_message` would write, to send the same message many times.

    Send them with ``sock.sendall``.
    """
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(payload)) + payload


def send_message(sock: socket.socket, message: object) -> None:
    """Send one message (blocks until it is all written)."""
    sock.sendall(encode_message(message))


def receive_message(sock: socket.socket) -> object | None:
    """Receive one message; None when the other end has closed the connection."""
    header = _receive_exactly(sock, _HEADER.size)
    if header is None:
        return None
    (length,) = _HEADER.unpack(header)
    payload = _receive_exactly(sock, length)
    if payload is None:
        return None
    message: object = pickle.loads(payload)
    return message


def _receive_exactly(sock: socket.socket, size: int) -> bytes | None:
    buffer = bytearray(size)
    view = memoryview(buffer)
    received = 0
    while received < size:
        try:
            count = sock.recv_into(view[received:], size - received)
        except OSError:
            return None
        if count == 0:
            return None
        received += count
    return bytes(buffer)


class MessageReader:
    """Assembles messages from the bytes of a socket as they arrive, in any pieces.

    Used with non-blocking reads: :meth:`feed` takes whatever ``recv`` returned and gives back
    the messages completed by it (none while a message is still partial).
    """

    def __init__(self) -> None:
        self._buffer = bytearray()

    @property
    def pending(self) -> int:
        """Bytes received of a message that is not complete yet."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[object]:
        """Add received bytes; return the messages they complete, in order."""
        self._buffer += data
        messages: list[object] = []
        while len(self._buffer) >= _HEADER.size:
            (length,) = _HEADER.unpack_from(self._buffer)
            end = _HEADER.size + length
            if len(self._buffer) < end:
                break
            messages.append(pickle.loads(bytes(self._buffer[_HEADER.size : end])))
            del self._buffer[:end]
        return messages
