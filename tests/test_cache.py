"""The on-disk start-up cache (minzheng_rules.packs._cache): where it lives, that a warm start skips the
work and answers the same, that a changed pack misses it, and that a bad file is rebuilt."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from minzheng_rules.backends.vectorized import _engine as engine
from minzheng_rules.backends.vectorized._engine import VectorizedPack, plan_key
from minzheng_rules.packs import _cache as cache
from minzheng_rules.packs._pack import load_pack
from minzheng_rules.synth import generate

ON = dt.date(2024, 6, 1)
CORE = Path(__file__).resolve().parent.parent / "benchmarks" / "packs" / "huzhou_core"


@pytest.fixture
def cache_home(tmp_path, monkeypatch) -> Path:
    monkeypatch.delenv("MINZHENG_CACHE", raising=False)
    monkeypatch.delenv("MINZHENG_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "minzheng-rules"


def _entries(root: Path, kind: str) -> list[Path]:
    return sorted((root / kind).glob("*.pickle")) if (root / kind).exists() else []


def _frames():
    pack = load_pack("huzhou")
    return next(generate(pack, ON, 3000, seed=5, chunk=3000))


def test_the_folder_follows_xdg_and_can_be_turned_off(cache_home, monkeypatch, tmp_path):
    assert cache.directory() == cache_home
    load_pack("huzhou")
    assert _entries(cache_home, "yaml"), "parsed pack files are cached under XDG_CACHE_HOME"
    monkeypatch.setenv("MINZHENG_CACHE_DIR", str(tmp_path / "own"))
    assert cache.directory() == tmp_path / "own"
    monkeypatch.delenv("MINZHENG_CACHE_DIR")
    shutil.rmtree(cache_home)
    monkeypatch.setenv("MINZHENG_CACHE", "off")
    VectorizedPack(load_pack("huzhou"), ON)
    assert not cache_home.exists(), "MINZHENG_CACHE=off writes nothing"


def test_a_warm_start_does_not_compile_and_answers_the_same(cache_home, monkeypatch):
    h, m = _frames()
    cold = VectorizedPack(load_pack("huzhou"), ON).evaluate(h, m).frame
    assert len(_entries(cache_home, "plan")) == 1

    def refuse(*args, **kwargs):
        raise AssertionError("compiled again although the plan was cached")

    monkeypatch.setattr(engine, "Compiler", refuse)
    warm = VectorizedPack(load_pack("huzhou"), ON)
    assert warm.evaluate(h, m).frame.equals(cold)


def test_the_plan_key_is_the_same_in_another_process(cache_home):
    """A new process hashes strings differently (PYTHONHASHSEED): the key must not depend on
    that, or every run misses the cache (the pack's set of overrides once made it so)."""
    script = (
        "import datetime as dt; from minzheng_rules.packs._pack import load_pack; "
        "from minzheng_rules.backends.vectorized._engine import plan_key; "
        "print(plan_key(load_pack('huzhou'), dt.date(2024, 6, 1), False))"
    )
    keys = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": os.pathsep.join(sys.path)}
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        keys.add(done.stdout.strip())
    assert keys == {plan_key(load_pack("huzhou"), ON, False)}


def test_another_date_options_or_overridden_parameters_miss_the_cache(cache_home):
    pack = load_pack("huzhou")
    changed = pack.with_overrides({"dibao.standard": "2000"})
    keys = {
        plan_key(pack, ON, False),
        plan_key(pack, dt.date(2025, 6, 1), False),
        plan_key(pack, ON, True),
        plan_key(changed, ON, False),
    }
    assert len(keys) == 4
    assert plan_key(load_pack("huzhou"), ON, False) == plan_key(pack, ON, False)
    # and the overridden pack's plan pays the overridden standard, not the cached one
    h, m = _frames()
    base = VectorizedPack(pack, ON).evaluate(h, m).frame
    more = VectorizedPack(changed, ON).evaluate(h, m).frame
    assert more["dibao_amount"].sum() > base["dibao_amount"].sum()


def test_an_edited_pack_file_is_parsed_and_compiled_again(cache_home, tmp_path):
    folder = tmp_path / "core"
    shutil.copytree(CORE, folder)
    h, m = _frames()
    before = VectorizedPack(load_pack(folder), ON).evaluate(h, m).frame
    params = folder / "parameters.yaml"
    params.write_text(params.read_text(encoding="utf-8").replace("value: 1145", "value: 1500"))
    after = VectorizedPack(load_pack(folder), ON).evaluate(h, m).frame
    assert len(_entries(cache_home, "plan")) == 2
    # a higher standard pays more 低保 in total: the edit was seen, not the cached plan
    assert after["dibao_amount"].sum() > before["dibao_amount"].sum()


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[: len(b) // 2],  # truncated
        lambda b: b[:-1] + bytes([b[-1] ^ 0xFF]),  # one bit flipped in the payload
        lambda b: b"garbage",  # not a cache file at all
        lambda b: b"",  # empty
    ],
    ids=["truncated", "flipped", "garbage", "empty"],
)
def test_a_bad_cache_file_is_ignored_and_rebuilt(cache_home, damage):
    h, m = _frames()
    want = VectorizedPack(load_pack("huzhou"), ON).evaluate(h, m).frame
    files = _entries(cache_home, "plan") + _entries(cache_home, "yaml")
    good = {p: p.read_bytes() for p in files}
    for p in files:
        p.write_bytes(damage(good[p]))
    got = VectorizedPack(load_pack("huzhou"), ON).evaluate(h, m).frame
    assert got.equals(want)
    for p in files:  # rebuilt: each file is whole again
        assert p.read_bytes() == good[p] or cache.get(p.parent.name, p.stem) is not None


