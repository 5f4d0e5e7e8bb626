"""Loss → accuracy: forecast the downstream accuracy of planned runs through their loss.

Split from :mod:`bayescale.emergence` (which re-exports :func:`chain`): a loss fit and a
``downstream`` fit chained draw by draw (or from their posterior means, ``method="plugin"``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from ._api import make_rng
from .stacking import stackable
from .xp import numpy_ns

if TYPE_CHECKING:
    from .fit import Fit

__all__ = ["chain"]


# ---------------------------------------------------------------------- loss → accuracy
def _flat_params(fit: Fit, method: str) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    nat = {k: v.transpose("chain", "draw").to_numpy().reshape(-1) for k, v in fit.params().items()}
    noise = {
        k: v.transpose("chain", "draw").to_numpy().reshape(-1)
        for k, v in fit.params("noise").items()
    }
    if method == "plugin":
        nat = {k: np.full_like(v, v.mean()) for k, v in nat.items()}
        noise = {k: np.full_like(v, v.mean()) for k, v in noise.items()}
    return nat, noise


@stackable
def chain(
    loss_fit: Fit,
    downstream_fit: Fit,
    *,
    kind: str = "predictive",
    method: str = "propagate",
    random_seed: int | None = None,
    group: Any = None,
    **inputs: Any,
) -> xr.Dataset:
    """Forecast the downstream accuracy of planned runs through their loss.

    For each posterior draw of ``loss_fit`` the loss of the planned run is drawn, and the
    accuracy follows from a draw of ``downstream_fit`` at that loss, so the uncertainty of both
    posteriors reaches the forecast. The two posteriors are independent; their draws are paired
    at random (a permutation when ``downstream_fit`` has at least as many draws, otherwise
    sampling with replacement).

    Parameters
    ----------
    loss_fit : Fit or StackedFit
        A fit of a loss law (e.g. ``chinchilla``); a stack gives the mixture of its members'
        forecasts (member ``k`` with its own seed, see :mod:`bayescale.stacking`).
    downstream_fit : Fit
        A fit of the ``downstream`` law (one input: the loss).
    kind : {"predictive", "mean"}
        ``"predictive"``: the observed loss of a new run (the loss fit's noise) and a new
        benchmark accuracy (the downstream fit's noise); ``"mean"``: expected loss and expected
        accuracy, parameter uncertainty only.
    method : {"propagate", "plugin"}
        ``"propagate"`` uses the posterior draws; ``"plugin"`` replaces every parameter of both
        fits by its posterior mean (what a point-estimate pipeline reports), keeping the noise
        for ``kind="predictive"``.
    random_seed : int, optional
        Seed for the pairing and the predictive noise (and a new group's draws).
    group : label, list of labels or bs.NEW_GROUP, optional
        When either fit is pooled (``bs.fit(..., group=...)``): the group(s) to forecast for.
        Default: every group, on a ``group`` dimension — the groups of the pooled fit, or the
        labels both fits share when both are pooled (a corpus's loss law feeding the same
        corpus's downstream law). A label is one group (of every pooled fit);
        ``bs.NEW_GROUP`` a new group of each pooled fit's population ("a corpus we have not
        trained on yet"), the second fit's new group drawn independently of the first's.
    **inputs
        The loss law's inputs (``N=..., D=...``: numbers or equal-length sequences; several
        values give a ``point`` dimension), plus ``n_items=`` for a count likelihood.

    Returns
    -------
    xarray.Dataset
        ``accuracy`` and ``loss`` over ``(chain, draw)`` of ``loss_fit`` (plus ``point``).

    Examples
    --------
    >>> import bayescale as bs
    >>> loss_fit = bs.testing.pinned_fit(random_seed=0)
    >>> down = bs.emergence.pinned_emergence_fit(random_seed=1, law="downstream")
    >>> fc = bs.chain(loss_fit, down, N=70e9, D=1.4e12, n_items=500, random_seed=0)
    >>> fc["accuracy"].dims
    ('chain', 'draw')
    >>> bool(0 <= float(fc["accuracy"].median()) <= 1)
    True
    >>> pooled = bs.testing.pinned_pooled_fit(random_seed=0)
    >>> bs.chain(pooled, down, N=70e9, D=1.4e12, n_items=500, random_seed=0)["accuracy"].dims
    ('group', 'chain', 'draw')
    >>> new = bs.chain(pooled, down, N=70e9, D=1.4e12, n_items=500, random_seed=0,
    ...                group=bs.NEW_GROUP)
    >>> new["accuracy"].dims
    ('chain', 'draw')
    """
    fits = (loss_fit, downstream_fit)
    if any(getattr(f, "pooling", None) is not None for f in fits):
        from .grouped import each_group

        options = dict(kind=kind, method=method, random_seed=random_seed, **inputs)
        return each_group(
            lambda loss, down: chain(loss, down, **options),
            fits,
            group=group,
            random_seed=random_seed,
        )
    if group is not None:
        raise ValueError(
            f"group={group!r}: neither fit has groups (fit with bs.fit(..., group=...))"
        )
    if kind not in ("mean", "predictive"):
        raise ValueError(f"kind must be 'mean' or 'predictive', got {kind!r}")
    if method not in ("propagate", "plugin"):
        raise ValueError(f"method must be 'propagate' or 'plugin', got {method!r}")
    law_l, law_d = loss_fit.law, downstream_fit.law
    if len(law_d.inputs) != 1:
        raise ValueError(
            f"the downstream law must take the loss as its only input, got {law_d.inputs}"
        )
    lik_l, lik_d = loss_fit.likelihood, downstream_fit.likelihood
    extra_names = list(lik_d.extra_columns) if kind == "predictive" else []
    missing = [k for k in (*law_l.inputs, *extra_names) if k not in inputs]
    unknown = sorted(set(inputs) - set(law_l.inputs) - set(lik_d.extra_columns))
    if missing or unknown:
        raise ValueError(
            f"chain needs the loss law's inputs {list(law_l.inputs)}"
            + (f" and {extra_names}" if extra_names else "")
            + f"; missing {missing}, unknown {unknown}"
        )
    scalar = all(np.ndim(inputs[k]) == 0 for k in law_l.inputs)
    arrays = {k: np.atleast_1d(np.asarray(inputs[k], dtype=float)) for k in law_l.inputs}
    extra = {k: np.atleast_1d(np.asarray(inputs[k], dtype=float)) for k in extra_names}
    for k, v in {**arrays, **extra}.items():
        if v.ndim != 1 or not np.all(np.isfinite(v) & (v > 0)):
            raise ValueError(f"{k} must be positive finite numbers, got {inputs[k]!r}")
    size = max(len(v) for v in arrays.values())
    if any(len(v) not in (1, size) for v in (*arrays.values(), *extra.values())):
        raise ValueError("inputs must have equal lengths (or length 1)")

    rng = make_rng(random_seed)
    ql, noise_l = _flat_params(loss_fit, method)
    qd, noise_d = _flat_params(downstream_fit, method)
    s1 = next(iter(ql.values())).size
    s2 = next(iter(qd.values())).size
    idx = rng.permutation(s2)[:s1] if s2 >= s1 else rng.integers(0, s2, size=s1)

    mu_l = law_l.log_mean(
        {k: v[:, None] for k, v in ql.items()}, numpy_ns, **{k: v[None] for k, v in arrays.items()}
    )
    mu_l = np.broadcast_to(mu_l, (s1, size))
    if kind == "predictive":
        loss = lik_l.inverse(lik_l.sample(rng, mu_l, **{k: v[:, None] for k, v in noise_l.items()}))
    else:
        loss = np.exp(mu_l)
    mu_d = law_d.log_mean(
        {k: v[idx][:, None] for k, v in qd.items()}, numpy_ns, **{law_d.inputs[0]: loss}
    )
    mu_d = np.minimum(np.broadcast_to(mu_d, (s1, size)), 0.0)
    if kind == "predictive":
        ext = {k: v[None] for k, v in extra.items()}
        acc = lik_d.inverse(
            lik_d.sample(rng, mu_d, **{k: v[idx][:, None] for k, v in noise_d.items()}, **ext),
            **ext,
        )
    else:
        acc = np.exp(mu_d)

    post = loss_fit.posterior
    shape = (post.sizes["chain"], post.sizes["draw"], size)
    dims = ("chain", "draw", "point")
    ds = xr.Dataset(
        {
            law_d.output: (dims, np.asarray(acc).reshape(shape)),
            law_d.inputs[0]: (dims, np.asarray(loss).reshape(shape)),
        },
        coords={"chain": post["chain"].to_numpy(), "draw": post["draw"].to_numpy()},
    )
    for k, v in arrays.items():
        ds = ds.assign_coords({k: ("point", np.broadcast_to(v, (size,)))})
    ds.attrs = {"kind": kind, "method": method}
    return ds.isel(point=0, drop=True) if scalar else ds
