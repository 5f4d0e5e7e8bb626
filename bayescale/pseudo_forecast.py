"""The law's in-sample pseudo-forecast, which sets the extrapolation drift's prior median.

:meth:`bayescale.structure.Structure.adapt_drift` holds out a fit's runs at its largest compute,
fits the law's mode to the others (:func:`law_mode_fit`) and summarises the held-out runs' error
as a :class:`PseudoForecast`. See :mod:`bayescale.structure` for the model and the measurements.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["PseudoForecast", "law_mode_fit", "refined_mode"]


@dataclass(frozen=True)
class PseudoForecast:
    """The law's in-sample pseudo-forecast (:meth:`Structure.adapt_drift`).

    Attributes: ``n_held`` runs held out, their mean ``distance`` (decades beyond the runs
    fitted), mean log ``error`` (observed − predicted), the noise scale ``sigma`` of the fit,
    ``drift``, the shared error per √decade beyond noise, and ``scatter``, the runs' spread
    around their median error per √decade beyond noise (NaN for fits saved before it was
    recorded).
    """

    n_held: int
    distance: float
    error: float
    sigma: float
    drift: float
    scatter: float = float("nan")

    @classmethod
    def from_errors(cls, errors: Any, distance: float, sigma: float) -> PseudoForecast:
        """From the held-out runs' log errors ``e``: ``drift = sqrt(max(ē² − σ²/n, 0) / d̄)``
        (the shared part) and ``scatter = sqrt(max(r² − σ², 0) / d̄)`` with
        ``r = 1.4826 · median|e − median(e)|`` (the per-run part: a robust sd, the bias removed).

        Examples
        --------
        >>> pf = PseudoForecast.from_errors([0.01, 0.03, 0.05, 0.03], 0.25, 0.01)
        >>> round(pf.drift, 4), round(pf.scatter, 4)
        (0.0592, 0.0219)
        """
        errors = np.asarray(errors, dtype=float)
        ebar = float(errors.mean())
        var = float(sigma) ** 2 if np.isfinite(sigma) else 0.0
        drift = float(np.sqrt(max(ebar**2 - var / errors.size, 0.0) / distance))
        r = 1.4826 * float(np.median(np.abs(errors - np.median(errors))))
        scatter = float(np.sqrt(max(r**2 - var, 0.0) / distance))
        return cls(int(errors.size), float(distance), ebar, float(sigma), drift, scatter)

    def to_dict(self) -> dict[str, Any]:
        keys = ("n_held", "distance", "error", "sigma", "drift", "scatter")
        return {k: getattr(self, k) for k in keys}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PseudoForecast:
        return cls(
            int(data["n_held"]),
            *(float(data[k]) for k in ("distance", "error", "sigma", "drift")),
            float(data.get("scatter", float("nan"))),  # not recorded before stop 20
        )


def law_mode_fit(
    law: Any,
    model: Any,
    values: Mapping[str, Any],
    reference: Mapping[str, float],
    priors: Mapping[str, Any],
    compiled: Any = None,
) -> Callable[[np.ndarray], tuple[Callable[..., Any], float]]:
    """``mode_fit`` of :meth:`Structure.adapt_drift` for a fit's PyMC ``model`` (no pooling):
    the posterior mode on a subset of the runs by the fit's own mode finder (L-BFGS on the
    compiled log density, data as arguments, so nothing is recompiled), returned as the law's
    log output at the mode and the noise scale ``sigma``. Parameters held by ``Prior.fixed`` in
    ``priors`` keep their values. ``find_mode`` restarts L-BFGS past a false optimum (see
    :func:`refined_mode`). Deterministic given the runs."""
    from .sampling import compile_model, find_mode

    if compiled is None:  # the fit's own compiled model when given
        compiled = compile_model(model, cache=True)
    n = int(values["run"])

    def mode_fit(mask: np.ndarray) -> tuple[Callable[..., Any], float]:
        sub = {
            k: np.asarray(v)[mask] if np.ndim(v) == 1 and len(v) == n else v
            for k, v in values.items()
        }
        sub["run"] = np.asarray(int(mask.sum()), dtype=np.int64)
        starts = None
        if law.multistart.n_starts:
            from .multistart import law_starts

            starts = law_starts(law, model, compiled, 0)
        x, _ = find_mode(compiled, sub, compiled.x0, starts)  # restarts past a false optimum
        flat = np.asarray(compiled.logp_fn(x, *compiled.data_args(sub, compiled.data_names))[2])
        sizes = [int(np.prod(shape)) for shape in compiled.rv_shapes]
        parts = np.split(flat, np.cumsum(sizes)[:-1])
        p = {
            name: part.reshape(shape)
            for name, part, shape in zip(compiled.rv_names, parts, compiled.rv_shapes, strict=True)
        }
        fixed = {k: v.params["value"] for k, v in priors.items() if v.is_fixed}
        p = {**fixed, **p}
        q = law.natural_params({k: p[k] for k in law.parameter_names}, reference)
        sigma = float(p["sigma"]) if "sigma" in p else float("nan")
        return (lambda **inputs: law.log_mean(q, **inputs)), sigma

    return mode_fit


#: A restart of the mode search is kept only if it raises the log density by more than this
#: (nats): a converged mode is returned unchanged, bit for bit. The sampler's own threshold.
from .sampling.nuts import MODE_GAIN  # noqa: E402


def refined_mode(
    compiled: Any,
    data: Mapping[str, Any],
    x: np.ndarray,
    scale: np.ndarray,
    max_restarts: int = 5,
) -> tuple[np.ndarray, np.ndarray]:
    """The mode search restarted from its own end point ``x`` (fresh L-BFGS memory) until a
    restart gains less than :data:`MODE_GAIN` nats; returns ``(x, scale)`` as
    :func:`~bayescale.sampling.find_mode` does. ``find_mode`` itself now restarts the same way,
    so this is for an end point found otherwise (``benchmarks/study_mode_finder.py``).

    A guard against L-BFGS-B's false convergence: its test on the relative reduction of the
    objective stops after a tiny step far from the mode. On Llama 3's isoFLOP runs below 3e21
    FLOPs the search from the model's initial point stopped after 9 iterations at log density
    277.4 (E = 0.38, gradient norm 3.6e3) and reported success; one restart reaches the mode,
    484.75 (E = 0.61), where NUTS's draws are (``benchmarks/study_mode_finder.py``).

    Examples
    --------
    >>> import numpy as np, pymc as pm
    >>> from bayescale.sampling import compile_model, find_mode
    >>> with pm.Model() as m:
    ...     mu = pm.Normal("mu", 3.0, 0.1)
    >>> c = compile_model(m)
    >>> x, scale = refined_mode(c, {}, *find_mode(c, {}, c.x0))
    >>> round(float(x[0]), 6)
    3.0
    """
    from .sampling import find_mode

    args = compiled.data_args(data, compiled.data_names)

    def logp(point: np.ndarray) -> float:
        try:
            value = float(compiled.logp_fn(point, *args)[0])
        except Exception:  # outside the support
            return -np.inf
        return value if np.isfinite(value) else -np.inf

    best = logp(x)
    for _ in range(max_restarts):
        x_new, scale_new = find_mode(compiled, data, x)
        gained = logp(x_new)
        if not gained > best + MODE_GAIN:
            break
        x, scale, best = x_new, scale_new, gained
    return x, scale


def pseudo_variance(pseudo: PseudoForecast) -> float:
    """Variance ``v`` of the pseudo-forecast's mean error beyond the drift: the held-out runs'
    own spread over their number, ``max(σ², r²) / n`` with ``r`` their robust spread
    (``r² = scatter² · d̄ + σ²`` when ``scatter`` was recorded).

    Examples
    --------
    >>> pf = PseudoForecast(4, 0.25, -0.01, 0.002, 0.0, scatter=0.04)
    >>> pseudo_variance(pf)  # (0.002² + 0.04² · 0.25) / 4
    0.000101
    """
    sigma2 = pseudo.sigma**2 if np.isfinite(pseudo.sigma) else 0.0
    r2 = sigma2 + (pseudo.scatter**2 * pseudo.distance if np.isfinite(pseudo.scatter) else 0.0)
    return max(sigma2, r2) / pseudo.n_held


def conditional_drift(
    pseudo: PseudoForecast, drift: Any, distance: Any, rho2: float
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sd of the extrapolation drift ``δ(d)`` given the pseudo-forecast.

    The drift read as ``δ(d) = s·√d·(ρ·ζ_p + √(1 − ρ²)·ζ_f)``: ``ζ_p`` a direction the law's
    miss keeps beyond its data, which its own pseudo-forecast shares (mean error
    ``ē = s·√d̄·(ρ·ζ_p + √(1 − ρ²)·ζ'_f) + ε``, ``var ε = v``, :func:`pseudo_variance`), ``ζ_f``,
    ``ζ'_f`` fresh. Given a drift draw ``s``, ``δ(d) | ē`` is normal with mean
    ``s²ρ²√(d·d̄) / (s²d̄ + v) · ē`` and sd ``s√d · sqrt(1 − ρ⁴s²d̄ / (s²d̄ + v))``.
    ``drift`` and ``distance`` broadcast (e.g. ``(draws, 1)`` and ``(points,)``).

    Examples
    --------
    >>> pf = PseudoForecast(n_held=10, distance=0.25, error=-0.01, sigma=0.0, drift=0.02)
    >>> mean, sd = conditional_drift(pf, 0.02, 1.0, rho2=1.0)  # no noise, full persistence
    >>> round(float(mean), 4), round(float(sd), 4)  # the miss carried on: −0.01·√(1/0.25)
    (-0.02, 0.0)
    >>> mean, sd = conditional_drift(pf, 0.02, 1.0, rho2=0.0)  # no persistence: the prior
    >>> abs(float(mean)), round(float(sd), 4)
    (0.0, 0.02)
    """
    s2 = np.asarray(drift, dtype=float) ** 2
    d = np.asarray(distance, dtype=float)
    dbar, v = pseudo.distance, pseudo_variance(pseudo)
    total = s2 * dbar + v
    safe = np.where(total > 0, total, 1.0)  # s = 0 and v = 0: no drift, nothing to carry
    gain = s2 * dbar / safe
    mean = rho2 * s2 * np.sqrt(d * dbar) * pseudo.error / safe
    sd = np.sqrt(s2 * d * np.maximum(1.0 - rho2**2 * gain, 0.0))
    return mean, sd


