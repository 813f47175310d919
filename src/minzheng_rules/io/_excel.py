"""An Excel sheet read as the office sees it on screen, not only as its cells are stored: cells
merged down a column (a household's 户编号 beside each of its members' rows) hold their value
in every row they cover, and an id typed as a number, which Excel has already rounded, is
found and named instead of being read as plausible digits.

Polars reads the cells (fastexcel); the merged ranges come from python-calamine, the same
Rust reader, which fastexcel does not expose them through."""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice
from pathlib import Path

import numpy as np
import polars as pl

from minzheng_rules.io._validate import InputError, one_line

# a spreadsheet's number of 16 or more digits, as the text Polars reads it into
LONG_NUMBER = r"-?\d{16,}(?:\.0*)?"

Fills = dict[str, np.ndarray]  # column -> for each row, the row whose cell it shows


def read_sheet(
    path: Path,
    sheet: str,
    header_row: int,
    label: str,
    amounts: Callable[[list[str]], tuple[str, ...]] | None = None,
) -> tuple[pl.DataFrame, pl.Series | None]:
    """The sheet's rows under its header (row ``header_row``, from 1), empty rows included,
    merged cells filled; and per row why it cannot be read faithfully (null: it can), or None
    when every row can (see :func:`rounded_in_text` and :func:`merged_amounts`; ``amounts``:
    of the header, the columns of one amount per row). A column of numbers that Excel has
    rounded is refused whole (:func:`exact_numbers`)."""
    try:
        frame = pl.read_excel(
            path,
            sheet_name=sheet,
            infer_schema_length=None,
            read_options={"header_row": header_row - 1},
            drop_empty_rows=False,  # (rows stay where the sheet has them, for the ranges)
        )
    except Exception as e:
        raise InputError(f"{label}: cannot read the sheet ({one_line(e)})") from None
    fills = merged_down(frame, path, sheet, header_row)
    frame = filled(frame, fills)
    exact_numbers(frame, label)
    why = rounded_in_text(frame, path, sheet, header_row, fills)
    merged = merged_amounts(fills, amounts(frame.columns), frame.height) if amounts else None
    if why is None or merged is None:
        return frame, merged if why is None else why
    both = pl.select(pl.concat_str([why, merged], separator="; ", ignore_nulls=True)).to_series()
    return frame, pl.select(pl.when(both != "").then(both)).to_series()


def merged_amounts(fills: Fills, amounts: tuple[str, ...], height: int) -> pl.Series | None:
    """Per row, why it cannot be read (null: it can), or None when every row can: a cell of a
    member's own amount (月收入) merged down several members' rows. Shown once, it may be
    their income together or each one's: which is for the office to say (filled into every
    row, three members' 800 would be 2400)."""
    reasons = pl.Series(dtype=pl.String).extend_constant(None, height)
    for name in amounts:
        rows = fills.get(name)
        if rows is None:
            continue
        covered = rows != np.arange(height)
        merged = covered | np.isin(np.arange(height), rows[covered])
        why = (
            f"column '{name}': one cell merged over several members' rows, which may be their "
            "amount together or each one's: give each member's own (unmerge the cells)"
        )
        reasons = pl.select(
            pl.when(pl.Series(merged)).then(pl.lit(why)).otherwise(reasons)
        ).to_series()
    return reasons if reasons.is_not_null().any() else None


