"""Shared fixtures: the shipped packs, a canonical 3-person household, and a pack writer."""

from __future__ import annotations

import os
import tempfile
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from minzheng_rules import load_pack

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=60,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# the start-up cache (minzheng_rules.packs._cache) of this run lives in a folder of its own, so the
# suite neither reads entries made outside it nor leaves any in the user's cache
os.environ["MINZHENG_CACHE_DIR"] = tempfile.mkdtemp(prefix="minzheng-test-cache-")

REPO = Path(__file__).resolve().parent.parent
# the shared folder beside the checkout (CI), or beside the folder of worktrees
SEEDS = next(
    (
        d
        for d in (REPO.parent / "shared" / "seeds", REPO.parent.parent / "shared" / "seeds")
        if d.is_dir()
    ),
    REPO.parent / "shared" / "seeds",
)


def readers_module():
    """The register readers' module (private: the tests switch its in-memory limit)."""
    from minzheng_rules.io import _readers

    return _readers


@pytest.fixture(params=["memory", "streamed"])
def route(request, monkeypatch) -> str:
    """A columnar register read as a small one is (both tables whole, members matched in
    memory) and as a big one is (streamed when the members are in order, else split into hash
    buckets on disk). Gives the mode a register with shuffled members then gets."""
    if request.param == "streamed":
        monkeypatch.setattr(readers_module(), "IN_MEMORY_BYTES", -1)
        return "partitioned"
    return "joined"


@pytest.fixture(scope="session")
def huzhou():
    return load_pack("huzhou")


@pytest.fixture
def three_people() -> dict:
    return {
        "id": "hz-3p",
        "members": [
            {"id": "a", "relation": "head", "age": 45, "monthly_income": 1200},
            {"id": "b", "relation": "spouse", "age": 43, "monthly_income": 800},
            {"id": "c", "relation": "child", "age": 12, "monthly_income": 0, "student": "primary"},
        ],
        "assets": {"financial": 5000},
    }


@pytest.fixture
def write_pack(tmp_path: Path):
    """Write a pack folder from {file name: YAML text}; returns its path."""

    def write(files: dict[str, str], name: str = "testpack") -> Path:
        folder = tmp_path / name
        (folder / "cases").mkdir(parents=True, exist_ok=True)
        for fname, text in files.items():
            (folder / fname).write_text(textwrap.dedent(text), encoding="utf-8")
        return folder

    return write


@pytest.fixture
def pg_schema():
    """A schema of its own in the PostgreSQL server ``.ci/run`` starts (``MINZHENG_TEST_PG``, a
    ``postgresql://`` URL), dropped afterwards: ``(url, schema, connection, cursor)``. Without
    a server the test is skipped, or fails when ``CI`` is set (CI must run it)."""
    import uuid

    dsn = os.environ.get("MINZHENG_TEST_PG")
    if not dsn:
        if os.environ.get("CI"):
            pytest.fail("MINZHENG_TEST_PG is not set: .ci/run starts PostgreSQL and sets it")
        pytest.skip("no PostgreSQL server (set MINZHENG_TEST_PG=postgresql://…)")
    import adbc_driver_postgresql.dbapi as pg

    name = f"t_{uuid.uuid4().hex[:10]}"
    conn = pg.connect(dsn)
    cur = conn.cursor()
    cur.execute(f"CREATE SCHEMA {name}")
    conn.commit()
    yield dsn, name, conn, cur
    cur.execute(f"DROP SCHEMA {name} CASCADE")
    conn.commit()
    cur.close()
    conn.close()
