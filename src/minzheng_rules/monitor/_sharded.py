"""One stream watched by several processes, each over its own share of the households.

A household's events only ever touch that household's state, so the register splits into
shards by a stable hash of the household id, each shard watched by a worker process with its
own :class:`~minzheng_rules.monitor.Monitor` (and, with the durable engine, its own
durable_rules host). The parent reads the stream, sends each line (with its number) to the
worker of the household it names, and merges the workers' records by line number as they come
(:class:`_Merger`: a record is written once no worker can still write an earlier one), and
their skipped-event reports at the end. The output is exactly a single monitor's: the same
records in the same order, and the same summary (tests/test_monitor_sharded.py).

A line whose household cannot be read cheaply (not JSON, not an object, no string
``household``) goes to the first worker, which reports it as a single monitor would.

Records come out as the workers finish their windows of events (every few seconds on a busy
stream), and lines are sent to the workers 4,096 at a time, so this suits files and busy streams
rather than a live feed that wants each alert as its event arrives (``--window 1`` in one
process). Workers are started with ``spawn`` (never ``fork``: Polars' thread pool must not be
copied mid-flight), so the pack is given by name or folder and loaded again in each.
"""

from __future__ import annotations

import bisect
import codecs
import contextlib
import ctypes
import datetime as dt
import heapq
import json
import os
import pickle
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter
from pathlib import Path
from typing import IO, Any

from minzheng_rules.monitor import _checkpoint as C
from minzheng_rules.monitor._output import json_line
from minzheng_rules.monitor._runner import MAX_REPORTED_ERRORS, WINDOW, freeze_loaded

_CHUNK = 1 << 20  # bytes of a worker's records read at a time (bounds the parent's memory)
BATCH = 4_096  # lines sent to a worker at a time


def shard_of(household: str, workers: int) -> int:
    """The worker that watches a household: stable across runs and processes."""
    return zlib.crc32(household.encode("utf-8", "surrogatepass")) % workers


