"""What the two report bundles (one fit, a stack) and the command line share: the page style,
the budget the figures mark, and the display form of a compute-optimal table.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ._api import CI_PROB, deprecated_args
from .display import DIGITS, human, interval

_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:62rem;margin:2rem auto;padding:0 1rem;"
    "color:#222}table{border-collapse:collapse;margin:0.6rem 0 1.2rem;font-size:0.9rem}"
    "th,td{border:1px solid #ccc;padding:0.2rem 0.5rem;text-align:right}"
    "th:first-child{text-align:left}thead th{background:#f2f2f2}img{max-width:100%}"
    "code{background:#f4f4f4;padding:0 0.2rem}.ok{color:#2e7d32}.bad{color:#c62828}"
)


#: the budget the figures mark (Chinchilla's 5.88e23 FLOPs); always among the default budgets
MARK = 5.88e23


@deprecated_args(renamed={"prob": "ci_prob"}, positional=("ci_prob",))
def optimal_display(
    opt_table: pd.DataFrame, *, ci_prob: float = CI_PROB, digits: int = DIGITS
) -> pd.DataFrame:
    """One text cell "median [lo, hi]" per quantity and budget, for display.

    ``opt_table`` is :func:`~bayescale.export.summary_table` of a
    :func:`~bayescale.compute_optimal` result computed with the same ``ci_prob``.

    Examples
    --------
    >>> import bayescale as bs
    >>> from bayescale.export import summary_table
    >>> opt = bs.compute_optimal(bs.testing.pinned_fit(random_seed=0), compute=[1e24])
    >>> list(optimal_display(summary_table(opt)).columns)[:2]
    ['N* (parameters)', 'D* (tokens)']
    """
    pct = f"{100 * ci_prob:g}"
    rows = {}
    for c, r in opt_table.iterrows():
        row = {}
        for var, label in (
            ("N_opt", "N* (parameters)"),
            ("D_opt", "D* (tokens)"),
            ("tokens_per_param", "D*/N*"),
            ("loss_opt", "loss at optimum (nats/token)"),
        ):
            mid, lo, hi = r[f"{var}_median"], r[f"{var}_lo{pct}"], r[f"{var}_hi{pct}"]
            # the unit is in the column's name: 70.2B [52B, 95.3B]
            text = interval(mid, lo, hi, var, digits=digits)
            row[label] = text.removesuffix(" parameters").removesuffix(" tokens")
        rows[human(float(c), "C", unit=False)] = row
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "compute C (FLOPs)"
    return frame


def remove_stale(out: Any, written: Any) -> None:
    """Remove the bundle files (``report.BUNDLE_FILES``) in ``out`` that this report did not
    write: a folder that held another kind of report (an unpooled fit's figures, a pooled
    fit's ``groups.png``) then holds one report, not a mixture of two."""
    from pathlib import Path

    from .report import BUNDLE_FILES

    keep = {Path(w).name for w in written}
    for name in BUNDLE_FILES:
        path = Path(out) / name
        if name not in keep and path.is_file():
            path.unlink()
