"""A monitor's durable checkpoint: what it knows about every household and how far it has read.

A monitor watching a live feed runs for weeks; a crash or ``kill -9`` must not lose what it was
watching nor write a record twice. Every so often (``every`` events or ``seconds``, whichever
comes first, and only between windows, when every event read so far is committed) the run
writes one file holding:

- the households' states and the run's counts (a single monitor's, or the path of each sharded
  worker's own snapshot),
- the stream position: the last line committed, its byte offset, and a SHA-256 of the bytes
  up to it (a resumed run refuses a stream whose first part changed),
- the size of the records file once everything up to that line was written and ``fsync``'d.

It is written to a temporary file beside it, ``fsync``'d and renamed over the old one, so a
crash leaves either the old checkpoint or the new one, never half of one. ``--resume`` cuts the
records file back to the size the checkpoint names (what a killed run wrote after it is
dropped), seeks the stream to the offset and goes on: the records are byte for byte those of a
run never interrupted (tests/test_monitor_resume.py kills runs with SIGKILL to check it).

The file is a pickle read back with :class:`_Unpickler`, which only rebuilds the plain types and
this package's own classes a checkpoint holds (never an arbitrary callable).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import pickle
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from minzheng_rules.model._errors import MinzhengError

VERSION = 1
MAGIC = b"minzheng-monitor-checkpoint\n"


class CheckpointError(MinzhengError):
    """A checkpoint cannot be read or does not belong to this run."""


_ALLOWED = {
    "builtins": {"set", "frozenset", "dict", "list", "tuple", "bytes", "str", "int", "bool"},
    "collections": {"Counter", "OrderedDict"},
    "datetime": {"date"},
    "decimal": {"Decimal"},
}


class _Unpickler(pickle.Unpickler):
    """Rebuilds only what a checkpoint holds: plain values and this package's models."""

    def find_class(self, module: str, name: str) -> Any:
        if name in _ALLOWED.get(module, ()) or module.startswith("minzheng_rules."):
            return super().find_class(module, name)
        raise CheckpointError(f"a checkpoint does not hold {module}.{name}")


