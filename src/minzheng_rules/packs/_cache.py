"""An on-disk cache of what start-up computes from a pack: each YAML file parsed, and the
vectorized plan compiled for a date. It only saves time; it never changes an answer.

Where: ``$XDG_CACHE_HOME/minzheng-rules`` (``~/.cache/minzheng-rules`` without it), or
``$MINZHENG_CACHE_DIR``. ``MINZHENG_CACHE=off`` (or ``0``, ``no``, ``false``) turns it off.

Keys: the content (the YAML file's bytes; the pack's merged definition, date and options), and
the engine version, which is a hash of this package's own source files and the versions of
Python and the libraries a cached value is made of. So an edited pack, a changed engine or an
upgraded Polars finds no entry and rebuilds it.

Safety: each file holds a magic word, the SHA-256 of its payload and the payload (a pickle); a
file that is short, has another magic word, a payload that does not match its digest, or fails
to unpickle is ignored, removed and rebuilt, never trusted. Writes go through a temporary file
and a rename, so readers never see half a file; a cache folder that cannot be written is
skipped silently. (The digest guards against corruption, not against someone who can write
to the user's own cache folder: they could as well edit the installed code.)
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

MAGIC = b"MZCACHE1"
_DIGEST = 32
_OFF = {"0", "off", "no", "false"}


def enabled() -> bool:
    return os.environ.get("MINZHENG_CACHE", "").strip().lower() not in _OFF


def directory() -> Path:
    """The cache folder (not created here)."""
    explicit = os.environ.get("MINZHENG_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "minzheng-rules"


def package_root() -> Path:
    """The ``minzheng_rules`` folder, all of whose source the engine version hashes (not only
    ``packs/``, where this module sits: a plan is compiled by the backends and the model)."""
    return Path(__file__).resolve().parents[1]


@functools.cache
def engine_version() -> str:
    """A hash of this package's source and of the versions of the libraries cached values are
    made of (read from their metadata: nothing is imported, and a library that is not installed,
    such as Polars in the core install, counts as absent)."""
    digest = hashlib.sha256()
    root = package_root()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    digest.update(sys.version.encode())
    for library in ("polars", "numpy", "pydantic", "PyYAML"):
        try:
            version = metadata.version(library)
        except metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"{library}={version}".encode())
    return digest.hexdigest()


def key(*parts: str | bytes) -> str:
    """A key for ``parts`` under the current engine version."""
    digest = hashlib.sha256(engine_version().encode())
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def _path(kind: str, k: str) -> Path:
    return directory() / kind / f"{k}.pickle"


def get(kind: str, k: str) -> Any | None:
    """The value stored under ``k``, or None when there is none or it is bad (then removed)."""
    if not enabled():
        return None
    path = _path(kind, k)
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head = len(MAGIC) + _DIGEST
    payload = data[head:]
    if (
        len(data) > head
        and data[: len(MAGIC)] == MAGIC
        and hashlib.sha256(payload).digest() == data[len(MAGIC) : head]
    ):
        try:
            return pickle.loads(payload)
        except Exception:  # a bad entry is rebuilt, whatever broke it
            pass
    with contextlib.suppress(OSError):
        path.unlink()
    return None


def put(kind: str, k: str, value: Any) -> None:
    """Store ``value`` under ``k`` (atomically; silently not when the folder is not writable
    or the value cannot be pickled)."""
    if not enabled():
        return
    path = _path(kind, k)
    try:
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # an unpicklable value is simply not cached
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(MAGIC + hashlib.sha256(payload).digest() + payload)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return
