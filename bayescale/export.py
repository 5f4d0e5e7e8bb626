"""Tables of results: Markdown, HTML and LaTeX rendering and CSV/JSON export.

Display formats (Markdown, HTML, LaTeX) round numbers for reading; data formats (CSV, JSON) keep
every digit, so a table written with :func:`export_summary` and read back with
:func:`read_summary` (or plain pandas) equals the one in memory.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ._api import CI_PROB, check_ci_prob, check_path, deprecated_args
from .display import DIGITS, cell, number

__all__ = [
    "export_summary",
    "format_number",
    "read_summary",
    "render_table",
    "summary_table",
    "to_html_table",
    "to_latex",
    "to_markdown",
]

SAMPLE_DIMS = ("chain", "draw")


def format_number(value: object, digits: int = DIGITS) -> str:
    """A number with ``digits`` significant digits for display (text passes through).

    See :func:`bayescale.display.number`.

    Examples
    --------
    >>> format_number(2085.4312), format_number(0.000123456), format_number("n/a")
    ('2085', '1.23e-4', 'n/a')
    """
    return number(value, digits)


def to_markdown(frame: pd.DataFrame, *, digits: int = DIGITS, index: bool = True) -> str:
    """Render ``frame`` as a GitHub-flavoured Markdown table (numbers rounded for display only).

    Examples
    --------
    >>> import pandas as pd
    >>> print(to_markdown(pd.DataFrame({"x": [1.23456]}, index=["a"])))
    | | x |
    |---|---|
    | a | 1.23 |
    """
    header, rows = _cells(frame, digits, index, lambda v, col: cell(v, col, digits))
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for cells in rows:
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines).replace("|  |", "| |")


def _cells(frame: pd.DataFrame, digits: int, index: bool, fmt: Any) -> tuple[list, list]:
    """Header and rows of text; ``fmt(value, column)`` formats each cell (index labels by the
    index's name, so a ``compute`` index reads ``1e22``)."""
    header = ([str(frame.index.name or "")] if index else []) + [str(c) for c in frame.columns]
    rows = []
    for label, row in frame.iterrows():
        first = [fmt(label, frame.index.name)] if index else []
        rows.append(first + [fmt(v, c) for c, v in zip(frame.columns, row, strict=True)])
    return header, rows


def to_html_table(frame: pd.DataFrame, *, digits: int = DIGITS, index: bool = True) -> str:
    """Render ``frame`` as a plain HTML ``<table>`` (numbers rounded for display only).

    Examples
    --------
    >>> import pandas as pd
    >>> print(to_html_table(pd.DataFrame({"x": [1.23456]}, index=["a<b"])))
    <table>
    <thead><tr><th></th><th>x</th></tr></thead>
    <tbody>
    <tr><th>a&lt;b</th><td>1.23</td></tr>
    </tbody>
    </table>
    """
    header, rows = _cells(frame, digits, index, lambda v, c: html.escape(cell(v, c, digits)))
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for cells in rows:
        first = f"<th>{cells[0]}</th>" if index else f"<td>{cells[0]}</td>"
        body.append("<tr>" + first + "".join(f"<td>{c}</td>" for c in cells[1:]) + "</tr>")
    return "\n".join(
        ["<table>", f"<thead><tr>{head}</tr></thead>", "<tbody>", *body, "</tbody>", "</table>"]
    )


_LATEX_SPECIAL = {c: "\\" + c for c in "&%$#_{}"} | {
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "\\": r"\textbackslash{}",
}


def _latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(c, c) for c in text)


def _latex_cell(value: object, digits: int, column: Any = None) -> str:
    if isinstance(value, int | float | np.floating | np.integer) and not isinstance(value, bool):
        if not np.isfinite(value):
            return "--"
        text = cell(value, column, digits)
        match = re.fullmatch(r"(-?[0-9.]+)e(-?)([0-9]+)", text)
        if match:
            mant, sign, exp = match.groups()
            return f"${mant}\\times 10^{{{sign}{exp}}}$"
        return _latex_escape(text)
    return _latex_escape(str(value))


