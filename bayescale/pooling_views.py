"""Views of a pooled fit for analysis: one group's (or a new group's) draws as a plain fit.

Split from :mod:`bayescale.pooling` (which re-exports every name here): :data:`NEW_GROUP`,
:func:`match_label` (a fit's label given as text or number), :func:`group_view` (a
:class:`~bayescale.Fit` of one group's draws), :func:`groupable` and :func:`per_group` (an analysis
function answering per group), and :func:`natural_dataset` (per-group natural parameters).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from ._api import check_seed
from .xp import numpy_ns

if TYPE_CHECKING:
    from .pooling import Pooling

__all__ = [
    "GROUP_DIM",
    "NEW_GROUP",
    "group_view",
    "groupable",
    "match_label",
    "natural_dataset",
    "per_group",
]


#: The label that asks an analysis function for a new group of the population.
NEW_GROUP = "<new group>"
#: The posterior dimension of per-group values.
GROUP_DIM = "group"
#: Spawn key of the new-group draws' random stream (apart from a function's own noise stream).
_NEW_GROUP_STREAM = 0x6E6577


# ---------------------------------------------------------------------- posterior
def natural_dataset(
    law: Any,
    p: Mapping[str, np.ndarray],
    reference: Mapping[str, float],
    coords: Mapping[str, Any],
) -> dict[str, tuple[tuple[str, ...], np.ndarray]]:
    """Natural and derived parameters from sampled ``p`` (``(chain, draw[, group])``), as
    ``name -> (dims, values)``; a value that does not vary by group stays ``(chain, draw)``."""
    has_group = any(np.ndim(v) == 3 for v in p.values())
    pp = {k: (v[..., None] if has_group and np.ndim(v) == 2 else v) for k, v in p.items()}
    q = law.natural(numpy_ns, pp, reference)
    extra = law.derived(numpy_ns, q)
    shape2 = next(iter(p.values())).shape[:2]
    out = {}
    for name, value in {**q, **extra}.items():
        value = np.asarray(value, dtype=float)
        if has_group and value.ndim == 3 and value.shape[-1] == 1:
            value = value[..., 0]
        if has_group and value.ndim == 3:
            value = np.broadcast_to(value, (*shape2, len(coords[GROUP_DIM])))
            out[name] = (("chain", "draw", GROUP_DIM), value)
        else:
            out[name] = (("chain", "draw"), np.broadcast_to(value, shape2))
    return out


# ---------------------------------------------------------------------- views for analysis
def _as_float(x: Any) -> float | None:
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def match_label(pooling: Pooling, group: Any) -> Any:
    """The fit's own label for ``group``: itself, the label with its text (``3`` for ``"3"``
    and back) or its number (``1`` for ``"1.0"``); :data:`NEW_GROUP` as it is. An unknown
    label is a ``ValueError`` listing the fit's labels."""
    labels = list(pooling.labels)
    if isinstance(group, str) and group == NEW_GROUP:
        return group
    if not (isinstance(group, str) or np.ndim(group) == 0) or isinstance(group, Mapping):
        raise ValueError(f"group={group!r}: give a label, a list of labels or bs.NEW_GROUP")
    for label in labels:
        if type(label) is type(group) and label == group:
            return label
    text = [x for x in labels if str(x) == str(group)]
    if len(text) == 1:
        return text[0]
    value = _as_float(group)
    same = [x for x in labels if value is not None and _as_float(x) == value]
    if len(same) == 1:
        return same[0]
    raise ValueError(
        f"group={group!r} is not a group of this fit ({labels}); "
        f"use group=bs.NEW_GROUP for a new group of the population"
    )


def _group_seed(fit: Any, random_seed: int | None) -> np.random.Generator:
    seed = check_seed(random_seed) if random_seed is not None else (fit.random_seed or 0)
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(_NEW_GROUP_STREAM,)))


def group_view(fit: Any, group: Any, *, random_seed: int | None = None) -> Any:
    """A :class:`~bayescale.Fit` whose parameters are one group's (a seen label) or a new
    group's (:data:`NEW_GROUP`): scalar draws over ``(chain, draw)`` that every analysis
    function of a fit without groups accepts.

    Examples
    --------
    >>> import bayescale as bs
    >>> runs = bs.testing.simulate_chinchilla(40, random_seed=0)
    >>> runs["corpus"] = ["a", "b"] * 20
    >>> fit = bs.fit("chinchilla", runs, group="corpus", draws=100, tune=100, chains=2,
    ...              progressbar=False, warn=False)
    >>> group_view(fit, "a").params()["alpha"].dims
    ('chain', 'draw')
    >>> group_view(fit, NEW_GROUP, random_seed=0).params()["alpha"].dims
    ('chain', 'draw')
    """
    from .fit import Fit

    if hasattr(fit, "fits") and hasattr(fit, "weights"):  # a StackedFit: its members' views
        from .stacking_groups import stack_group_view

        return stack_group_view(fit, group, random_seed=random_seed)
    pooling: Pooling = fit.pooling
    post = fit.posterior
    pool_vars = [v for v in pooling.population_names() if v in post]
    pool_vars += [f"{n}_z" for n in pooling.names("partial") if f"{n}_z" in post]
    if isinstance(group, str) and group == NEW_GROUP:
        rng = _group_seed(fit, random_seed)
        draws = {n: post[n].transpose("chain", "draw", ...).to_numpy() for n in post.data_vars}
        p = pooling.new_group_values(draws, fit.priors, fit.law.parameter_names, rng)
        ds = post.drop_vars(
            [v for v in post.data_vars if GROUP_DIM in post[v].dims or v in pool_vars]
        )
        ds = ds.drop_dims([GROUP_DIM], errors="ignore")
        for n in fit.law.parameter_names:
            ds[n] = (("chain", "draw"), p[n])
        for name, (dims, value) in natural_dataset(fit.law, p, fit.reference, {}).items():
            if name not in fit.law.parameter_names:
                ds[name] = (dims, np.array(value))
        data = fit.data
    else:
        group = match_label(pooling, group)
        ds = post.sel({GROUP_DIM: group}, drop=True).drop_vars(pool_vars)
        data = fit.data[fit.data[pooling.column].astype(str) == str(group)]
    tree = {"posterior": ds}
    stats = fit.sample_stats  # not fit.idata: a view needs no pointwise log-likelihood
    if stats is not None:
        tree["sample_stats"] = stats
    idata = xr.DataTree.from_dict(tree)
    idata.attrs.update(fit._idata.attrs)
    priors = {
        k: v for k, v in fit.priors.items() if not k.endswith("_tau") or k[:-4] not in pooling.modes
    }
    return Fit(
        fit.law,
        fit.likelihood,
        priors,
        data,
        fit.reference,
        idata,
        sampler=fit.sampler,
        random_seed=fit.random_seed,
        structure=fit.structure,
    )