def _worker_environment(workers: int) -> dict[str, str]:
    """The workers' environment: Polars' thread pool sized to this worker's share of the cores
    (each worker judges its windows on its own; a pool per worker as large as the machine only
    makes them contend), unless the caller set it."""
    env = dict(os.environ)
    if "POLARS_MAX_THREADS" not in env:
        env["POLARS_MAX_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))
    return env


class WorkerError(RuntimeError):
    """A worker failed to start or stopped with an error (its message is given)."""


class ShardedMonitor:
    """Like :class:`Monitor`, over ``workers`` processes, each watching its own share of the
    households (split by a stable hash of the household id); the output is exactly a single
    monitor's, records in the same order. Workers are spawned, so the pack is a name or folder.

    Starting it loads the pack and each worker's share of the register (in parallel); ``run``
    then processes a stream and writes the JSON lines a single monitor's ``run`` would."""

    def __init__(
        self,
        pack: str | Path,
        register: str | Path,
        *,
        members: str | Path | None = None,
        workers: int = 2,
        engine: str = "python",
        shards: int = 64,
        window: int = WINDOW,
        horizon: dt.date | None = None,
        restore: list[str] | None = None,
        register_out: bool = False,
    ) -> None:
        if workers < 2:
            raise ValueError(f"a sharded monitor needs at least 2 workers, got {workers}")
        if restore is not None and len(restore) != workers:
            raise C.CheckpointError(
                f"the checkpoint was taken with {len(restore)} workers, not {workers}"
            )
        self.workers = workers
        self._channels: list[_Channel] = []
        self._procs: list[subprocess.Popen[bytes]] = []
        # per worker: records, skipped-event reports, the register at the end
        self._outputs: list[tuple[IO[bytes], IO[bytes], IO[bytes]]] = []
        fds: list[tuple[int, int, int]] = []
        folder = tempfile.mkdtemp(prefix="minzheng-monitor-")
        try:  # the files are unlinked at once: nothing stays behind, even after kill -9
            for k in range(workers):
                opened = []
                for name in ("records", "skipped", "register"):
                    path = os.path.join(folder, f"{name}-{k}.txt")
                    opened.append(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
                    self._outputs.append(open(path, "rb"))  # type: ignore[arg-type]  # noqa: SIM115
                fds.append(tuple(opened))  # type: ignore[arg-type]
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        self._outputs = [
            tuple(self._outputs[3 * k : 3 * k + 3])  # type: ignore[misc]
            for k in range(workers)
        ]
        for k in range(workers):
            config = {
                "shard": k,
                "workers": workers,
                "parent": os.getpid(),
                "pack": str(pack),
                "register": str(register),
                "members": None if members is None else str(members),
                "engine": engine,
                "shards": shards,
                "window": window,
                "horizon": None if horizon is None else horizon.isoformat(),
                "restore": None if restore is None else restore[k],
                "records": fds[k][0],
                "skipped": fds[k][1],
                "register_out": fds[k][2],
                "write_register": register_out,
            }
            to_worker, channel = _Channel.pair()
            proc = subprocess.Popen(
                [sys.executable, "-m", __name__, json.dumps(config), *map(str, to_worker)],
                pass_fds=(*to_worker, *fds[k]),
                env=_worker_environment(workers),
            )
            for fd in (*to_worker, *fds[k]):
                os.close(fd)
            self._channels.append(channel)
            self._procs.append(proc)
        ready = [self._receive(k) for k in range(workers)]
        self.problems: list[str] = ready[0]["problems"]  # every worker reads every row
        self.duplicates: list[str] = sorted(d for r in ready for d in r["duplicates"])
        self.unbatched_reason: str | None = ready[0]["unbatched_reason"]
        self.households = sum(r["households"] for r in ready)
        self.stats: dict[str, int] = {}

    def _receive(self, k: int) -> dict[str, Any]:
        try:
            kind, payload = self._channels[k].recv()
        except EOFError:
            raise WorkerError(f"monitor worker {k} stopped without a word") from None
        if kind == "error":
            self.close()
            raise WorkerError(payload)
        return payload

    def _send(self, k: int, batch: list[tuple[int, str | bytes]] | tuple[str, str] | None) -> None:
        """A batch of numbered lines, a ``("checkpoint", path)`` request, or None (the end)."""
        try:
            self._channels[k].send(batch)
        except OSError:  # the worker is gone: its own message says why, if it sent one
            self._receive(k)
            raise WorkerError(f"monitor worker {k} stopped") from None

    def run(
        self,
        lines: Iterable[str | bytes],
        out: IO[str],
        on_error: Callable[[dict[str, Any]], None] | None = None,
        checkpointer: C.Checkpointer | None = None,
    ) -> dict[str, Any]:
        """Process every line; writes the records then the summary to ``out`` as JSON Lines
        (one compact object a line) and returns the summary. With a
        ``checkpointer``, the workers snapshot their states between lines when one is due
        (see :meth:`_checkpoint`)."""
        workers = self.workers
        records = _Merger([r for r, _, _ in self._outputs], out)
        first = 1 if checkpointer is None else checkpointer.lines.line + 1
        try:
            batches: list[list[tuple[int, str | bytes]]] = [[] for _ in range(workers)]
            for n, raw in enumerate(lines, start=first):
                if checkpointer is not None and checkpointer.due(n - 1) and n > first:
                    self._checkpoint(n - 1, batches, records, checkpointer)
                if not raw.strip():
                    continue
                k = _route(raw, workers)
                batch = batches[k]
                batch.append((n, raw))
                if len(batch) >= BATCH:
                    self._send(k, batch)
                    batches[k] = []
                    records.write_ready()
            for k, batch in enumerate(batches):
                if batch:
                    self._send(k, batch)
                self._send(k, None)
            done = [self._receive(k) for k in range(workers)]
            for proc in self._procs:
                proc.wait()
            records.write_rest()
        finally:
            records.close()
        if on_error is not None:
            skipped = _Merger([s for _, s, _ in self._outputs])
            try:
                for line in skipped.rest():
                    on_error(json.loads(line))
            finally:
                skipped.close()
        summary = {"summary": merge_summaries([d["summary"]["summary"] for d in done])}
        self.stats = dict(sum((Counter(d["stats"]) for d in done), Counter()))
        out.write(json_line(summary).decode("utf-8"))
        return summary

    def _checkpoint(
        self,
        line: int,
        batches: list[list[tuple[int, str | bytes]]],
        records: _Merger,
        checkpointer: C.Checkpointer,
    ) -> None:
        """A checkpoint after ``line``: every line up to it is sent, each worker applies them
        and writes its snapshot, the records they wrote are all merged into ``out``, and the
        checkpoint naming the snapshots is written (the commit point)."""
        for k, batch in enumerate(batches):
            if batch:
                self._send(k, batch)
                batches[k] = []
        paths = checkpointer.worker_paths(self.workers)
        for k, path in enumerate(paths):
            self._send(k, ("checkpoint", str(path)))
        for k in range(self.workers):
            self._receive(k)
        records.write_all()
        checkpointer.save(line, {"workers": self.workers, "snapshots": [str(p) for p in paths]})

    def write_register(self, path: Path) -> None:
        """The households as the events left them, in register order, as JSON Lines (after
        :meth:`run`; written to a temporary file and renamed)."""
        merged = _Merger([g for _, _, g in self._outputs])
        try:
            write_lines_atomic(path, merged.rest())
        finally:
            merged.close()

    def close(self) -> None:
        """Stop the workers (killed when they do not finish within 5 s) and close the files."""
        for channel in self._channels:
            channel.close()
        for proc in self._procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for files in self._outputs:
            for f in files:
                f.close()

    def kill(self) -> None:
        """Stop the workers now (Ctrl-C)."""
        for proc in self._procs:
            with contextlib.suppress(OSError):
                proc.kill()
        self.close()


def write_lines_atomic(path: Path, lines: Iterable[bytes]) -> None:
    """``lines`` (each with its newline) to ``path`` through a temporary file beside it."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as f:
            for piece in _joined(iter(lines)):
                f.write(piece)
        os.replace(tmp, path)
    finally:
        C.remove_quietly(tmp)


# ``"household": "<id>"`` as a key (a quote inside a JSON string is escaped, so this can only be
# a key) with an id that has no escapes; when the name occurs once, it is the top-level key
_HOUSEHOLD = re.compile(rb'"household"\s*:\s*"([^"\\]*)"')


def _route(raw: str | bytes, workers: int) -> int:
    """The worker for a line: its household's, or the first when the line names none. Most
    lines are routed by :data:`_HOUSEHOLD` (0.4 µs); any other goes through ``json.loads``."""
    try:
        data = raw if isinstance(raw, bytes) else raw.encode("utf-8")
    except UnicodeEncodeError:
        data = b""
    if data.count(b'"household"') == 1 and (found := _HOUSEHOLD.search(data)) is not None:
        return zlib.crc32(found.group(1)) % workers
    try:
        data = json.loads(raw)
    except Exception:  # not JSON, bad UTF-8, nested too deeply: the first worker reports it
        return 0
    household = data.get("household") if isinstance(data, dict) else None
    return shard_of(household, workers) if isinstance(household, str) else 0


class _Merger:
    """The workers' record files (``<line>\\t<json>``) merged into ``out`` in stream order
    while the workers are still writing them.

    A worker writes its records in line order, so once a record of line L has been read from
    every worker's file, no worker will write a record before L: every record read so far up
    to the smallest such L can be written out. Files are read as bytes and only whole lines are
    taken (a worker's write may end mid-line, even mid-character)."""

    def __init__(self, paths: list[Path] | list[IO[bytes]], out: IO[str] | None = None) -> None:
        self._paths = paths
        self._out = out  # for write_ready and write_rest
        self._files: list[IO[bytes] | None] = [
            None if isinstance(p, str | Path) else p for p in paths
        ]
        self._owned = [f is None for f in self._files]  # opened here, so closed here
        self._partial = [b""] * len(paths)
        self._numbers: list[list[int]] = [[] for _ in paths]  # records read, not written yet
        self._texts: list[list[bytes]] = [[] for _ in paths]
        self._read_up_to = [0] * len(paths)  # the last line number read from each worker
        self._binary = None if out is None else _utf8_buffer(out)

    def _read(self, k: int) -> bool:
        """Read the next chunk of worker k's file; False when there was nothing new."""
        f = self._files[k]
        if f is None:
            try:
                f = self._files[k] = open(self._paths[k], "rb")  # type: ignore[arg-type]  # noqa: SIM115
            except FileNotFoundError:  # the worker has not opened it yet
                return False
        data = f.read(_CHUNK)
        if not data:
            return False
        *whole, self._partial[k] = (self._partial[k] + data).split(b"\n")
        numbers, texts = self._numbers[k], self._texts[k]
        for line in whole:
            number, _, text = line.partition(b"\t")
            numbers.append(int(number))
            texts.append(text)
        if numbers:
            self._read_up_to[k] = numbers[-1]
        return True

    def _merged(self, final: bool) -> Iterator[bytes]:
        """The records that can be written out now (with ``final``: all that are left), in
        stream order, a chunk of the files at a time, each with its newline."""
        more = True
        while more:
            more = False
            for k in range(len(self._paths)):
                more = self._read(k) or more
            yield from self._take(min(self._read_up_to))
        if final:
            yield from self._take(None)
            leftover = [k for k, rest in enumerate(self._partial) if rest]
            if leftover:
                raise WorkerError(f"monitor worker {leftover[0]} left a record unfinished")

    def _take(self, limit: int | None) -> Iterator[bytes]:
        """The records read so far up to line ``limit`` (None: all of them), merged."""
        parts = []
        for numbers, texts in zip(self._numbers, self._texts, strict=True):
            cut = len(numbers) if limit is None else bisect.bisect_right(numbers, limit)
            if cut:
                parts.append(list(zip(numbers[:cut], texts[:cut], strict=True)))
                del numbers[:cut], texts[:cut]
        merged = parts[0] if len(parts) == 1 else heapq.merge(*parts, key=_first)
        return (text + b"\n" for _, text in merged)

    def _write(self, final: bool) -> None:
        out, binary = self._out, self._binary
        assert out is not None
        for data in _joined(self._merged(final)):
            if binary is None:
                out.write(data.decode("utf-8"))
            else:  # the bytes as they are: no decoding and encoding again (~1 s a million events)
                out.flush()  # whatever was written as text goes first
                binary.write(data)
        if not final:
            (out if binary is None else binary).flush()

    def write_ready(self) -> None:
        """Write out the records no worker can still precede."""
        self._write(final=False)

    def write_rest(self) -> None:
        """Write out every remaining record (all workers have finished)."""
        self._write(final=True)

    def write_all(self) -> None:
        """Write out every record the workers wrote so far (they are all waiting)."""
        self._write(final=True)

    def rest(self) -> Iterator[bytes]:
        """Every remaining record, each a line of JSON (all workers have finished)."""
        return self._merged(final=True)

    def close(self) -> None:
        for f, owned in zip(self._files, self._owned, strict=True):
            if f is not None and owned:
                f.close()


_first = itemgetter(0)


def _utf8_buffer(out: IO[str]) -> IO[bytes] | None:
    """The binary stream under a UTF-8 text stream (a file, stdout), or None (e.g. StringIO)."""
    buffer = getattr(out, "buffer", None)
    encoding = getattr(out, "encoding", None)
    if buffer is None or not encoding:
        return None
    try:
        return buffer if codecs.lookup(encoding).name == "utf-8" else None
    except LookupError:
        return None


def _joined(lines: Iterator[bytes], size: int = _CHUNK) -> Iterator[bytes]:
    """``lines`` joined into pieces of about ``size`` bytes (one write each)."""
    piece: list[bytes] = []
    held = 0
    for line in lines:
        piece.append(line)
        held += len(line)
        if held >= size:
            yield b"".join(piece)
            piece, held = [], 0
    if piece:
        yield b"".join(piece)


def merge_summaries(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One summary from the workers': counts added, the first reported errors by line."""
    first = parts[0]

    def total(key: str) -> int:
        return sum(p[key] for p in parts)

    def added(key: str) -> dict[str, int]:
        return dict(sorted(sum((Counter(p[key]) for p in parts), Counter()).items()))

    errors = sorted((e for p in parts for e in p["errors"]), key=lambda e: e["line"])
    return {
        "pack": first["pack"],
        "engine": first["engine"],
        "households": total("households"),
        "households_with_events": total("households_with_events"),
        "events": total("events"),
        "applied": total("applied"),
        "skipped": total("skipped"),
        "skipped_by_kind": added("skipped_by_kind"),
        "records": total("records"),
        "alerts": added("alerts"),
        "tiers": {t: sum(p["tiers"][t] for p in parts) for t in first["tiers"]},
        "newly_eligible": added("newly_eligible"),
        "no_longer_eligible": added("no_longer_eligible"),
        "errors": errors[:MAX_REPORTED_ERRORS],
    }


class _Channel:
    """Pickled messages over two pipes, between the parent and one worker (nothing else reads
    them: the pickles are our own)."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self._read = os.fdopen(read_fd, "rb")
        self._write = os.fdopen(write_fd, "wb")

    @staticmethod
    def pair() -> tuple[tuple[int, int], _Channel]:
        """The worker's ends (to pass on its command line) and the parent's channel."""
        down_r, down_w = os.pipe()
        up_r, up_w = os.pipe()
        return (down_r, up_w), _Channel(up_r, down_w)

    def send(self, message: Any) -> None:
        pickle.dump(message, self._write, protocol=pickle.HIGHEST_PROTOCOL)
        self._write.flush()

    def recv(self) -> Any:
        return pickle.load(self._read)

    def close(self) -> None:
        for f in (self._write, self._read):
            with contextlib.suppress(OSError):
                f.close()


def _numbered(f: IO[bytes]) -> Callable[[dict[str, Any]], None]:
    """A writer of records or reports as ``<line>\t<json>`` lines, as :class:`_Merger` reads
    them."""

    def write(item: dict[str, Any]) -> None:
        f.write(b"%d\t%b" % (item["line"], json_line(item)))

    return write


def _message(err: Exception) -> str:
    """An error as the parent prints it: our own errors by their message alone."""
    from minzheng_rules.model._errors import MinzhengError

    return str(err) if isinstance(err, MinzhengError) else f"{type(err).__name__}: {err}"


def _die_with_parent(parent: int) -> None:
    """A worker must not outlive its parent (a parent killed with SIGKILL cannot stop it): on
    Linux the kernel kills it (``prctl(PR_SET_PDEATHSIG, SIGKILL)``); elsewhere, and should that
    fail, a thread checks every second that the parent is still there. Ctrl-C is the parent's
    to handle (it stops the workers), so the workers ignore SIGINT."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent was gone before prctl
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _worker(config: dict[str, Any], conn: _Channel) -> None:
    """A worker process: load its share (or its snapshot), then process the lines it is sent
    until ``None``; a ``("checkpoint", path)`` message between batches makes it write its
    snapshot to ``path`` and answer once done."""
    k, workers = config["shard"], config["workers"]
    _die_with_parent(config["parent"])
    positions: dict[str, int] = {}  # household id -> its row in the register
    try:
        from minzheng_rules.monitor._events import read_numbered
        from minzheng_rules.monitor._register import household_line, iter_register
        from minzheng_rules.monitor._runner import Monitor
        from minzheng_rules.packs._pack import load_pack

        pack = load_pack(config["pack"])
        problems: list[str] = []
        horizon = None if config["horizon"] is None else dt.date.fromisoformat(config["horizon"])
        snapshot = None if config["restore"] is None else C.read(Path(config["restore"]))

        def mine() -> Iterator[Any]:
            if snapshot is not None:
                return
            for i, h in enumerate(iter_register(config["register"], problems, config["members"])):
                if shard_of(h.id, workers) == k:
                    positions.setdefault(h.id, i)
                    yield h

        monitor = Monitor(
            pack,
            mine(),
            engine=config["engine"],
            shards=config["shards"],
            window=config["window"],
            horizon=horizon,
        )
        if snapshot is not None:
            monitor.restore(snapshot["monitor"])
            positions = snapshot["positions"]
    except Exception as err:
        conn.send(("error", f"monitor worker {k}: {_message(err)}"))
        return
    freeze_loaded()
    conn.send(
        (
            "ready",
            {
                "problems": problems,
                "duplicates": monitor.duplicates,
                "unbatched_reason": monitor.unbatched_reason,
                "households": len(monitor.states),
            },
        )
    )
    marker: list[str] = []

    def received() -> Iterator[tuple[int, Any]]:
        while (batch := conn.recv()) is not None:
            if batch.__class__ is tuple:  # ("checkpoint", path)
                marker.append(batch[1])
                return
            yield from batch

    try:
        with (
            open(config["records"], "wb") as r,
            open(config["skipped"], "wb") as s,
            open(config["register_out"], "wb") as g,
        ):
            record = _numbered(r)

            def write(item: dict[str, Any]) -> None:
                if "summary" not in item:  # the parent writes the merged summary
                    record(item)

            while True:
                monitor.feed(read_numbered(received()), write, _numbered(s))
                if not marker:
                    break
                r.flush()
                s.flush()
                C.write_atomic(
                    Path(marker.pop()),
                    {"version": C.VERSION, "monitor": monitor.snapshot(), "positions": positions},
                )
                conn.send(("checkpointed", None))
            summary = monitor.summary()
            for hid, state in monitor.states.items() if config["write_register"] else ():
                g.write(b"%d\t%b" % (positions.get(hid, 0), household_line(state.household)))
        stats = {
            "reference_evaluations": monitor.reference_evaluations,
            "fallbacks": monitor.fallbacks,
            "vectorized_rows": monitor._vectorized.rows if monitor._vectorized else 0,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        }
        conn.send(("done", {"summary": summary, "stats": stats}))
    except Exception as err:
        with contextlib.suppress(OSError, EOFError):  # the parent may be gone already
            conn.send(("error", f"monitor worker {k}: {_message(err)}"))
            while conn.recv() is not None:  # let the parent finish sending; it reads the error
                pass
    finally:
        monitor.close()


if __name__ == "__main__":  # a worker: python -m minzheng_rules.monitor._sharded CONFIG READ WRITE
    _worker(json.loads(sys.argv[1]), _Channel(int(sys.argv[2]), int(sys.argv[3])))