def to_latex(
    frame: pd.DataFrame, *, digits: int = DIGITS, index: bool = True, caption: str | None = None
) -> str:
    """Render ``frame`` as a LaTeX ``tabular`` (booktabs rules; numbers rounded for display).

    Examples
    --------
    >>> import pandas as pd
    >>> print(to_latex(pd.DataFrame({"ci95_lo": [1.5e21]}, index=["N_opt"])))
    \\begin{tabular}{lr}
    \\toprule
     & ci95\\_lo \\\\
    \\midrule
    N\\_opt & $1.5\\times 10^{21}$ \\\\
    \\bottomrule
    \\end{tabular}
    """
    header, rows = _cells(frame, digits, index, lambda v, c: _latex_cell(v, digits, c))
    header = [_latex_escape(h) for h in header]
    spec = ("l" if index else "") + "r" * len(frame.columns)
    lines = [f"\\begin{{tabular}}{{{spec}}}", "\\toprule", " & ".join(header) + " \\\\"]
    lines.append("\\midrule")
    lines += [" & ".join(cells) + " \\\\" for cells in rows]
    lines += ["\\bottomrule", "\\end{tabular}"]
    if caption:
        lines = [
            "\\begin{table}",
            "\\centering",
            *lines,
            f"\\caption{{{_latex_escape(caption)}}}",
            "\\end{table}",
        ]
    return "\n".join(lines)


def _interval_table(ds: xr.Dataset, prob: float) -> pd.DataFrame:
    """Median and central ``prob`` interval of every variable of ``ds`` over the draws.

    A wide view of :func:`~bayescale.decision_summary`: one row per grid point (the dimensions
    besides chain/draw; a MultiIndex for several), columns ``<var>_median``, ``<var>_lo<pct>``
    and ``<var>_hi<pct>``. Draws with no answer (NaN) are left out of the quantiles and, where
    there are any, counted in ``<var>_n_missing``. Variables that are not numeric (flags,
    labels) or not over every draw and grid dimension are left out.
    """
    from .decisions import decision_summary

    if not 0 < prob < 1:
        raise ValueError(f"ci_prob must be between 0 and 1, got {prob!r}")
    sample = [d for d in SAMPLE_DIMS if d in ds.dims]
    if not sample:
        raise ValueError(f"the Dataset has no {SAMPLE_DIMS} dimensions to summarise over")
    for d in SAMPLE_DIMS:
        if d not in ds.dims:
            ds = ds.expand_dims(d)
    grid = [d for d in ds.dims if d not in SAMPLE_DIMS]
    keep = [
        name
        for name, da in ds.data_vars.items()
        if set(SAMPLE_DIMS) | set(grid) <= set(da.dims)
        and np.issubdtype(da.dtype, np.number)
        and da.dtype != bool
    ]
    pct = f"{100 * prob:g}"
    if keep:
        long = decision_summary(ds[keep], ci_prob=prob)
    else:
        long = None  # decision_summary would raise; keep the empty table's index below
    if grid:
        idx = pd.MultiIndex.from_product([ds[d].to_numpy() for d in grid], names=grid)
        if len(grid) == 1:
            idx = idx.get_level_values(0)
    else:
        idx = pd.Index(["value"], name="quantity")
    columns: dict[str, np.ndarray] = {}
    for name in keep:
        part = long.xs(name, level="variable") if grid else long.loc[[name]]
        if len(grid) > 1:
            part = part.reorder_levels(grid)
        if grid:
            part = part.reindex(idx)
        columns[f"{name}_median"] = part["median"].to_numpy()
        columns[f"{name}_lo{pct}"] = part[f"ci{pct}_lo"].to_numpy()
        columns[f"{name}_hi{pct}"] = part[f"ci{pct}_hi"].to_numpy()
        missing = part["n_missing"].to_numpy()
        if missing.any():
            columns[f"{name}_n_missing"] = missing
    table = pd.DataFrame(columns, index=idx)
    table.attrs["ci_prob"] = prob
    return table


