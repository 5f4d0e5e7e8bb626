"""``bs.report``: a shareable bundle of a fit — Markdown and HTML pages, CSV tables, PNG figures.

The bundle is a folder that can be zipped, attached or committed as is::

    report.html        the answer first, then diagnostics, parameters, priors, provenance;
                       one self-contained file (figures embedded as PNG)
    report.md          the same, with the figures beside it
    summary.csv        fit.summary() at full precision
    optimal.csv        medians and intervals of N*, D*, D*/N*, loss per budget (laws with N, D)
    isoflops, fit, residuals, params, frontier, tokens_per_param (and backtest): .png and .svg

The entry point and its argument checks are here; the bundle of one fit is made in
``report_fit``, that of a stack in ``report_stack``, with what both share in ``_report_common``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._api import CI_PROB, check_ci_prob, check_values, deprecated_args
from ._report_common import MARK, optimal_display  # noqa: F401 (optimal_display re-exported)
from .fit import Fit
from .report_fit import _report
from .report_stack import _stack_report
from .stacking import StackedFit

__all__ = ["report"]

DEFAULT_COMPUTE = (1e21, 1e22, 1e23, MARK, 1e24, 1e25)


@deprecated_args(renamed={"prob": "ci_prob", "fixed_inputs": "fixed"})
def report(
    fit: Fit | StackedFit,
    out_dir: str | os.PathLike,
    *,
    compute: Sequence[float] = DEFAULT_COMPUTE,
    cards: Sequence[str] | None = None,
    title: str | None = None,
    ci_prob: float = CI_PROB,
    fixed: Mapping[str, Any] | None = None,
    backtest: Any = None,
    dataset: Any = None,
) -> str:
    """Write a report bundle of ``fit`` into ``out_dir`` and return the path of ``report.md``.

    The report gives the answer first: for each budget in ``compute`` the compute-optimal
    N*, D*, tokens per parameter and the predicted loss with its ``ci_prob`` predictive interval,
    where the published fits sit, and (with ``backtest``) how often held-out runs fell inside
    the intervals, with a warning when that is less often than the nominal level. Then the
    diagnostics, the parameters, the published fits, the priors in plain notation
    (``α ~ LogNormal(μ=log 0.3, σ=0.7)``), the data's provenance (dataset, SHA-256 of its file
    when known and of the fitted runs), the versions of bayescale and its libraries and the date.

    The folder receives ``report.html`` (one self-contained file: the figures are embedded as
    PNG, no other file is referenced), ``report.md`` (the same content, figures beside it),
    ``summary.csv`` (``fit.summary()`` at full precision), ``optimal.csv`` (median and central
    ``ci_prob`` interval of N*, D*, D*/N* and the loss at each budget; laws with N and D inputs
    only) and each figure as PNG and SVG: ``fit``, ``residuals``, ``params`` and, for laws with
    N and D, ``isoflops``, ``frontier`` and ``tokens_per_param`` (and ``backtest`` when given).
    A law with inputs besides N and D (``data_constrained``'s U, ``precision``'s P) gets the
    compute-optimal table and frontier only when those inputs are given in ``fixed``;
    otherwise the report says why they are missing.

    A :class:`~bayescale.StackedFit` gets a bundle of the mixture: the members' weights, ELPD
    and diagnostics (``summary.csv`` is :meth:`StackedFit.summary
    <bayescale.StackedFit.summary>`), the compute-optimal table and ``fit.png``,
    ``frontier.png`` and ``tokens_per_param.png`` from the mixed draws (no residual or parameter
    figures: the members' parameters differ).

    Parameters
    ----------
    fit : Fit or StackedFit
    out_dir : str or path-like
        Folder to write into (created if needed; existing files of the same names are replaced).
    compute : sequence of float
        Budgets (FLOPs). The default includes 5.88e23, the budget the figures mark.
    cards : sequence of str, optional
        Reference cards to compare with (default: every card of the fit's law).
    title : str, optional
        Heading of the report.
    ci_prob : float
        Probability of the intervals of the compute-optimal table, the predictive intervals and
        the figures (default :data:`~bayescale.CI_PROB`).
    fixed : mapping, optional
        Values of the law's inputs other than N and D, held fixed along C = 6ND (e.g.
        ``{"U": 25e9}`` for ``data_constrained``).
    backtest : BacktestResult or DataFrame, optional
        A :func:`~bayescale.backtest` result (or its table): its calibration is reported and
        drawn.
    dataset : str or DataFrame, optional
        The dataset the runs came from: a registered name or the frame
        :func:`~bayescale.load_dataset` returned (its provenance is read from ``attrs``).
        Default: the fitted runs' own ``attrs``, when they carry one.

    Returns
    -------
    str
        Path of ``report.md``.

    Raises
    ------
    TypeError, ValueError, NotADirectoryError
        A bad argument (``compute`` not finite budgets > 0, ``ci_prob`` outside (0, 1), an unknown
        card, ``fixed`` naming something else than the law's other inputs or holding
        non-positive values, ``out_dir`` a file), found before anything is computed or written.
        Tables and figures are all made before the first file is written, and each file is
        written whole (:func:`bayescale.io.atomic_write`), so a failure never leaves a
        half-written file or replaces a good one with a broken one.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import bayescale as bs, tempfile, os
    >>> path = bs.report(bs.testing.pinned_fit(random_seed=0), tempfile.mkdtemp(), compute=[1e22])
    >>> sorted(os.listdir(os.path.dirname(path)))[:4]
    ['fit.png', 'fit.svg', 'frontier.png', 'frontier.svg']
    """
    import matplotlib.pyplot as plt

    # every argument is checked before anything is computed or written
    out, budgets, card_objs, fixed = _check_arguments(
        fit, out_dir, compute, cards, title, ci_prob, fixed
    )
    if isinstance(dataset, str):
        from .datasets import list_datasets

        names = list(list_datasets()["name"])
        if dataset not in names:
            raise ValueError(
                f"dataset {dataset!r} is not registered; give one of {', '.join(names)}, or the "
                "frame bs.load_dataset returned"
            )
    elif dataset is not None and not isinstance(dataset, pd.DataFrame):
        raise TypeError(f"dataset must be a dataset name or a DataFrame, got {dataset!r}")
    drawn: list[tuple[Any, str, str]] = []  # (figure, file stem, caption)
    try:
        if isinstance(fit, StackedFit):
            return _stack_report(
                fit, out, budgets, card_objs, title, ci_prob, fixed, drawn, backtest, dataset
            )
        return _report(
            fit, out, budgets, card_objs, title, ci_prob, fixed, drawn, backtest, dataset
        )
    finally:
        for fig, *_ in drawn:
            plt.close(fig)


#: the files a report bundle may write (the command line will not replace them without --force)
_FIGURES = (
    "isoflops", "fit", "residuals", "params", "frontier", "tokens_per_param", "backtest", "groups",
)  # fmt: skip
BUNDLE_FILES = (
    "report.md",
    "report.html",
    "summary.csv",
    "optimal.csv",
    "population.csv",
    "spread.csv",
    *(f"{stem}.{ext}" for stem in _FIGURES for ext in ("png", "svg")),
)


def _check_arguments(
    fit: Any,
    out_dir: Any,
    compute: Any,
    cards: Any,
    title: Any,
    ci_prob: Any,
    fixed: Any,
) -> tuple[Path, np.ndarray, list, dict]:
    """:func:`report`'s arguments, checked: (folder, budgets, cards, fixed inputs)."""
    from ._plotting import _cards_for, _law_names
    from .analysis import _as_1d

    if not isinstance(fit, Fit | StackedFit):
        raise TypeError(f"report takes a bayescale.Fit or StackedFit, got {type(fit).__name__}")
    if isinstance(fit, StackedFit) and fit.pooling is not None:
        raise ValueError(
            "report of a stack of pooled fits is not supported: report each member "
            "(bs.report(stack.fits[name], ...)) or one group's mixture "
            "(bs.report(bayescale.pooling.group_view(stack, label), ...))"
        )
    laws = [fit.law] if isinstance(fit, Fit) else [m.law for m in fit.fits.values()]
    if not isinstance(out_dir, str | os.PathLike) or not str(out_dir):
        raise TypeError(f"out_dir must be a folder path, got {out_dir!r}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"cannot write the report into {out}: it is a file, not a folder")
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise NotADirectoryError(
                    f"cannot write the report into {out}: {parent} is not a folder"
                )
            break
    from .io_atomic import check_folder, check_target

    check_folder(out, "the report folder")  # read-only: refused before anything is made
    for name in BUNDLE_FILES:  # an old bundle's read-only file is refused before, not during
        if (out / name).exists():
            check_target(out / name)
    if isinstance(compute, str | bytes) or any(
        isinstance(c, str | bytes) for c in np.atleast_1d(np.asarray(compute, dtype=object))
    ):
        raise ValueError(
            f"compute must be budgets in FLOPs as numbers (1e22, not '1e22'), got {compute!r}"
        )
    if np.ma.isMaskedArray(compute):
        _as_1d("compute", compute)  # masked entries are refused, not unmasked
    try:
        budgets = np.atleast_1d(np.asarray(compute, dtype=float))
    except (TypeError, ValueError):
        raise ValueError(
            f"compute must be budgets in FLOPs (numbers > 0), got {compute!r}"
        ) from None
    except OverflowError:  # a whole number beyond a float (10**400)
        check_values("compute", compute)  # the shared error, naming it shortened
        raise
    if budgets.ndim != 1 or budgets.size == 0:
        raise ValueError(f"compute must be one or more budgets in FLOPs, got {compute!r}")
    _as_1d("compute", budgets)
    check_values("compute", compute)  # dates and durations are not budgets
    check_ci_prob(ci_prob)
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be text, got {type(title).__name__} {title!r}")
    if isinstance(cards, str):
        cards = [cards]
    card_objs = _cards_for(_law_names(fit), cards)
    if fixed is not None and not isinstance(fixed, Mapping):
        raise TypeError(f"fixed= must be a mapping such as {{'U': 25e9}}, got {fixed!r}")
    fixed = dict(fixed or {})
    others = list(dict.fromkeys(k for law in laws for k in law.inputs if k not in ("N", "D")))
    positive = {k for law in laws for k in law.required_positive}
    unknown = sorted(set(fixed) - set(others))
    if unknown:
        names = " + ".join(_law_names(fit))
        raise ValueError(
            f"fixed= names {unknown}, which are not inputs of law {names!r} besides "
            f"N and D ({others})"
        )
    for k, v in fixed.items():
        try:
            _as_1d(f"fixed[{k!r}]", v, positive=k in positive)
        except (TypeError, ValueError) as err:
            if isinstance(err, ValueError) and str(err).startswith("fixed"):
                raise
            raise ValueError(f"fixed[{k!r}] must be a number, got {v!r}") from None
    return out, budgets, card_objs, fixed
