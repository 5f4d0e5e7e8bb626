"""What :mod:`bayescale.fit` and the :class:`~bayescale.fit_result.Fit` object share: diagnostic
thresholds and warnings, a fit's grouping columns (``_group_frame``), seed resolution
(``_resolve_seed``), and a Fit's lazy pointwise log-likelihood (``defer_log_likelihood``,
``fill_log_likelihood``) and per-row diagnostics cache (``convergence_rows``), moved whole
from :mod:`bayescale.fit_result`. The names before those are re-exported by
:mod:`bayescale.fit`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ._api import resolve_seed

RHAT_MAX = 1.01


ESS_MIN = 400


SUMMARY_COLUMNS = ["mean", "sd", "median", "ci95_lo", "ci95_hi", "ess_bulk", "ess_tail", "r_hat"]


class DiagnosticWarning(UserWarning):
    """Raised (as a warning) when a fit shows divergences, high R-hat or low ESS."""


#: Distributions whose density does not integrate to one (a fit with fewer runs than
#: parameters is refused when any prior is one of these).
IMPROPER = frozenset({"Flat", "HalfFlat"})


class SmallDataWarning(UserWarning):
    """A fit has fewer runs than free parameters: the priors carry the rest."""


def _group_frame(
    frame: pd.DataFrame,
    data: Any,
    columns: Mapping[str, str] | None,
    groups: Any,
    argument: str = "groups",
) -> pd.DataFrame:
    """The canonical runs plus the grouping columns named in ``groups`` that are not canonical
    (``C`` from the data when it has one: isoFLOP budgets are often snapped, not exactly 6ND;
    otherwise 6ND). ``argument`` names the argument that gave them in an error (``groups=``
    or ``group=``)."""
    if groups is None or groups is False or (isinstance(groups, str) and groups == "auto"):
        return frame
    source = data if isinstance(data, pd.DataFrame) else pd.DataFrame(dict(data))
    rename = {v: k for k, v in (columns or {}).items()}
    out = frame.copy()
    names = [groups] if isinstance(groups, str) else list(groups)
    for name in names:
        if name in out.columns:
            continue
        original = next((c for c in source.columns if rename.get(c, c) == name), None)
        if original is None and name == "C" and {"N", "D"} <= set(out.columns):
            continue  # computed as 6ND
        if original is None:
            raise ValueError(
                f"{argument}={groups!r}: column {name!r} is not in the data "
                f"(columns: {list(source.columns)})"
            )
        out[name] = source.loc[frame.index, original].to_numpy()
    return out


def _labels(da: xr.DataArray, idx: tuple[int, ...]) -> list[str]:
    """Index ``idx`` of ``da``'s extra dimensions as text: the group's label on a ``group``
    dimension (pooled fits), the position otherwise."""
    out = []
    for dim, i in zip(da.dims[2:], idx, strict=True):
        out.append(str(da[dim].to_numpy()[i]) if dim == "group" and dim in da.coords else str(i))
    return out


def _flat(values: np.ndarray) -> np.ndarray:
    return np.asarray(values).reshape(-1, *np.shape(values)[2:])


def _resolve_seed(random_seed: int | None) -> int:
    """:func:`bayescale._api.resolve_seed` (kept under this name for the modules using it)."""
    return resolve_seed(random_seed)


# ---------------------------------------------- a Fit's lazy log-likelihood and diagnostics
# (moved whole from fit_result.py; Fit's _defer_log_likelihood, _fill_log_likelihood and
# _convergence call these)


def defer_log_likelihood(
    fit: Any,
    inputs: Mapping[str, np.ndarray],
    observed: np.ndarray,
    extra: Mapping[str, np.ndarray],
    codes: Mapping[str, np.ndarray] | None,
    run: np.ndarray,
) -> None:
    """Leave the ``log_likelihood`` group of a tree assembled without it to the first access
    of ``fit.idata`` (``fit`` sets this; ≈ 0.05 s and 8 MB for 240 runs × 4000 draws that a
    batch job reduced to a summary never needs)."""
    fit._loglik_pending = (dict(inputs), observed, dict(extra), codes, run)


def fill_log_likelihood(fit: Any) -> None:
    """Compute the deferred ``log_likelihood`` group of ``fit`` and put it in its tree."""
    from .posterior import log_likelihood_group

    pending = fit.__dict__.get("_loglik_pending")
    if pending is None:  # another thread filled it since this one looked (idata's check)
        return
    inputs, observed, extra, codes, run = pending
    tree = fit._idata
    group = log_likelihood_group(
        fit.law, fit.likelihood, tree["posterior"].to_dataset(), inputs, observed, extra,
        fit.structure, codes, fit.pooling, run,
    )  # fmt: skip
    # the groups in the order an eagerly built tree has them (posterior, log_likelihood, ...)
    groups = {"posterior": tree["posterior"].to_dataset(inherit=False)}
    groups["log_likelihood"] = group
    for name, node in tree.children.items():
        if name not in groups:
            groups[name] = node.to_dataset(inherit=False)
    filled = xr.DataTree.from_dict(groups)
    filled.attrs.update(tree.attrs)
    fit._idata = filled
    fit._loglik_pending = None


def convergence_rows(fit: Any, labels: list[str], xs: np.ndarray) -> np.ndarray:
    """Bulk ESS, tail ESS and R-hat of the rows ``labels`` with draws ``xs`` (row, chain,
    draw), shape (row, 3): computed together (:func:`bayescale.convergence.diagnose`) and
    kept per row with its draws on ``fit``, reused while they are the same (fit's diagnostics,
    then ``summary()``)."""
    from . import convergence

    cache = fit.__dict__.setdefault("_convergence_cache", {})
    out = np.empty((len(labels), 3))
    todo = []
    for i, label in enumerate(labels):
        hit = cache.get(label)
        if hit is not None and hit[0].shape == xs[i].shape and np.array_equal(hit[0], xs[i], True):
            out[i] = hit[1]
        else:
            todo.append(i)
    if todo:
        found = np.stack(convergence.diagnose(xs[todo], prob=(0.05, 0.95)), axis=1)
        for i, row in zip(todo, found, strict=True):
            out[i] = row
            cache[labels[i]] = (xs[i], tuple(float(v) for v in row))  # xs is our own stack
    return out


# ---------------------------------------------- a Fit's text and HTML tables (from fit_result.py)


def table_text(table: pd.DataFrame, width: int | None = None) -> str:
    """A summary table as text for reading, wrapped to ``width`` (default: the terminal's)."""
    import shutil

    from .display import cell

    shown = table.drop(columns=["flag"]) if not table["flag"].any() else table
    text = pd.DataFrame(
        {c: [cell(v, c) for v in shown[c]] for c in shown.columns}, index=shown.index
    )
    width = width or shutil.get_terminal_size((100, 24)).columns
    with pd.option_context(
        "display.max_rows", None, "display.max_columns", None, "display.width", width
    ):
        return text.to_string(line_width=width)


def fit_html(fit: Any) -> str:
    """``Fit._repr_html_``: the fit's headline, diagnostics and published table as HTML."""
    import html

    from .display import cell
    from .export import to_html_table

    table, diag = fit._tables()
    post = fit.posterior
    ok = not diag["problems"]
    badge = (
        '<span style="background:#2e7d32;color:white;padding:1px 6px;border-radius:3px">'
        "converged</span>"
        if ok
        else '<span style="background:#c62828;color:white;padding:1px 6px;'
        f'border-radius:3px">{len(diag["problems"])} problem(s)</span>'
    )
    rows = "".join(
        f"<tr><td><code>{html.escape(n)}</code></td><td>{html.escape(v)}</td></tr>"
        for n, v in fit._headline(table)
    )
    problems = "".join(f"<li>{html.escape(p)}</li>" for p in diag["problems"])
    details = to_html_table(table.drop(columns=["flag"]))
    return (
        f"<div><b>bayescale.Fit</b> <code>{fit.law.key}</code> {badge}<br>"
        f"{len(fit.data)} runs · {fit.likelihood.name} likelihood · "
        f"{post.sizes['chain']}×{post.sizes['draw']} draws · "
        f"max R-hat {cell(diag['max_r_hat'], 'r_hat')} · "
        f"min ESS {cell(diag['min_ess_bulk'], 'ess_bulk')} · "
        f"{diag['divergences']} divergences"
        f"<table><tr><th>parameter</th><th>median [95% interval]</th></tr>{rows}</table>"
        + (f"<ul>{problems}</ul>" if problems else "")
        + f"<details><summary>all published parameters</summary>{details}</details>"
        + "</div>"
    )