def test_a_payload_with_the_right_digest_but_no_valid_pickle_is_not_trusted(cache_home):
    import hashlib

    k = cache.key("test", "x")
    path = cache_home / "test" / f"{k}.pickle"
    path.parent.mkdir(parents=True)
    payload = b"\x80\x05not a pickle"
    path.write_bytes(cache.MAGIC + hashlib.sha256(payload).digest() + payload)
    assert cache.get("test", k) is None
    assert not path.exists()
    cache.put("test", k, {"a": np.int64(3)})
    assert cache.get("test", k) == {"a": 3}


def test_an_unwritable_cache_folder_is_skipped(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.delenv("MINZHENG_CACHE", raising=False)
    monkeypatch.setenv("MINZHENG_CACHE_DIR", str(blocker / "sub"))
    h, m = _frames()
    assert VectorizedPack(load_pack("huzhou"), ON).evaluate(h, m).frame.height == h.height


def test_a_cached_yaml_file_keeps_its_line_numbers(cache_home):
    from minzheng_rules.packs._yaml_source import line_of, load_yaml

    path = Path(__file__).resolve().parent.parent / "policies" / "huzhou" / "parameters.yaml"
    fresh = load_yaml(path)
    assert len(_entries(cache_home, "yaml")) == 1
    cached = load_yaml(path)
    name = next(iter(fresh["parameters"]))
    where = ("parameters", name, "history", 0, "value")
    assert cached == fresh
    assert line_of(cached, where) == line_of(fresh, where) > 1
    text = path.read_text(encoding="utf-8").splitlines()
    assert "value:" in text[line_of(cached, where) - 1]  # the line really holds the value


def test_the_engine_version_covers_the_whole_package():
    """A changed backend or fact table must miss the plans compiled before it (the version once
    hashed only ``packs/``, where the cache module sits, so an edited compiler was served the
    old plan)."""
    root = cache.package_root()
    assert (root / "backends" / "vectorized" / "_compiler.py").is_file()
    assert (root / "model" / "_facts.py").is_file()
    assert (root / "packs" / "_cache.py").is_file()


def test_an_edited_module_outside_packs_changes_the_engine_version(tmp_path, monkeypatch):
    (tmp_path / "packs").mkdir()
    (tmp_path / "backends").mkdir()
    (tmp_path / "packs" / "cache.py").write_text("x = 1\n")
    compiler = tmp_path / "backends" / "compiler.py"
    compiler.write_text("y = 1\n")
    monkeypatch.setattr(cache, "package_root", lambda: tmp_path)
    versions = []
    for text in ("y = 1\n", "y = 2\n"):
        compiler.write_text(text)
        cache.engine_version.cache_clear()
        versions.append(cache.engine_version())
    cache.engine_version.cache_clear()
    assert versions[0] != versions[1]
