"""The command line's pooled fits: ``--group``/``--pool`` of ``bayescale fit`` and the group a
command reading a saved pooled fit answers for.

``bayescale fit LAW runs.csv --group experiment --pool alpha=shared,beta=partial_centred``
fits one hierarchical model over the groups of a column (:mod:`bayescale.pooling`); ``--pool
MODE`` gives every parameter one mode. Commands reading a saved pooled fit answer per group:
``--group LABEL`` for a fitted group, ``--group new`` for a new group of the population (a
fitted group labelled ``new`` wins; ``--group '<new group>'`` always means a new one); without
``--group`` the tables hold every group (a ``group`` column), ``report`` and ``plan`` cover every
group, ``plot fit`` draws every group in one figure, and the other figures, which draw one set
of parameters, ask for a group.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "NEW_WORD",
    "check_group_option",
    "display_by_group",
    "group_label",
    "group_title",
    "one_group",
    "parse_pool",
    "pooled_predict_table",
    "predict_table",
    "select_group",
]

#: What ``--group`` takes for a new group of the population.
NEW_WORD = "new"


def _modes() -> tuple[str, ...]:
    from .pooling import PARTIAL_FORMS, POOL_MODES  # not at import: the CLI starts fast

    return (*POOL_MODES, *PARTIAL_FORMS)


class GroupUsageError(ValueError):
    """A ``--group``/``--pool`` the command cannot use; the CLI reports it as one line."""


def parse_pool(text: str | None, group: str | None) -> str | dict[str, str] | None:
    """``--pool``: one mode for every parameter, or ``NAME=MODE`` pairs separated by commas.
    The names are checked against the law by :func:`bayescale.fit` (which names any unknown
    parameter); modes are checked here.

    Examples
    --------
    >>> parse_pool("partial_centred", "experiment")
    'partial_centred'
    >>> parse_pool("alpha=shared, beta=partial", "experiment")
    {'alpha': 'shared', 'beta': 'partial'}
    >>> parse_pool("alpha=pooled", "experiment")
    Traceback (most recent call last):
    ...
    bayescale.cli_groups.GroupUsageError: --pool: unknown mode 'pooled' for 'alpha'; choose from shared, partial, independent, partial_centred, partial_centered, partial_noncentred, partial_noncentered, partial_auto
    """  # noqa: E501
    if text is None:
        return None
    if group is None:
        raise GroupUsageError(
            "--pool needs --group COLUMN, the column whose groups the law's parameters vary by"
        )
    text = text.strip()
    modes = _modes()
    if "=" not in text:
        if text not in modes:
            raise GroupUsageError(
                f"--pool: unknown mode {text!r}; give one of {', '.join(modes)} or "
                "NAME=MODE pairs such as alpha=shared,beta=partial"
            )
        return text
    pool: dict[str, str] = {}
    for item in text.split(","):
        name, sep, mode = (part.strip() for part in item.partition("="))
        if not sep or not name or not mode:
            raise GroupUsageError(
                f"--pool: cannot read {item.strip()!r}; expected NAME=MODE pairs such as "
                "alpha=shared,beta=partial"
            )
        if name in pool:
            raise GroupUsageError(f"--pool: {name!r} is given twice; give each parameter once")
        if mode not in modes:
            raise GroupUsageError(
                f"--pool: unknown mode {mode!r} for {name!r}; choose from {', '.join(modes)}"
            )
        pool[name] = mode
    return pool


def _labels(fit: Any) -> list[str]:
    return [str(v) for v in fit.pooling.labels]


def check_group_option(fit: Any, group: str | None) -> None:
    """Refuse ``--group`` for a fit without groups (a stack included)."""
    if group is not None and getattr(fit, "pooling", None) is None:
        raise GroupUsageError(
            f"--group {group}: this fit has no groups (fit with bayescale fit ... --group COLUMN)"
        )


def select_group(fit: Any, group: str | None, *, random_seed: int | None = None) -> Any:
    """The fit a command answers with: ``fit`` itself without ``--group``; for a pooled fit
    the view of one fitted group (``--group LABEL``) or of a new group (``--group new``;
    draws seeded by ``random_seed``, else the fit's seed) — see
    :func:`bayescale.pooling.group_view`.

    Examples
    --------
    >>> import bayescale as bs
    >>> runs = bs.testing.simulate_chinchilla(40, random_seed=0)
    >>> runs["corpus"] = ["a", "b"] * 20
    >>> fit = bs.fit("chinchilla", runs, group="corpus", draws=30, tune=30, chains=1,
    ...              random_seed=0, progressbar=False, warn=False)
    >>> select_group(fit, "b").pooling is None, len(select_group(fit, "b").data)
    (True, 20)
    >>> select_group(fit, "c")
    Traceback (most recent call last):
    ...
    bayescale.cli_groups.GroupUsageError: --group c: not a group of this fit (a, b); --group new answers for a new group
    """  # noqa: E501
    from .pooling import NEW_GROUP, group_view

    label = group_label(fit, group)
    if label is None:
        return fit
    return group_view(fit, label, random_seed=random_seed if label == NEW_GROUP else None)


def group_label(fit: Any, group: str | None) -> Any:
    """The group ``--group`` names, as the API takes it (``group=``): a fitted group's label,
    :data:`~bayescale.NEW_GROUP` for ``new``, None without ``--group``; an unknown label, or
    ``--group`` on a fit without groups, is a one-line error."""
    from .pooling import NEW_GROUP

    check_group_option(fit, group)
    if group is None:
        return None
    labels = _labels(fit)
    if group in labels:
        return fit.pooling.labels[labels.index(group)]
    if group in (NEW_WORD, NEW_GROUP):
        return NEW_GROUP
    shown = group if group and group.strip() == group else repr(group)  # '' or ' a' visible
    raise GroupUsageError(
        f"--group {shown}: not a group of this fit ({', '.join(labels)}); --group "
        f"{NEW_WORD} answers for a new group"
    )


def group_title(fit: Any, group: str) -> str:
    """Words for the group ``--group`` picked (a report's title).

    Examples
    --------
    >>> import types
    >>> fit = types.SimpleNamespace(pooling=types.SimpleNamespace(labels=("a", "b"),
    ...                                                           column="corpus"))
    >>> group_title(fit, "a"), group_title(fit, "new")
    ("group 'a' of 'corpus'", "a new group of 'corpus'")
    """
    if group in _labels(fit):
        return f"group {group!r} of {fit.pooling.column!r}"
    return f"a new group of {fit.pooling.column!r}"


def one_group(fit: Any, group: str | None, command: str, *, random_seed: int | None = None) -> Any:
    """:func:`select_group` for a command that describes one law (the figures other than
    ``plot fit``): a pooled fit without ``--group`` is refused, naming its groups."""
    if group is None and getattr(fit, "pooling", None) is not None:
        raise GroupUsageError(
            f"{command} describes one group of this pooled fit: give --group LABEL "
            f"({', '.join(_labels(fit))}) or --group {NEW_WORD} for a new group"
            + ("; 'plot fit' draws every group" if command == "plot" else "")
        )
    return select_group(fit, group, random_seed=random_seed)


def display_by_group(table: pd.DataFrame, display: Any, **options: Any) -> pd.DataFrame:
    """``display(table, **options)`` (a table of one fit for people, e.g.
    :func:`bayescale.report.optimal_display`) of each group of a table indexed by ``group``
    first, as rows with a ``group`` column; a table without groups goes through as it is.

    Examples
    --------
    >>> t = pd.DataFrame({"x": [1.0, 2.0]}, index=pd.MultiIndex.from_tuples(
    ...     [("a", 1e22), ("b", 1e22)], names=["group", "compute"]))
    >>> display_by_group(t, lambda part: part.assign(y=part["x"] * 2)).to_numpy().tolist()
    [['a', 1.0, 2.0], ['b', 2.0, 4.0]]
    """
    if table.index.nlevels < 2 or table.index.names[0] != "group":
        return display(table, **options)
    parts = []
    for label, part in table.groupby(level="group", sort=False):
        one = display(part.droplevel("group"), **options)
        one.insert(0, "group", label)
        parts.append(one)
    return pd.concat(parts)


def pooled_predict_table(
    fit: Any,
    points: pd.DataFrame,
    *,
    kind: str,
    ci_prob: float,
    random_seed: int,
) -> pd.DataFrame:
    """``bayescale predict`` on a pooled fit without ``--group``: every point in every fitted
    group (rows ``group`` × ``point``), the median and central ``ci_prob`` interval of the
    output. Points are the law's inputs (columns of ``points``).

    Examples
    --------
    >>> import bayescale as bs
    >>> runs = bs.testing.simulate_chinchilla(40, random_seed=0)
    >>> runs["corpus"] = ["a", "b"] * 20
    >>> fit = bs.fit("chinchilla", runs, group="corpus", draws=30, tune=30, chains=1,
    ...              random_seed=0, progressbar=False, warn=False)
    >>> t = pooled_predict_table(fit, pd.DataFrame({"N": [1e9], "D": [2e10]}), kind="mean",
    ...                          ci_prob=0.9, random_seed=0)
    >>> list(t.columns)
    ['group', 'N', 'D', 'loss_median', 'loss_lo90', 'loss_hi90']
    """
    parts = []
    for label in _labels(fit):
        view = select_group(fit, label)
        one = predict_table(view, points, kind=kind, ci_prob=ci_prob, random_seed=random_seed)
        parts.append(one.assign(group=label))
    table = pd.concat(parts)
    table = table[["group", *[c for c in table.columns if c != "group"]]]
    table.attrs["kind"] = kind
    return table


def predict_table(
    fit: Any, points: pd.DataFrame, *, kind: str, ci_prob: float, random_seed: int
) -> pd.DataFrame:
    """The points with the median and central ``ci_prob`` interval of the law's output at each
    (``<output>_median``, ``_loXX``, ``_hiXX``), index ``point`` — ``bayescale predict``'s
    table for a fit (or a stack, or one group's view) without groups."""
    from .analysis import predict_loss
    from .stacking import template_fit

    law = template_fit(fit, "predict").law
    values = {k: points[k].to_numpy(dtype=float) for k in law.inputs}
    draws = predict_loss(fit, kind=kind, random_seed=random_seed, **values)
    arr = np.asarray(draws.to_numpy(), dtype=float).reshape(-1, len(points))
    pct = f"{100 * ci_prob:g}"
    lo, mid, hi = np.nanquantile(arr, [(1 - ci_prob) / 2, 0.5, (1 + ci_prob) / 2], axis=0)
    out = law.output
    table = points.reset_index(drop=True).copy()
    table[f"{out}_median"] = mid
    table[f"{out}_lo{pct}"] = lo
    table[f"{out}_hi{pct}"] = hi
    table.index.name = "point"
    table.attrs["kind"] = kind
    return table
