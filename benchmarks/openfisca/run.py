"""Run the OpenFisca system of the shared rules over a register (see
:mod:`benchmarks.register`), Parquet in, Parquet out in ``minzheng batch``'s columns (amounts
rounded from float32 元 to the fen). Members are joined to households by id as given
(shuffled); OpenFisca sorts them itself.

    /tmp/ofvenv/bin/python benchmarks/openfisca/run.py REGISTER_DIR OUT.parquet
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))

from openfisca_core.simulations import SimulationBuilder
from shared_rules import SharedRules

PERIOD = "2024-06"
WORDS = pa.array(["ineligible", "undetermined", "eligible"])


def _yuan(column: pa.ChunkedArray) -> np.ndarray:
    return column.cast(pa.float64()).to_numpy()


def _fen(yuan: np.ndarray) -> pa.Array:
    fen = np.rint(yuan.astype(np.float64) * 100).astype(np.int64)
    unscaled = pa.array(fen).cast(pa.decimal128(19, 0))
    return pa.Array.from_buffers(pa.decimal128(14, 2), len(fen), unscaled.buffers())


def main() -> None:
    register, out = Path(sys.argv[1]), Path(sys.argv[2])
    h = pq.read_table(register / "households.parquet")
    m = pq.read_table(register / "members.parquet")
    system = SharedRules()
    b = SimulationBuilder()
    b.create_entities(system)
    n_m = m.num_rows
    b.declare_person_entity("person", np.arange(n_m))
    households = b.declare_entity("household", np.arange(h.num_rows))
    hi = pc.index_in(m["household_id"], value_set=h["household_id"]).to_numpy()
    b.join_with_persons(households, hi, np.full(n_m, "member"))
    sim = b.build(system)
    care = m["care"].to_numpy(zero_copy_only=False)
    inputs = {
        "age": m["age"].to_numpy(),
        "monthly_income": _yuan(m["monthly_income"]),
        "disability_grade": m["disability_grade"].fill_null(0).to_numpy(),
        "disability_type": m["disability_type"]
        .fill_null("none")
        .to_numpy(zero_copy_only=False)
        .astype(str),
        "major_illness": m["major_illness"].to_numpy(),
        "has_capable_obligor": m["has_capable_obligor"].to_numpy(),
        "self_care": m["self_care"].to_numpy(zero_copy_only=False).astype(str),
        "incarcerated": m["incarcerated"].to_numpy(),
        "missing": m["missing"].to_numpy(),
        "at_school": pc.not_equal(m["student"], "none").to_numpy(),
        "institutional": care == "institutional",
        "assets_financial": _yuan(h["assets_financial"]),
    }
    for name, values in inputs.items():
        sim.set_input(name, PERIOD, values)
    dibao_ok = sim.calculate("dibao_eligible", PERIOD)
    edge_ok = sim.calculate("dibao_edge_eligible", PERIOD)
    tekun_ok = sim.calculate("tekun_eligible", PERIOD)

    def status(ok: np.ndarray) -> pa.Array:
        return WORDS.take(pa.array(ok.astype(np.int8) * 2))

    table = pa.table(
        {
            "household_id": h["household_id"],
            "dibao_status": status(dibao_ok),
            "dibao_amount": _fen(sim.calculate("dibao", PERIOD)),
            "dibao_edge_status": status(edge_ok),
            "dibao_edge_amount": _fen(np.zeros(h.num_rows)),
            "tekun_status": status(tekun_ok),
            "tekun_amount": _fen(sim.calculate("tekun", PERIOD)),
        }
    )
    pq.write_table(table, out)


if __name__ == "__main__":
    main()