def write_atomic(path: Path, data: dict[str, Any]) -> None:
    """``data`` pickled to ``path``: a temporary file, fsync'd, renamed over it, and the folder
    fsync'd, so the file is always either the old one or the new one."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(MAGIC)
        pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read(path: Path) -> dict[str, Any]:
    """A checkpoint written by :func:`write_atomic`; a bad one raises :class:`CheckpointError`."""
    try:
        with open(path, "rb") as f:
            if f.read(len(MAGIC)) != MAGIC:
                raise CheckpointError(f"{path}: not a monitor checkpoint")
            data = _Unpickler(f).load()
    except CheckpointError:
        raise
    except OSError as err:
        raise CheckpointError(f"{path}: cannot read the checkpoint: {err.strerror}") from None
    except Exception as err:
        raise CheckpointError(f"{path}: damaged checkpoint ({type(err).__name__})") from None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise CheckpointError(f"{path}: a checkpoint of another version; start again")
    return data


class Lines:
    """The lines of a byte stream, with each committed line's end offset and a running SHA-256
    of the committed bytes (the stream position a checkpoint records).

    Lines are read ahead of what is committed (a window); :meth:`commit` moves the position to
    the end of a given line."""

    def __init__(self, stream: IO[bytes], line: int = 0, offset: int = 0, digest: Any = None):
        self._stream = stream
        self.line = line  # the last line committed
        self.offset = offset  # bytes up to and including it
        self._hash = digest if digest is not None else hashlib.sha256()
        self._read: deque[tuple[int, bytes]] = deque()  # read, not committed: (number, raw)

    def __iter__(self) -> Iterator[bytes]:
        n = self.line + (len(self._read))
        for raw in self._stream:
            n += 1
            self._read.append((n, raw))
            yield raw

    def commit(self, line: int) -> None:
        """Every line up to ``line`` is done with."""
        read = self._read
        while read and read[0][0] <= line:
            n, raw = read.popleft()
            self.line = n
            self.offset += len(raw)
            self._hash.update(raw)

    def digest(self) -> str:
        return self._hash.hexdigest()

    def position(self) -> dict[str, Any]:
        return {"line": self.line, "offset": self.offset, "sha256": self.digest()}


def resumed_lines(stream: IO[bytes], position: dict[str, Any], source: str) -> Lines:
    """The stream from a checkpoint's position on; refuses a stream whose first ``offset``
    bytes are not those the checkpoint saw (another file, or one edited since)."""
    digest = hashlib.sha256()
    left = position["offset"]
    while left > 0:
        chunk = stream.read(min(left, 1 << 20))
        if not chunk:
            break
        digest.update(chunk)
        left -= len(chunk)
    if left > 0 or digest.hexdigest() != position["sha256"]:
        raise CheckpointError(
            f"{source}: the events before the checkpoint's line {position['line']} are not "
            "those the checkpoint read (another or an edited file); cannot resume"
        )
    return Lines(stream, position["line"], position["offset"], digest)


class Schedule:
    """When the next checkpoint is due: every ``every`` events or ``seconds``."""

    def __init__(self, every: int, seconds: float) -> None:
        self.every, self.seconds = every, seconds
        self._line = 0
        self._time = time.monotonic()

    def start(self, line: int) -> None:
        self._line, self._time = line, time.monotonic()

    def due(self, line: int) -> bool:
        return line - self._line >= self.every or time.monotonic() - self._time >= self.seconds


def synced_size(f: IO[Any]) -> int:
    """Flush ``f`` (and the binary buffer under a text file), fsync it, and return its size."""
    f.flush()
    buffer = getattr(f, "buffer", None)
    if buffer is not None:
        buffer.flush()
    os.fsync(f.fileno())
    return os.fstat(f.fileno()).st_size


def reopen_records(path: Path, size: int) -> IO[str]:
    """The records file cut back to ``size`` bytes (what the checkpoint saw), for appending."""
    try:
        actual = path.stat().st_size
    except FileNotFoundError:
        raise CheckpointError(f"{path}: the records file of the checkpoint is gone") from None
    if actual < size:
        raise CheckpointError(
            f"{path}: shorter ({actual} bytes) than at the checkpoint ({size} bytes); cannot resume"
        )
    os.truncate(path, size)
    return open(path, "a", encoding="utf-8")


def horizon(days: int, today: dt.date | None = None) -> dt.date:
    """The last event date accepted: ``days`` after today."""
    return (today or dt.date.today()) + dt.timedelta(days=days)


def remove_quietly(*paths: Path) -> None:
    for p in paths:
        with contextlib.suppress(OSError):
            p.unlink()


class Checkpointer:
    """Takes a run's checkpoints: the stream's :class:`Lines`, the records file, and what the
    run adds (a monitor's snapshot, or the sharded workers' snapshot files)."""

    def __init__(
        self,
        path: Path,
        lines: Lines,
        out: IO[Any],
        base: dict[str, Any],
        every: int = 100_000,
        seconds: float = 60.0,
        seq: int = 0,
    ) -> None:
        self.path = path
        self.lines = lines
        self._out = out
        self._base = base
        self._schedule = Schedule(every, seconds)
        self._schedule.start(lines.line)
        self.seq = seq
        self.saved = 0  # checkpoints written by this run

    def due(self, line: int) -> bool:
        return self._schedule.due(line)

    def worker_paths(self, workers: int) -> list[Path]:
        """Where the workers write their snapshots for the next checkpoint: never the files
        the current checkpoint names (the parity of its sequence number differs)."""
        parity = (self.seq + 1) % 2
        return [self.path.with_name(f"{self.path.name}.w{k}.{parity}") for k in range(workers)]

    def save(self, line: int, state: dict[str, Any]) -> None:
        """A checkpoint at ``line``: every event up to it is applied and its records are
        written to ``out`` (flushed and fsync'd here)."""
        self.lines.commit(line)
        size = synced_size(self._out)
        self.seq += 1
        write_atomic(
            self.path,
            {
                **self._base,
                "version": VERSION,
                "seq": self.seq,
                "position": self.lines.position(),
                "out_offset": size,
                **state,
            },
        )
        self.saved += 1
        self._schedule.start(line)

    def finish(self, workers: int = 0) -> None:
        """The run ended: the checkpoint and the workers' snapshots are no longer needed (nor
        the temporary files of a run killed while writing one)."""
        names = [self.path.name] + [
            f"{self.path.name}.w{k}.{p}" for k in range(workers) for p in (0, 1)
        ]
        remove_quietly(
            *(self.path.with_name(n) for n in names),
            *(self.path.with_name(f".{n}.tmp") for n in names),
        )
