"""The explorer's household calculator (docs/javascripts/mz-calc.js over the packs exported by
docsgen.calc) gives the reference evaluator's answers: every golden case of every shipped pack
and thousands of generated households per pack, run in headless Chromium, compared program by
program (status, amount to the fen, missing facts, exclusions, each member's status and amount)
and on tags and needs. ``MINZHENG_CALC_PARITY_N`` sets the generated households per pack."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minzheng_rules import evaluate, load_pack
from minzheng_rules.docsgen._calc import export_pack, pack_script
from minzheng_rules.model._errors import MinzhengError
from minzheng_rules.model._values import quantize
from minzheng_rules.packs._discovery import builtin_packs_dir
from minzheng_rules.testing.strategies import dated_households, evaluable_dates

REPO = Path(__file__).resolve().parent.parent
JS = REPO / "docs" / "javascripts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
GENERATED = int(os.environ.get("MINZHENG_CALC_PARITY_N", "1000"))
PACKS = sorted(p.name for p in builtin_packs_dir().iterdir() if (p / "pack.yaml").is_file())


def expected(pack: Any, household: dict[str, Any], on: dt.date) -> dict[str, Any]:
    """The reference evaluator's answer in the calculator's summary shape."""
    try:
        ev = evaluate(pack, household, on).to_dict()
    except MinzhengError as err:
        return {"error": str(err)}
    programs = {}
    for pid, o in ev["programs"].items():
        entry: dict[str, Any] = {
            "status": o["status"],
            "amount": o["amount"],
            "missing": o.get("missing", []),
        }
        if "excluded_by" in o:
            entry["excluded_by"] = o["excluded_by"]
        if "members" in o:
            entry["members"] = {mid: [m["status"], m["amount"]] for mid, m in o["members"].items()}
        programs[pid] = entry
    return {"programs": programs, "tags": ev["tags"], "needs": ev["needs"]}


def differences(want: dict[str, Any], got: dict[str, Any]) -> list[str]:
    """What differs between two answers; amounts compare as exact decimals."""
    if "error" in want or "error" in got:
        return [] if ("error" in want) == ("error" in got) else [f"error: {want} vs {got}"]
    out = []
    for pid, w in want["programs"].items():
        g = got["programs"].get(pid)
        if g is None:
            out.append(f"{pid}: missing from the calculator")
            continue
        for key in ("status", "missing", "excluded_by", "members"):
            if w.get(key) != g.get(key):
                out.append(f"{pid}.{key}: {w.get(key)} vs {g.get(key)}")
        if Decimal(w["amount"]) != Decimal(g["amount"]):
            out.append(f"{pid}.amount: {w['amount']} vs {g['amount']}")
    for key in ("tags", "needs"):
        if want[key] != got[key]:
            out.append(f"{key}: {want[key]} vs {got[key]}")
    return out


def generated(pack: Any, n: int) -> list[tuple[dt.date, dict[str, Any]]]:
    """``n`` households drawn by the project's strategies (deterministically), with facts left
    unknown at times, over every date the pack can run on."""
    if n <= 0 or not evaluable_dates(pack):
        return []
    out: list[tuple[dt.date, dict[str, Any]]] = []

    @settings(
        max_examples=n,
        database=None,
        derandomize=True,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.one_of(dated_households(pack, known=False), dated_households(pack)))
    def collect(pair: tuple[dt.date, Any]) -> None:
        out.append((pair[0], pair[1].model_dump(mode="json", exclude_none=True)))

    collect()
    return out


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        reason = "headless Chromium not installed: apt-get install chromium chromium-driver"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium not installed")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-calc')}",
    ):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_script_timeout(300)
    try:
        yield driver
    finally:
        driver.quit()


def _page(folder: Path, scripts: list[str]) -> str:
    """A bare page loading the calculator's own scripts (from file://, as a reader might)."""
    tags = "\n".join(f'<script src="{s}"></script>' for s in scripts)
    (folder / "index.html").write_text(
        f'<!doctype html><meta charset="utf-8"><body>{tags}</body>', encoding="utf-8"
    )
    return (folder / "index.html").as_uri()


def _run_in_browser(driver, folder: Path, pack: Any, cases: list[dict[str, Any]]) -> list[Any]:
    (folder / "pack.js").write_text(pack_script(pack), encoding="utf-8")
    (folder / "cases.js").write_text(
        "window.CASES = " + json.dumps(cases, ensure_ascii=False, default=str) + ";",
        encoding="utf-8",
    )
    url = _page(
        folder,
        [
            (JS / "vendor" / "decimal.js").as_uri(),
            (JS / "mz-calc.js").as_uri(),
            "pack.js",
            "cases.js",
        ],
    )
    driver.get(url)
    raw = driver.execute_script(
        """
        const C = window.MZCalc, pack = window.MZ_PACKS[arguments[0]], bound = {};
        return JSON.stringify(window.CASES.map(c => {
          try {
            bound[c.date] = bound[c.date] || C.bind(pack, c.date);
            return C.summary(C.evaluate(pack, c.household, c.date, {bound: bound[c.date]}));
          } catch (e) {
            if (e instanceof C.EvalError) return {error: e.message};
            return {crash: String(e && e.stack || e)};
          }
        }));
        """,
        pack.id,
    )
    return json.loads(raw)