@deprecated_args(renamed={"prob": "ci_prob"})
def summary_table(obj: Any, *, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """The table :func:`export_summary` writes for ``obj``.

    Parameters
    ----------
    obj : Fit, StackedFit, result object, DataFrame or xarray.Dataset
        A :class:`~bayescale.Fit` gives ``fit.summary(ci_prob=ci_prob)``, a
        :class:`~bayescale.StackedFit` its ``summary()``, a result object
        (:class:`~bayescale.BacktestResult`, :class:`~bayescale.CardComparison`,
        :class:`~bayescale.PredictiveCheck`, SBC) its ``summary()``; a DataFrame is taken as is; a
        Dataset
        over ``(chain, draw[, dims...])`` (e.g. :func:`~bayescale.compute_optimal`'s or
        :func:`~bayescale.compute_for_loss`'s result) gives one row per grid point of the other
        dimensions (a MultiIndex for several) with columns ``<var>_median``, ``<var>_lo<pct>``
        and ``<var>_hi<pct>`` (the central ``ci_prob`` interval): the wide form of
        :func:`~bayescale.decision_summary`. Draws with no answer (NaN) are left out of the
        quantiles and counted in ``<var>_n_missing`` where there are any; non-numeric and
        boolean variables are left out.
    ci_prob : float
        Interval probability for a Fit or a Dataset (default :data:`~bayescale.CI_PROB`).

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> import bayescale as bs
    >>> fit = bs.testing.pinned_fit(random_seed=0)
    >>> t = summary_table(bs.compute_optimal(fit, compute=[1e21, 1e24]))
    >>> t.index.name, list(t.columns[:3])
    ('compute', ['N_opt_median', 'N_opt_lo95', 'N_opt_hi95'])
    """
    from .fit import Fit
    from .stacking import StackedFit

    if isinstance(obj, StackedFit):
        return obj.summary()
    if isinstance(obj, Fit):
        return obj.summary(ci_prob=ci_prob)
    if isinstance(obj, pd.DataFrame):
        return obj
    if _is_result(obj):
        return obj.summary()
    if isinstance(obj, xr.DataArray):
        obj = obj.to_dataset(name=obj.name or "value")
    if isinstance(obj, xr.Dataset):
        return _interval_table(obj, ci_prob)
    raise TypeError(
        "export_summary takes a Fit, a StackedFit, a result object, a DataFrame or an xarray "
        "Dataset, got "
        f"{type(obj).__name__}"
    )


def _json_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _json_text(frame: pd.DataFrame) -> str:
    """Pandas' "table" orient, written with Python's shortest round-trip float repr."""
    from pandas.io.json import build_table_schema

    flat = frame.reset_index()
    schema = build_table_schema(frame, version=False)
    records = [
        {str(k): _json_value(v) for k, v in zip(flat.columns, row, strict=True)}
        for row in flat.itertuples(index=False, name=None)
    ]
    return json.dumps({"schema": schema, "data": records}, indent=1, allow_nan=False) + "\n"


_FORMATS = {".csv": "csv", ".md": "md", ".markdown": "md", ".tex": "tex", ".json": "json"}


def render_table(frame: pd.DataFrame, fmt: str, *, digits: int = DIGITS) -> str:
    """``frame`` as text in format ``fmt`` (``"csv"``, ``"json"``, ``"md"``, ``"tex"``, ``"html"``).

    CSV and JSON keep full precision; the others round to ``digits`` significant digits.

    Examples
    --------
    >>> import pandas as pd
    >>> print(render_table(pd.DataFrame({"x": [0.1 + 0.2]}), "csv").strip())
    ,x
    0,0.30000000000000004
    """
    if fmt in ("md", "tex", "html"):
        digits = check_digits(digits)
    if fmt == "csv":
        return frame.to_csv(na_rep="NaN")
    if fmt == "json":
        return _json_text(frame)
    if fmt == "md":
        return to_markdown(frame, digits=digits) + "\n"
    if fmt == "tex":
        return to_latex(frame, digits=digits) + "\n"
    if fmt == "html":
        return to_html_table(frame, digits=digits) + "\n"
    raise ValueError(f"unknown table format {fmt!r}; use csv, json, md, tex or html")


def check_digits(digits: Any) -> int:
    """``digits`` as a whole number from 1 to 17; ValueError naming it otherwise.

    Examples
    --------
    >>> check_digits(4)
    4
    >>> check_digits(-3)
    Traceback (most recent call last):
    ...
    ValueError: digits must be a whole number from 1 to 17 (significant digits), got -3
    """
    if (
        isinstance(digits, bool)
        or not isinstance(digits, int | np.integer)
        or not 1 <= int(digits) <= 17
    ):
        raise ValueError(
            f"digits must be a whole number from 1 to 17 (significant digits), got {digits!r}"
        )
    return int(digits)


def _is_result(obj: Any) -> bool:
    from .decisions import CardComparison
    from .grouped import GroupedResult
    from .sbc import SBCResult
    from .validation import BacktestResult, PredictiveCheck

    kinds = BacktestResult | CardComparison | PredictiveCheck | SBCResult | GroupedResult
    return isinstance(obj, kinds)


@deprecated_args(renamed={"prob": "ci_prob"})
def export_summary(
    obj: Any, path: str | os.PathLike, *, ci_prob: float = CI_PROB, digits: int = DIGITS
) -> str:
    """Write a summary table of ``obj`` to ``path``; the format follows the extension.

    ``.csv`` and ``.json`` keep every digit (JSON uses pandas' ``"table"`` orient, which records
    the index name and dtypes); ``.md`` (Markdown) and ``.tex`` (LaTeX ``tabular``) round to
    ``digits`` significant digits for display.

    Parameters
    ----------
    obj : Fit, result object, DataFrame or xarray.Dataset
        See :func:`summary_table`.
    path : str or path-like
        Output file ending in ``.csv``, ``.json``, ``.md`` or ``.tex``.
    ci_prob : float
        Interval probability for a Fit or a Dataset (default :data:`~bayescale.CI_PROB`).
    digits : int
        Significant digits in the display formats.

    Returns
    -------
    str
        The path written.

    Raises
    ------
    ValueError
        An unknown extension, ``ci_prob`` outside (0, 1) or ``digits`` not a whole number from 1
        to 17; checked, and the table made, before anything is written. The file is written
        atomically (:func:`bayescale.io.atomic_write`): an existing file is replaced only by a
        complete one.

    Examples
    --------
    >>> import bayescale as bs, tempfile, os
    >>> fit = bs.testing.pinned_fit(random_seed=0)
    >>> path = export_summary(fit, os.path.join(tempfile.mkdtemp(), "summary.json"))
    >>> back = read_summary(path)
    >>> bool((back["median"] == fit.summary()["median"]).all())
    True
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"export_summary: path must be a str or path-like, got {path!r}")
    path = Path(path)
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"cannot tell the format of {str(path)!r} from its extension; "
            "use .csv, .json, .md or .tex"
        )
    from .io import atomic_write_text, check_target

    check_digits(digits)
    ci_prob = check_ci_prob(ci_prob)  # the one check of every ci_prob
    check_target(path)
    text = render_table(summary_table(obj, ci_prob=ci_prob), fmt, digits=digits)
    return atomic_write_text(path, text)


def _check_whole_csv(path: Path) -> None:
    """A table export_summary wrote has no NUL byte and as many cells in each line as in its
    header: a file cut short or damaged would otherwise read as a table that lost cells."""
    import csv
    import io

    raw = path.read_bytes()
    problem = "holds a NUL byte" if b"\x00" in raw else ""
    if not problem:
        try:
            rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
        except (UnicodeDecodeError, csv.Error):
            return  # pandas names it
        short = [i + 1 for i, row in enumerate(rows) if row and len(row) != len(rows[0])]
        if short:
            problem = f"has {len(rows[short[0] - 1])} cells in row {short[0]} against "
            problem += f"{len(rows[0])} in its header"
    if problem:
        raise ValueError(
            f"read_summary: {path} {problem}: it is truncated or damaged, not a whole table "
            "written by export_summary; write it again"
        )


def read_summary(path: str | os.PathLike) -> pd.DataFrame:
    """Read a ``.csv`` or ``.json`` table written by :func:`export_summary` at full precision.

    Empty text cells (the summary's ``flag`` column) come back as ``""`` and missing numbers
    as NaN (CSV files write them as ``NaN``, which plain ``pd.read_csv`` also reads as NaN).

    Examples
    --------
    >>> import bayescale as bs, tempfile, os
    >>> fit = bs.testing.pinned_fit(random_seed=0)
    >>> path = export_summary(fit, os.path.join(tempfile.mkdtemp(), "summary.csv"))
    >>> read_summary(path).index.name
    'parameter'
    """
    path = check_path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise ValueError(f"read_summary reads .csv or .json files, got {str(path)!r}")
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise FileNotFoundError(f"read_summary: {path} {what}; give a table from export_summary")
    if suffix == ".csv":
        _check_whole_csv(path)
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path, index_col=0, keep_default_na=False, na_values=["NaN"])
        else:
            frame = pd.read_json(path, orient="table", precise_float=True)
    except (ValueError, KeyError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise ValueError(
            f"read_summary: {path} is not a table written by export_summary ({err})"
        ) from None
    for col in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[col]):
            frame[col] = frame[col].fillna("")
    return frame
