"""Model averaging: LOO stacking of fits to the same runs (Yao et al. 2018).

:func:`stack` weighs several fits — different laws, likelihoods or priors fitted to the same
runs — by stacking their leave-one-out predictive distributions (``arviz_stats.compare`` with
``method="stacking"``, through :func:`bayescale.compare`), or by weights you give, and returns a
:class:`StackedFit`. Every analysis and decision function that takes a :class:`~bayescale.Fit`
accepts a :class:`StackedFit` too, through one mechanism, :func:`stackable`: the function is
evaluated on each member and the draws are mixed. Member ``k`` contributes ``round(w_k · S)``
draws (largest-remainder rounding, so the counts add up to ``S``, the chain × draw count of the
first member), taken evenly spaced over its flattened chain × draw; the parts are concatenated
along ``draw`` with one chain, so the result has the variables and dimensions it has for a single
fit. Functions with a ``random_seed`` give member ``k`` the seed
``SeedSequence(random_seed, spawn_key=(k,))`` (independent streams; same seed, same draws).

The same mixing serves everything else that takes a fit, in three ways:

- *functions of draws* (``predict_loss``, ``compute_optimal``, the decision functions,
  ``chain``, ``misallocation_cost``, and the private draw-level steps of
  ``posterior_predictive_check``, ``next_runs``, ``backtest`` and ``plot_residuals``:
  ``validation._predictive_draws``, ``next_runs._loglik_draws``, ``analysis.noise_draws``) are
  :func:`stackable`: each member answers with its own law, likelihood and seed;
- *functions of the parameters* (``compare_to_card``, ``tradeoff``, ``plot_params``) read
  :attr:`StackedFit.law`, :meth:`StackedFit.params` and :attr:`StackedFit.posterior`: the
  mixture's draws of one law's parameters (members of different laws raise a ``ValueError``:
  a mixture of laws has no one set of parameters);
- what reads a fit's runs, inputs and output (figures, ``posterior_predictive_check``,
  ``next_runs``, the CLI's ``predict``) takes :func:`template_fit`, the first member when all
  members agree on them.

Because every result selects the same draws of each member, results of different functions on
one stack line up draw by draw: ``next_runs`` on a stack reweights the mixed draws by the
outcome's likelihood under each draw's own member, which updates the members' draws and their
weights together (member ``k``'s weight becomes ∝ ``w_k · p_k(y)``, its predictive density of
the outcome — the Bayesian update of a mixture; stacking weights are not re-optimised).
``backtest`` takes a stack or several laws and refits every member at each cutoff, then stacks
again (:mod:`bayescale.stacking_backtest`). A stack of pooled fits (one group column) answers per
group like a pooled fit: each group the mixture of the members' answers for that group, an
unpooled member's one answer standing for every group (:mod:`bayescale.stacking_groups`).
Saved stacks are folders (:meth:`StackedFit.save`);
the CLI reads them wherever it reads a fit, and ``bayescale stack`` makes one from fit files.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._stacking_common import (  # noqa: F401  (re-exported)
    _FORMAT,
    _METHODS,
    _SUMMARY_COLUMNS,
    STACK_FILE,
    _check_alike,
    _params_dataset,
    _posterior_of,
    _take,
    draw_counts,
    draw_indices,
    member_seed,
)
from .fit import Fit
from .stacked_fit import (  # noqa: F401  (re-exported)
    StackedFit,
    _check_fits,
    _check_weights,
)

__all__ = ["StackedFit", "load_stack", "stack", "stackable", "template_fit"]


def template_fit(fit: Fit | StackedFit, what: str) -> Fit:
    """The fit whose law's inputs and output (and the likelihood's output domain and extra
    columns) a function reads: ``fit`` itself, or a stack's first member when every member
    agrees on them (a ``ValueError`` naming the members otherwise).

    Examples
    --------
    >>> import bayescale as bs
    >>> runs = bs.testing.simulate_chinchilla(60, random_seed=0)
    >>> st = bs.stack({"a": bs.testing.pinned_fit(random_seed=0, data=runs),
    ...                "b": bs.testing.pinned_fit(random_seed=1, data=runs)},
    ...               weights={"a": 0.5, "b": 0.5})
    >>> template_fit(st, "example").law.inputs
    ('N', 'D')
    """
    if isinstance(fit, Fit):
        return fit
    if not isinstance(fit, StackedFit):
        raise TypeError(f"{what} takes a Fit or a StackedFit, got {type(fit).__name__}")

    def shape(f: Fit) -> tuple:
        lik = f.likelihood
        return (f.law.inputs, f.law.output, lik.output_domain, lik.extra_columns)

    (first_name, first), *rest = fit.fits.items()
    for name, member in rest:
        if shape(member) != shape(first):
            raise ValueError(
                f"{what}: stack member {name!r} ({member.law.key}, {member.likelihood.name}) "
                f"has inputs {list(member.law.inputs)} and output {member.law.output!r}, member "
                f"{first_name!r} ({first.law.key}, {first.likelihood.name}) "
                f"{list(first.law.inputs)} and {first.law.output!r}: use the members separately"
            )
    return first


# ---------------------------------------------------------------------- the decorator
def stackable(
    func: Callable[..., Any] | None = None, *, finish: Callable[[Any], Any] | None = None
) -> Any:
    """Let an analysis function of a :class:`~bayescale.Fit` (its first argument) take a
    :class:`StackedFit`: it is then evaluated on each member and the draws mixed
    (:meth:`StackedFit.mix`); ``finish`` recomputes what the mixture changes beyond the draws
    (e.g. counts over draws)."""

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        first = next(iter(inspect.signature(f).parameters))  # "fit", "loss_fit", ...
        by_group = getattr(f, "__groupable__", False)
        params = inspect.signature(f).parameters
        has_seed = "random_seed" in params
        # a function that reads groups itself (chain): a pooled stack goes to it whole
        own_groups = "group" in params and not by_group

        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            target = args[0] if args else kwargs.get(first)
            if not isinstance(target, Fit | StackedFit):
                raise TypeError(
                    f"{f.__name__} takes a fit (bs.fit, bs.Fit.load or bs.stack) as its first "
                    f"argument, got {type(target).__name__}"
                )
            if by_group and isinstance(target, StackedFit) and target.pooling is not None:
                # a pooled stack: per group, the mixture of the members' views of that group
                from .pooling import per_group

                group = kwargs.pop("group", None)
                return per_group(
                    wrapper, target, args, kwargs, group, has_seed=has_seed, first=first
                )
            if own_groups and isinstance(target, StackedFit) and target.pooling is not None:
                return f(*args, **kwargs)
            if isinstance(target, StackedFit):
                if args:
                    out = target.mix(f, args=args[1:], kwargs=kwargs)
                else:
                    rest = {k: v for k, v in kwargs.items() if k != first}
                    out = target.mix(f, kwargs=rest)
                return finish(out) if finish is not None else out
            return f(*args, **kwargs)

        return wrapper

    return decorate(func) if func is not None else decorate


# ---------------------------------------------------------------------- entry points
def stack(
    fits: Mapping[str, Fit] | Sequence[Fit],
    *,
    method: str = "stacking",
    weights: Mapping[str, float] | pd.Series | None = None,
    warn: bool = True,
) -> StackedFit:
    """Average fits to the same runs by LOO stacking weights (or weights you give).

    Parameters
    ----------
    fits : mapping of name → Fit, or sequence of Fit
        Fits to the same runs: different laws, likelihoods or priors. A list is named by each
        fit's law key and likelihood (``"chinchilla@1:studentt"``).
    method : {"stacking", "BB-pseudo-BMA", "pseudo-BMA"}
        How the weights are computed from each fit's PSIS-LOO pointwise predictive densities
        (:func:`bayescale.compare`, ``arviz_stats.compare``): ``"stacking"`` (Yao et al. 2018)
        maximises the leave-one-out log score of the mixture.
    weights : mapping of name → float, optional
        Given weights instead (non-negative, summing to 1, one per member); no LOO is computed.
    warn : bool
        Warn about runs with high Pareto k (unreliable LOO) when computing weights.

    Returns
    -------
    StackedFit

    Examples
    --------
    >>> import bayescale as bs
    >>> runs = bs.testing.simulate_chinchilla(60, random_seed=0)
    >>> good = bs.testing.pinned_fit(random_seed=0, data=runs)
    >>> wrong = bs.testing.pinned_fit(random_seed=1, data=runs, truth={**bs.testing.BESIROGLU_TRUTH,
    ...                                                        "E": 2.2})
    >>> st = bs.stack({"good": good, "wrong": wrong}, warn=False)
    >>> bool(st.weights["good"] > 0.99)
    True
    >>> loss = bs.predict_loss(st, N=70e9, D=1.4e12)
    >>> loss.dims, loss.sizes["draw"]
    (('chain', 'draw'), 1000)
    """
    named = _check_fits(fits)
    if weights is not None:
        if method != "stacking":
            raise ValueError(
                f"method={method!r} computes weights; with weights= given leave method out"
            )
        return StackedFit(named, weights, method="given")
    if method not in _METHODS:
        raise ValueError(f"method must be one of {list(_METHODS)}, got {method!r}")
    if len(named) < 2:
        raise ValueError("stack needs at least two fits to compute weights; give weights=")
    from .validation import compare

    table = compare(named, method=method, warn=warn)
    w = table["weight"].reindex(list(named)).to_numpy(dtype=float)
    w = np.clip(np.nan_to_num(w, nan=0.0), 0.0, None)
    if w.sum() <= 0:
        raise ValueError(f"{method} gave no positive weight: {table['weight'].to_dict()}")
    w = w / w.sum()
    return StackedFit(named, dict(zip(named, w, strict=True)), method=method, comparison=table)


def load_stack(path: str | os.PathLike) -> StackedFit:
    """Read a stack written by :meth:`StackedFit.save` (see :meth:`StackedFit.load`)."""
    return StackedFit.load(path)