@pytest.mark.parametrize("pack_id", PACKS)
def test_calculator_matches_the_reference_evaluator(chromium, tmp_path, pack_id):
    pack = load_pack(pack_id)
    started = time.perf_counter()
    cases = [(c.date, c.household) for c in pack.cases]
    golden = len(cases)
    cases += generated(pack, GENERATED)
    if not cases:
        pytest.skip(f"{pack_id} has no worked examples and cannot be evaluated alone")
    payload = [{"date": on.isoformat(), "household": h} for on, h in cases]
    want = [expected(pack, h, on) for on, h in cases]
    got = _run_in_browser(chromium, tmp_path, pack, payload)
    assert len(got) == len(want)
    crashes = [g["crash"] for g in got if "crash" in g]
    assert not crashes, crashes[:3]
    bad = []
    for (on, h), w, g in zip(cases, want, got, strict=True):
        diff = differences(w, g)
        if diff:
            bad.append(f"{h.get('id')} on {on}: {diff[:3]}")
    programs = sum(len(w.get("programs", {})) for w in want)
    print(
        f"\n{pack_id}: {len(cases)} households ({golden} golden, {len(cases) - golden} "
        f"generated), {programs} program answers, {len(bad)} mismatches, "
        f"{time.perf_counter() - started:.1f}s"
    )
    assert not bad, f"{len(bad)} of {len(cases)} differ, e.g. {bad[:5]}"
    assert any(w.get("programs") for w in want)  # the packs did answer


def test_the_comparison_sees_a_wrong_answer():
    want = {
        "programs": {"dibao": {"status": "eligible", "amount": "1145.00", "missing": []}},
        "tags": [],
        "needs": [],
    }
    assert differences(want, json.loads(json.dumps(want))) == []
    wrong = json.loads(json.dumps(want))
    wrong["programs"]["dibao"]["amount"] = "1145.01"
    assert differences(want, wrong) == ["dibao.amount: 1145.00 vs 1145.01"]
    assert differences(want, {"error": "x"})


ROUNDING_CASES = [
    (value, digits, mode)
    for value in ("2.5", "-2.5", "0.125", "0.135", "1234.565", "-0.005", "15", "149.999")
    for digits in (-1, 0, 2)
    for mode in ("half_up", "half_even", "half_down", "up", "down", "ceiling", "floor")
]


def test_rounding_and_division_match_python_decimal(chromium, tmp_path):
    """Python's quantize for every mode and digits (tens, units, fen), and 28-digit division
    (1/3, 2/3, 1000/7) read back exactly."""
    driver = chromium
    driver.get(
        _page(tmp_path, [(JS / "vendor" / "decimal.js").as_uri(), (JS / "mz-calc.js").as_uri()])
    )
    got = driver.execute_script(
        """
        const C = window.MZCalc, D = C.Decimal;
        const q = (v, d, m) => C.quantize(new D(v), d, m).toFixed();
        return {
          rounded: arguments[0].map(([v, d, m]) => q(v, d, m)),
          divided: [["1", "3"], ["2", "3"], ["1000", "7"]].map(
            ([a, b]) => new D(a).div(b).toFixed()),
        };
        """,
        ROUNDING_CASES,
    )
    want = [f"{quantize(Decimal(v), d, m):f}" for v, d, m in ROUNDING_CASES]
    assert [Decimal(x) for x in got["rounded"]] == [Decimal(x) for x in want]
    assert got["divided"] == [
        str(Decimal(1) / 3),
        str(Decimal(2) / 3),
        str(Decimal(1000) / 7),
    ]


def test_export_is_plain_json_with_every_program():
    pack = load_pack("huzhou")
    data = json.loads(json.dumps(export_pack(pack)))
    assert set(data["programs"]) == set(pack.programs)
    assert data["order"] == pack.order
    dibao = data["programs"]["dibao"]
    assert dibao["conditions"] and dibao["citations"]
    assert "p.dibao.standard" in dibao["params"] or any("dibao" in p for p in dibao["params"])
    history = data["parameters"][dibao["params"][0]].get("history")
    assert history is None or all("since" in h and "confidence" in h for h in history)