def merged_down(frame: pl.DataFrame, path: Path, sheet: str, header_row: int) -> Fills:
    """The cells merged down one column below the header: stored in the range's first row
    alone (the others read as empty), shown by Excel in every row of it. Cells merged across
    columns (a title over the header) are left as they are.

    The sheet is read again for its ranges (python-calamine loads every cell to give them:
    about as long as the read itself), so only when a cell under the header is empty, as every
    merged cell but the first is."""
    if frame.height < 2 or not any(frame.null_count().row(0)):
        return {}
    from python_calamine import CalamineWorkbook

    try:
        ws = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet)
    except Exception as e:  # (python-calamine raises its own errors, and OSError)
        where = f"{path.name}[{sheet}]"
        raise InputError(f"{where}: cannot read its merged cells ({one_line(e)})") from None
    first = header_row  # the first row under the header, counted from 0 as the ranges are
    spans = [
        (r0, c0, min(r1, first + frame.height - 1))
        for (r0, c0), (r1, c1) in ws.merged_cell_ranges or []
        if c0 == c1 and r1 > r0 and r0 >= first
    ]
    if not spans:
        return {}
    # the header's names, by the sheet's columns (the frame starts at the first one used)
    header = next(islice(ws.iter_rows(), header_row - 1, None), [])
    start = ws.start[1] if ws.start else 0
    fills: Fills = {}
    for r0, c, r1 in spans:
        k = c - start
        name = str(header[k]) if 0 <= k < len(header) else None
        if name is None or name not in frame.columns:
            continue
        rows = fills.setdefault(name, np.arange(frame.height))
        rows[r0 - first + 1 : r1 - first + 1] = r0 - first
    return fills


def filled(frame: pl.DataFrame, fills: Fills) -> pl.DataFrame:
    """``frame`` with each merged range's value in every row of it."""
    if not fills:
        return frame
    return frame.with_columns(frame.get_column(n).gather(rows) for n, rows in fills.items())


def exact_numbers(frame: pl.DataFrame, label: str) -> None:
    """A spreadsheet keeps every number as a binary float, exact to 15 digits: an 18-digit
    身份证号 typed as a number is already another number in the file (330503197901010011 is
    330503197901009984), so such a column is refused whole, with the fix."""
    for name, dtype in frame.schema.items():
        if dtype.is_numeric():
            big = frame.get_column(name).cast(pl.Float64).abs() >= 2.0**53
            if big.any():
                example = frame.get_column(name).filter(big)[0]
                raise InputError(
                    f"{label}: column '{name}' holds numbers of 16 or more digits ({example}), "
                    "which a spreadsheet keeps only to 15: format the column as text (文本) "
                    "and enter them again"
                )


def rounded_in_text(
    frame: pl.DataFrame, path: Path, sheet: str, header_row: int, fills: Fills
) -> pl.Series | None:
    """Per row, why it cannot be read faithfully (null: it can), or None when every row can:
    a column of text (身份证号 typed as text in most rows) with a cell typed as a number of 16
    or more digits. A spreadsheet keeps such a number only to 15 digits, so the cell already
    holds another number, which reads as plausible digits.

    Which cells were numbers is asked of the sheet itself: read again as yes/no, a number
    cell is a value and a text cell an error (asked only where digits long enough are;
    ``fills``: the merged ranges, whose rows all show their first cell)."""
    suspects = [
        n
        for n, dtype in frame.schema.items()
        if dtype == pl.String and frame.get_column(n).str.contains(f"^{LONG_NUMBER}$").any()
    ]
    if not suspects:
        return None
    import fastexcel

    typed = fastexcel.read_excel(path).load_sheet(
        sheet,
        header_row=header_row - 1,
        use_columns=suspects,
        dtypes=dict.fromkeys(suspects, "boolean"),
        schema_sample_rows=None,
    )
    cells, _ = typed.to_arrow_with_errors()  # (a text cell: an error, left null)
    numbers = pl.from_arrow(cells)
    assert isinstance(numbers, pl.DataFrame)
    numbers = filled(numbers, {n: rows for n, rows in fills.items() if n in suspects})
    reasons = [
        pl.when(
            pl.col(n).str.contains(f"^{LONG_NUMBER}$") & numbers.get_column(n).is_not_null()
        ).then(
            pl.lit(f"column '{n}': ")
            + pl.col(n)
            + pl.lit(
                " was typed as a number, which a spreadsheet keeps only to 15 digits (it is "
                "not the number typed): format the column as text (文本) and enter it again"
            )
        )
        for n in suspects
    ]
    why = frame.select(pl.concat_str(reasons, separator="; ", ignore_nulls=True)).to_series()
    why = pl.select(pl.when(why != "").then(why)).to_series()
    return why if why.is_not_null().any() else None