def _combine(parts: list[Any], labels: list[Any]) -> Any:
    index = pd.Index(labels, name=GROUP_DIM)
    first = parts[0]
    if isinstance(first, xr.DataArray | xr.Dataset):
        return xr.concat(parts, dim=index, combine_attrs="override")
    if isinstance(first, pd.DataFrame | pd.Series):
        return pd.concat(parts, keys=labels, names=[GROUP_DIM])
    from .grouped import GroupedResult  # a result object per group (CardComparison, Plan, ...)

    return GroupedResult(dict(zip(labels, parts, strict=True)))


def groupable(func: Callable[..., Any]) -> Callable[..., Any]:
    """Let an analysis function of a :class:`~bayescale.Fit` (its first argument) answer for the
    groups of a pooled fit: every group along a ``group`` dimension (default), one group
    (``group="label"``) or a new group of the population (``group=NEW_GROUP``). Adds the
    keyword ``group`` to the signature; a fit without groups refuses ``group=``. A new group's
    draws are seeded by ``random_seed`` (accepted for a pooled fit even by a function without
    one), else by the fit's own seed."""
    sig = inspect.signature(func)
    has_seed = "random_seed" in sig.parameters

    @functools.wraps(func)
    def wrapper(*args: Any, group: Any = None, **kwargs: Any) -> Any:
        target = args[0] if args else kwargs.get("fit")
        if fit_pooling(target, group) is None:
            return func(*args, **kwargs)
        return per_group(func, target, args, kwargs, group, has_seed=has_seed)

    with_group_keyword(wrapper, sig)
    wrapper.__groupable__ = True
    return wrapper


def fit_pooling(target: Any, group: Any) -> Any:
    """The pooling of a function's first argument, or None; ``group=`` given for a fit without
    groups is refused."""
    pooling = getattr(target, "pooling", None)
    if pooling is None and group is not None and hasattr(target, "posterior"):
        raise ValueError(
            f"group={group!r}: this fit has no groups (fit with bs.fit(..., group=...))"
        )
    return pooling


def with_group_keyword(wrapper: Any, sig: inspect.Signature) -> None:
    """Give ``wrapper`` the signature ``sig`` with a keyword-only ``group=None`` added (before
    any ``**kwargs``)."""
    params = list(sig.parameters.values())
    extra = inspect.Parameter("group", inspect.Parameter.KEYWORD_ONLY, default=None)
    where = next(
        (i for i, p in enumerate(params) if p.kind is inspect.Parameter.VAR_KEYWORD), len(params)
    )
    wrapper.__signature__ = sig.replace(parameters=[*params[:where], extra, *params[where:]])


def per_group(
    func: Callable[..., Any],
    target: Any,
    args: tuple,
    kwargs: dict[str, Any],
    group: Any,
    *,
    has_seed: bool,
    first: str = "fit",
) -> Any:
    """``func`` on the view of each group asked for (see :func:`groupable`) of ``target``, a
    pooled fit or stack (``args[0]``, else ``kwargs[first]``), combined on a ``group``
    dimension (one label: its answer alone)."""
    pooling = target.pooling
    kwargs = dict(kwargs)
    single = group is not None and (isinstance(group, str) or np.ndim(group) == 0)
    if group is None:
        labels = list(pooling.labels)
    elif single:
        labels = [match_label(pooling, group)]
    else:
        labels = list(group) if isinstance(group, list | tuple | np.ndarray | pd.Index) else []
        if not labels:
            raise ValueError(f"group={group!r}: give a label, a list of labels or bs.NEW_GROUP")
        labels = [match_label(pooling, g) for g in labels]
    # a function without a seed of its own (compute_optimal) still takes random_seed for
    # a new group's draws; for a fit without groups it stays the function's error
    seed = kwargs.get("random_seed") if has_seed else kwargs.pop("random_seed", None)
    parts = []
    for label in labels:
        view = group_view(target, label, random_seed=seed)
        if args:
            parts.append(func(view, *args[1:], **kwargs))
        else:
            parts.append(func(**{**kwargs, first: view}))
    return parts[0] if single else _combine(parts, labels)
