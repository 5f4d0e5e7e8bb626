"""Backtesting a stack: refit every member at each cutoff and stack again.

:func:`bayescale.backtest` takes, besides one law, a :class:`~bayescale.StackedFit` or several
laws. At each cutoff every member is fitted to the runs below it (one :func:`bayescale.fit_many`
batch over cutoffs × members; cutoff ``i`` with ``random_seed + i`` for every member, as a
backtest of that member alone would), the fits are stacked again — LOO stacking weights on the
training runs (``stack="stacking"``, the default for laws; ``"pseudo-BMA"``,
``"BB-pseudo-BMA"``) or fixed weights (a mapping, or the weights of a stack made with given
weights) — and the held-out runs are scored with the mixture's predictive draws. The weights are
learned without the held-out runs, so the backtest measures what stacking would have predicted.

Members are given as

- a :class:`~bayescale.StackedFit`: each member refitted with its own law, likelihood, priors,
  drift and groups, with its draws, tune and chains unless ``draws=``, ``tune=``, ``chains=``
  are given; the stack's own method (given weights stay as they are) unless ``stack=``;
- a list of laws (names or :class:`~bayescale.ScalingLaw`) or of ``(law, fit_kwargs)`` pairs,
  named as :func:`bayescale.stack` names a list (law key and likelihood);
- a mapping name → law or ``(law, fit_kwargs)``.

Options given to :func:`bayescale.backtest` (``draws=``, ``tune=``, ``priors=``...) apply to
every member, on top of each member's own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from .fit import Fit
from .law import ScalingLaw, get_law
from .stacking import _METHODS, StackedFit, stack

__all__ = ["fit_stack_cutoffs", "stack_members"]

Member = tuple[ScalingLaw, dict[str, Any]]


def _member(value: Any, where: str) -> Member:
    if isinstance(value, str | ScalingLaw):
        return get_law(value), {}
    if (
        isinstance(value, tuple)
        and len(value) == 2
        and isinstance(value[0], str | ScalingLaw)
        and isinstance(value[1], Mapping)
    ):
        return get_law(value[0]), dict(value[1])
    raise TypeError(
        f"{where} must be a law (a name or a ScalingLaw) or a (law, fit_kwargs) pair, got "
        f"{type(value).__name__}"
    )


def stack_members(law: Any, stack_arg: Any) -> tuple[dict[str, Member], Any] | None:
    """The members ``name → (law, fit kwargs)`` and the weighting rule (a method name or a
    weights mapping) of a stacked backtest; None when ``law`` is one law.

    Examples
    --------
    >>> members, rule = stack_members(["chinchilla", ("chinchilla", {"likelihood": "normal"})],
    ...                               None)
    >>> list(members), rule
    (['chinchilla@1:studentt', 'chinchilla@1:normal'], 'stacking')
    """
    if isinstance(law, str | ScalingLaw):
        if stack_arg is not None:
            raise ValueError("stack= needs several members: a StackedFit or a list of laws")
        return None
    if isinstance(law, StackedFit):
        from .next_runs import _refit_kwargs

        members = {n: (f.law, _refit_kwargs(f, None)) for n, f in law.fits.items()}
        default = dict(law.weights) if law.method == "given" else law.method
    elif isinstance(law, Fit):
        raise TypeError(
            "backtest refits at every cutoff: give a law, a StackedFit or a list of laws, not a "
            "Fit (its law: fit.law)"
        )
    elif isinstance(law, Mapping):
        members = {}
        for name, value in law.items():
            if not isinstance(name, str) or not name:
                raise TypeError(f"backtest member names must be non-empty strings, got {name!r}")
            members[name] = _member(value, f"law[{name!r}]")
        default = "stacking"
    elif isinstance(law, Sequence):
        members = {}
        for i, value in enumerate(law):
            m_law, kw = _member(value, f"law[{i}]")
            lik = kw.get("likelihood") or m_law.default_likelihood
            base = f"{m_law.key}:{getattr(lik, 'name', lik)}"
            name, k = base, 2
            while name in members:
                name, k = f"{base}_{k}", k + 1
            members[name] = (m_law, kw)
        default = "stacking"
    else:
        raise TypeError(
            "law must be a registered law's name (e.g. 'chinchilla'), a ScalingLaw, a StackedFit "
            f"or a list/mapping of laws, got {type(law).__name__}"
        )
    if not members:
        raise ValueError("backtest of a stack needs at least one member")
    (first, (law0, _)), *rest = members.items()
    for name, (law_k, _) in rest:
        if (law_k.inputs, law_k.output) != (law0.inputs, law0.output):
            raise ValueError(
                f"backtest of a stack: member {name!r} ({law_k.key}) has inputs "
                f"{list(law_k.inputs)} and output {law_k.output!r}, member {first!r} "
                f"({law0.key}) {list(law0.inputs)} and {law0.output!r}: the held-out runs are "
                "scored with one set of inputs"
            )
    rule = default if stack_arg is None else stack_arg
    if isinstance(rule, str):
        if rule not in _METHODS:
            raise ValueError(f"stack must be one of {list(_METHODS)} or a mapping of weights")
        if len(members) < 2:
            raise ValueError(
                f"stack={rule!r} computes weights from several members; one member needs "
                "stack={name: 1.0}"
            )
    elif not isinstance(rule, Mapping):
        raise TypeError(f"stack must be a method name or a mapping of weights, got {rule!r}")
    return members, rule


def fit_stack_cutoffs(
    members: Mapping[str, Member],
    rule: Any,
    column: str,
    splits: list[tuple],
    random_seed: int,
    client: Any,
    fit_kwargs: Mapping[str, Any],
) -> list[StackedFit]:
    """The stack of each cutoff: every member fitted to the cutoff's training runs (one batch,
    cutoff ``i`` with ``random_seed + i``) and stacked by ``rule``."""
    from .batch import FitJob, fit_many

    kwargs = dict(fit_kwargs)
    progressbar = bool(kwargs.pop("progressbar", False))
    processes = kwargs.pop("processes", None)
    jobs, keys = [], []
    for i, (cutoff, _, train, _, _) in enumerate(splits):
        for name, (law, own) in members.items():
            job_kwargs = {**own, **kwargs, "random_seed": (random_seed + i) % 2**64}
            jobs.append(FitJob(law, train, job_kwargs, f"{name}: {column} < {cutoff:g}"))
            keys.append((i, name))
    batch = fit_many(jobs, client=client, processes=processes, progressbar=progressbar)
    fitted: dict[int, dict[str, Fit]] = {}
    for (i, name), result in zip(keys, batch, strict=True):
        cutoff, _, train, _, _ = splits[i]
        if result.error is not None:
            raise ValueError(
                f"fitting stack member {name!r} to the {len(train)} runs with {column} < "
                f"{cutoff:g} failed: {result.error}"
            ) from result.error
        fitted.setdefault(i, {})[name] = result.fit
    out = []
    for i in range(len(splits)):
        fits = fitted[i]
        if isinstance(rule, str):
            out.append(stack(fits, method=rule, warn=False))
        else:
            out.append(stack(fits, weights=pd.Series(dict(rule), dtype=float)))
    return out