def drift_scale_posterior(
    pseudo: PseudoForecast, mu: float, sigma: float, u: Any, n_grid: int = 4001
) -> np.ndarray:
    """Quantiles ``u`` of the drift scale ``s`` given the pseudo-forecast: the prior
    LogNormal(``mu``, ``sigma``) times the likelihood of its mean error,
    ``ē ~ Normal(0, s²d̄ + v)``; exact on a grid of ``log s`` (±10 prior sds).

    Examples
    --------
    >>> pf = PseudoForecast(n_held=10, distance=0.25, error=0.0, sigma=1e-3, drift=0.0)
    >>> q = drift_scale_posterior(pf, np.log(0.02), 0.5, [0.5])
    >>> bool(q[0] < 0.02)  # a law that hit its own top runs: a smaller drift
    True
    """
    grid = mu + sigma * np.linspace(-10.0, 10.0, n_grid)
    s2 = np.exp(2.0 * grid)
    var = s2 * pseudo.distance + pseudo_variance(pseudo)
    log_post = -0.5 * ((grid - mu) / sigma) ** 2 - 0.5 * np.log(var) - 0.5 * pseudo.error**2 / var
    w = np.exp(log_post - log_post.max())
    cdf = np.cumsum(w)
    cdf = (cdf - cdf[0]) / (cdf[-1] - cdf[0])
    return np.exp(np.interp(np.asarray(u, dtype=float), cdf, grid))
