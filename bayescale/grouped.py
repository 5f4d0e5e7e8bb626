"""Answers per group for the functions :func:`~bayescale.pooling.groupable` cannot wrap alone.

:func:`~bayescale.pooling.groupable` answers for the groups of one pooled fit. This module
holds what the rest of the analysis layer needs on top of it:

* :class:`GroupedResult`: the per-group answer of a function that returns an object (a
  :class:`~bayescale.CardComparison`, a :class:`~bayescale.Tradeoff`, a
  :class:`~bayescale.Plan`, ...): a mapping label → result whose ``summary()`` stacks the
  groups' tables on a ``group`` index level;
* :func:`each_group`: the same question asked of every group (or one, or a new group) of one
  or several pooled fits — :func:`~bayescale.chain` takes a loss fit and a downstream fit,
  either of which may be pooled; groups of two pooled fits are matched by label;
* :func:`view_seed`: the seed of a second fit's new-group draws, apart from the first's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .pooling import GROUP_DIM, _combine, group_view, match_label
from .pooling_views import fit_pooling, with_group_keyword

__all__ = ["GroupedResult", "each_group", "group_labels", "view_seed"]


class GroupedResult(Mapping):
    """Results of one analysis per group of a pooled fit: a read-only mapping label → result
    (in the fit's group order), with ``summary()`` stacking each result's table on a
    ``group`` index level.

    Examples
    --------
    >>> import bayescale as bs
    >>> fit = bs.testing.pinned_pooled_fit(random_seed=0)
    >>> res = bs.compare_to_card(fit, "besiroglu2024")
    >>> list(res), list(res.summary().index.names)
    (['a', 'b', 'c'], ['group', 'parameter'])
    """

    def __init__(self, parts: Mapping[Any, Any]) -> None:
        self._parts = dict(parts)

    def __getitem__(self, label: Any) -> Any:
        if label in self._parts:
            return self._parts[label]
        same = [k for k in self._parts if str(k) == str(label)]  # 3 for the label "3"
        if len(same) == 1:
            return self._parts[same[0]]
        try:
            return self._parts[label]
        except KeyError:
            raise KeyError(
                f"{label!r} is not a group of this result ({list(self._parts)})"
            ) from None

    def __iter__(self) -> Iterator[Any]:
        return iter(self._parts)

    def __len__(self) -> int:
        return len(self._parts)

    def summary(self) -> pd.DataFrame:
        """Every group's ``summary()`` on a ``group`` index level (first)."""
        tables = [part.summary() for part in self._parts.values()]
        return pd.concat(tables, keys=list(self._parts), names=[GROUP_DIM])

    def to_markdown(self) -> str:
        """Every group's ``to_markdown()`` (a :class:`~bayescale.Plan`'s page; for a result
        without one, its ``summary()`` as a Markdown table), one after the other, each under a
        "Group" heading."""
        from .export import to_markdown

        def page(part: Any) -> str:
            if hasattr(part, "to_markdown"):
                return part.to_markdown()
            return to_markdown(part.summary())

        return "\n\n".join(
            f"# Group {label}\n\n{page(part)}" for label, part in self._parts.items()
        )

    def __getattr__(self, name: str) -> Any:
        # a method of the per-group results (plot, draws, ...): say how to reach it
        parts = self.__dict__.get("_parts", {})
        if not name.startswith("_") and parts and hasattr(next(iter(parts.values())), name):
            first = next(iter(parts))
            raise AttributeError(
                f"GroupedResult holds one result per group ({list(parts)}); {name!r} is an "
                f"attribute of each: result[{first!r}].{name}"
            )
        raise AttributeError(f"'GroupedResult' object has no attribute {name!r}")

    def __str__(self) -> str:
        return "\n\n".join(f"group {label}:\n{part}" for label, part in self._parts.items())

    def __repr__(self) -> str:
        kinds = {type(p).__name__ for p in self._parts.values()}
        return f"<GroupedResult of {'/'.join(sorted(kinds))} for groups {list(self._parts)}>"

    def _repr_html_(self) -> str:
        from ._api import result_html

        return result_html(repr(self), self.summary())


def group_labels(*fits: Any, group: Any = None) -> tuple[list[Any], bool]:
    """The labels to answer for and whether one was asked (a scalar ``group``).

    Without ``group``: every group of the pooled fits (labels in both when two are pooled;
    none in common is an error). A label must be a group of every pooled fit, or
    :data:`~bayescale.NEW_GROUP`.
    """
    pooled = [f for f in fits if getattr(f, "pooling", None) is not None]
    if not pooled:
        raise ValueError("no fit has groups")
    single = group is not None and (isinstance(group, str) or np.ndim(group) == 0)
    if group is None:
        labels = list(pooled[0].pooling.labels)
        for f in pooled[1:]:
            others = {str(x) for x in f.pooling.labels}
            labels = [x for x in labels if str(x) in others]
        if not labels:
            raise ValueError(
                "the pooled fits share no group label "
                f"({[list(f.pooling.labels) for f in pooled]}); name one with group="
            )
    elif single:
        labels = [group]
    elif isinstance(group, list | tuple | np.ndarray | pd.Index) and len(group):
        labels = list(group)
    else:
        raise ValueError(f"group={group!r}: give a label, a list of labels or bs.NEW_GROUP")
    for label in labels:
        for f in pooled:
            try:
                match_label(f.pooling, label)
            except ValueError:
                raise ValueError(
                    f"group={label!r} is not a group of the {f.law.name!r} fit "
                    f"({list(f.pooling.labels)}); use group=bs.NEW_GROUP for a new group"
                ) from None
    return labels, single


def view_seed(random_seed: int | None, index: int) -> int | None:
    """The new-group seed of the ``index``-th pooled fit of a call: ``random_seed`` itself for
    the first, an independent child of it for the others (None stays None: each fit's own
    seed)."""
    if random_seed is None or index == 0:
        return random_seed
    ss = np.random.SeedSequence(int(random_seed), spawn_key=(index,))
    return int(ss.generate_state(1, dtype=np.uint64)[0])


def each_group(
    func: Callable[..., Any],
    fits: Sequence[Any],
    *,
    group: Any = None,
    random_seed: int | None = None,
) -> Any:
    """``func(*views)`` for each group label, ``views`` the fits with a pooled one replaced by
    its :func:`~bayescale.pooling.group_view` of that label (a fit without groups is passed
    as it is); the answers combined on a ``group`` dimension as
    :func:`~bayescale.pooling.groupable` combines them (one label: its answer alone). The
    ``i``-th pooled fit's new group is seeded by :func:`view_seed`\\ ``(random_seed, i)``.

    Examples
    --------
    >>> import bayescale as bs
    >>> fit = bs.testing.pinned_pooled_fit(random_seed=0)
    >>> out = each_group(lambda f: bs.predict_loss(f, N=1e9, D=2e10), [fit])
    >>> out.dims
    ('group', 'chain', 'draw')
    """
    labels, single = group_labels(*fits, group=group)
    pooled_index = {}
    for i, f in enumerate(fits):
        if getattr(f, "pooling", None) is not None:
            pooled_index[i] = len(pooled_index)
    parts = []
    for label in labels:
        views = [
            group_view(f, label, random_seed=view_seed(random_seed, pooled_index[i]))
            if i in pooled_index
            else f
            for i, f in enumerate(fits)
        ]
        parts.append(func(*views))
    return parts[0] if single else combine(parts, labels)


def combine(parts: list[Any], labels: list[Any]) -> Any:
    """Per-group answers on a ``group`` dimension (xarray), index level (pandas), else a
    :class:`GroupedResult`."""
    return _combine(parts, labels)


def one_group(func: Callable[..., Any]) -> Callable[..., Any]:
    """For a figure of one set of parameters (:func:`~bayescale.plots.plot_fit`,
    ``plot_frontier``, ...): on a pooled fit ``group=`` names the group drawn (a label, or
    :data:`~bayescale.NEW_GROUP` with ``random_seed=`` for its draws), which is the figure of
    that group's :func:`~bayescale.pooling.group_view` (a fitted group's own runs; every run for
    a new group). A pooled fit without ``group=`` is refused with the way out: one group, or
    :func:`~bayescale.plot_groups` for all of them. A fit without groups refuses ``group=``."""
    import functools
    import inspect

    sig = inspect.signature(func)
    has_seed = "random_seed" in sig.parameters

    @functools.wraps(func)
    def wrapper(*args: Any, group: Any = None, **kwargs: Any) -> Any:
        target = args[0] if args else kwargs.get("fit")
        pooling = fit_pooling(target, group)
        if pooling is None:
            return func(*args, **kwargs)
        if group is None or not (isinstance(group, str) or np.ndim(group) == 0):
            raise ValueError(
                f"{func.__name__} draws one set of parameters, and this fit has "
                f"{pooling.grouping.size} groups of {pooling.column!r}: pass group='label' "
                "(or group=bs.NEW_GROUP for a new group), or draw every group with "
                "bs.plot_groups(fit)"
            )
        group_labels(target, group=group)
        seed = kwargs.get("random_seed") if has_seed else kwargs.pop("random_seed", None)
        view = group_view(target, group, random_seed=seed)
        if args:
            return func(view, *args[1:], **kwargs)
        return func(**{**kwargs, "fit": view})

    with_group_keyword(wrapper, sig)
    return wrapper
