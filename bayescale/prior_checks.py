"""Checks of a prior when it is made: a PyMC distribution's keywords, numbers and support.

Split from :mod:`bayescale.priors` (which re-exports every name here): keywords against the
signature of ``pymc.<dist>.dist`` (read once per distribution, :func:`accepted_keywords`), finite
numbers, positive scales, a scale PyMC would default to 1 required, buildable and continuous
distributions, closest names for unknown distributions, and plain numbers from array-likes.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import json
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["accepted_keywords", "check_prior_mass"]


_FIXED = "Fixed"
_ABSTRACT = ("Distribution", "Continuous", "Discrete")
#: keywords that give a PyMC variable its dimensions: a prior carries numbers only, since
#: bayescale gives every parameter its shape (a vector parameter from its law, a pooled one a
#: value per group); refused when a prior is made, with that reason
_SHAPE_KEYWORDS = ("shape", "size", "dims")
#: arguments of ``Distribution.dist`` that are not distribution parameters
_NOT_PARAMETERS = ("cls", "dist_params", "return_next_rng", "rng", "dtype")
#: names that are a scale in every PyMC distribution that has them
_POSITIVE_ALWAYS = frozenset({"sigma", "sd", "tau", "lam"})
#: multivariate distributions: matrices named like scales (tau, scale) may hold zeros
_MATRIX_PARAMETERS = frozenset(
    {"CAR", "ICAR", "KroneckerNormal", "MatrixNormal", "MvNormal", "MvStudentT", "Wishart"}
)
#: further parameters that must be > 0, by distribution
_POSITIVE_BY_DIST = {
    "AsymmetricLaplace": {"b", "kappa"},
    "Beta": {"alpha", "beta", "nu"},
    "BetaBinomial": {"alpha", "beta"},
    "Cauchy": {"beta"},
    "Dirichlet": {"a"},
    "ExGaussian": {"nu"},
    "Exponential": {"scale"},
    "Gamma": {"alpha", "beta", "mu"},
    "Gumbel": {"beta"},
    "HalfCauchy": {"beta"},
    "HalfStudentT": {"nu"},
    "InverseGamma": {"alpha", "beta", "mu"},
    "Kumaraswamy": {"a", "b"},
    "Laplace": {"b"},
    "Logistic": {"s"},
    "MvStudentT": {"nu"},
    "NegativeBinomial": {"alpha", "mu"},
    "Pareto": {"alpha", "m"},
    "Poisson": {"mu"},
    "SkewStudentT": {"a", "b"},
    "StudentT": {"nu"},
    "VonMises": {"kappa"},
    "Wald": {"mu", "phi"},
    "Weibull": {"alpha", "beta"},
}
#: distributions whose scale PyMC defaults (to 1) when none is given: a prior must name one of
#: these (alternatives), since a forgotten ``sigma`` would otherwise fit with sigma = 1 silently.
#: ``tests/test_input_checks.py`` checks that every PyMC distribution with a defaulted scale is
#: listed here or in ``_DEFAULT_SCALE_ALLOWED``.
_SCALE_REQUIRED = {
    "AR": ("sigma", "tau"),
    "ExGaussian": ("sigma",),
    "HalfNormal": ("sigma", "tau"),
    "HalfStudentT": ("sigma", "lam"),
    "LogNormal": ("sigma", "tau"),
    "Logistic": ("s",),
    "Lognormal": ("sigma", "tau"),
    "Moyal": ("sigma",),
    "Normal": ("sigma", "tau"),
    "SkewNormal": ("sigma", "tau"),
    "SkewStudentT": ("sigma", "lam"),
    "StudentT": ("sigma", "lam"),
    "TruncatedNormal": ("sigma", "tau"),
    "VonMises": ("kappa",),
}
#: distributions with a defaulted scale-like argument that is not the prior's width (matrix
#: distributions' extra noise, Beta/Gamma's alternative mu-sigma form, which PyMC refuses when
#: half given)
_DEFAULT_SCALE_ALLOWED = frozenset(
    {"AsymmetricLaplace", "Beta", "Exponential", "Gamma", "ICAR", "InverseGamma",
     "KroneckerNormal", "MvNormal", "MvStudentT", "Rice", "Wald", "ZeroSumNormal"}
)  # fmt: skip
#: distributions whose draws are positive / in (0, 1): the support of a parameter they are the
#: default prior of (see :attr:`Prior.support`)
_POSITIVE_SUPPORT = frozenset(
    {
        "Exponential", "Gamma", "HalfCauchy", "HalfFlat", "HalfNormal", "HalfStudentT",
        "InverseGamma", "LogNormal", "Lognormal", "Pareto", "Wald", "Weibull",
    }
)  # fmt: skip
_UNIT_SUPPORT = frozenset({"Beta", "Kumaraswamy"})
#: common misspellings of parameter names, and what PyMC calls them
_ALIASES = {
    "sd": "sigma",
    "std": "sigma",
    "stddev": "sigma",
    "scale": "sigma",
    "mean": "mu",
    "loc": "mu",
    "location": "mu",
    "rate": "lam",
    "df": "nu",
    "low": "lower",
    "high": "upper",
    "a": "alpha",
    "b": "beta",
}


@functools.cache
def _pymc_distributions() -> tuple[str, ...]:
    """Names of the distributions in the ``pymc`` namespace (computed once)."""
    import pymc as pm

    return tuple(
        sorted(
            name
            for name, obj in vars(pm).items()
            if isinstance(obj, type)
            and issubclass(obj, pm.Distribution)
            and name not in _ABSTRACT
            and not name.startswith("_")
        )
    )


@functools.cache
def _signature(dist: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(accepted keyword names, required names) of ``pymc.<dist>.dist``, read once."""
    import pymc as pm

    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    params = inspect.signature(getattr(pm, dist).dist).parameters
    names = [n for n, p in params.items() if p.kind in kinds and n not in _NOT_PARAMETERS]
    required = [n for n in names if params[n].default is inspect.Parameter.empty]
    return tuple(dict.fromkeys(names)), tuple(required)


def accepted_keywords(dist: str) -> tuple[str, ...]:
    """Keyword names a :class:`Prior` of PyMC distribution ``dist`` accepts.

    Read once from the signature of ``pymc.<dist>.dist`` (aliases PyMC takes, such as ``tau``
    for ``Normal``, included); not ``shape``, ``size`` or ``dims``: bayescale gives each
    parameter its shape.

    Examples
    --------
    >>> accepted_keywords("Normal")
    ('mu', 'sigma', 'tau')
    """
    if dist not in _pymc_distributions():
        raise ValueError(_unknown_distribution(dist))
    return _signature(dist)[0]


def _unknown_distribution(dist: str) -> str:
    names = _pymc_distributions()
    close = [n for n in names if n.lower() == dist.lower()]
    close = close or difflib.get_close_matches(dist, names, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{dist!r} is not a PyMC distribution (e.g. 'Normal', 'LogNormal', 'Gamma'){hint}"


def _number_error(dist: str, key: str, value: Any, problem: str) -> ValueError:
    return ValueError(f"prior {dist}: parameter {key}={value!r} {problem}")


def _check_number(dist: str, params: Mapping[str, Any], key: str, positive: bool = False) -> None:
    """``params[key]`` must be a finite number (or list of numbers), > 0 when ``positive``."""
    value = params[key]
    if np.ma.isMaskedArray(value):
        shown = np.ma.getdata(value).tolist()
        raise _number_error(dist, key, shown, "is a masked array; give plain numbers")
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError):  # ragged lists
        raise _number_error(dist, key, value, "is not a number or list of numbers") from None
    if raw.dtype.kind not in "iuf" or raw.size == 0:
        if isinstance(value, str):
            problem = "is a string; give a number"
        elif raw.dtype.kind == "b":
            problem = "is a boolean; give a number"
        else:
            problem = "is not a number or list of numbers"
        raise _number_error(dist, key, value, problem)
    arr = raw.astype(float)
    if not np.all(np.isfinite(arr)):
        raise _number_error(dist, key, value, "is not finite; give a finite number")
    if np.any((arr != 0) & (np.abs(arr) < np.finfo(float).tiny)):
        raise _number_error(dist, key, value, "is subnormal (below 2.2e-308): it underflows to 0")
    if positive and not np.all(arr > 0):
        raise _number_error(
            dist, key, value, f"must be > 0 ({key} is a scale or shape parameter of {dist})"
        )


def _check_shape(dist: str, key: str, value: Any) -> None:
    items = value if isinstance(value, list) else [value]
    if not items or not all(
        isinstance(v, int | np.integer) and not isinstance(v, bool) and v >= 0 for v in items
    ):
        raise _number_error(dist, key, value, "must be a whole number >= 0 or a list of them")


@functools.cache
def _is_discrete(dist: str) -> bool:
    import pymc as pm

    return issubclass(getattr(pm, dist), pm.Discrete)


def _check_distribution(dist: str, params: Mapping[str, Any]) -> None:
    """Name, keywords and values of a PyMC prior, checked against ``pymc.<dist>.dist``."""
    if dist not in _pymc_distributions():
        raise ValueError(_unknown_distribution(dist))
    if _is_discrete(dist):
        raise ValueError(
            f"prior {dist}: a discrete distribution; bayescale samples every parameter with "
            "NUTS, which needs a continuous prior: give e.g. Prior('Normal', mu=..., "
            "sigma=...), or Prior.fixed(value) to hold the parameter at one value"
        )
    accepted, required = _signature(dist)
    shaped = [k for k in params if k in _SHAPE_KEYWORDS]
    if shaped:
        given = ", ".join(f"{k}={params[k]!r}" for k in shaped)
        numbers = ", ".join(f"{k}={v!r}" for k, v in params.items() if k not in _SHAPE_KEYWORDS)
        raise ValueError(
            f"prior {dist}: {given}: a prior takes the distribution's numbers only, not "
            f"{'/'.join(_SHAPE_KEYWORDS)}: bayescale gives each parameter its shape (a vector "
            "parameter such as bnsl's 'c' one value per break, a pooled parameter one per "
            f"group); drop {', '.join(repr(k) for k in shaped)}: Prior({dist!r}"
            + (f", {numbers})" if numbers else ")")
        )
    unknown = [k for k in params if k not in accepted]
    if unknown:
        hints = []
        for key in unknown:
            guess = _ALIASES.get(key)
            if guess not in accepted:
                close = difflib.get_close_matches(key, accepted, n=1, cutoff=0.6)
                guess = close[0] if close else None
            if guess is not None and guess not in params:
                hints.append(f"{guess!r}" if len(unknown) == 1 else f"{guess!r} for {key!r}")
        hint = f" (did you mean {', '.join(hints)}?)" if hints else ""
        names = ", ".join(repr(k) for k in unknown)
        raise ValueError(
            f"prior {dist}: unknown parameter {names}{hint}; PyMC's {dist} accepts "
            f"{', '.join(accepted)}"
        )
    missing = [k for k in required if k not in params]
    if missing:
        raise ValueError(
            f"prior {dist}: missing parameter {', '.join(repr(k) for k in missing)}; PyMC's "
            f"{dist} accepts {', '.join(accepted)}"
        )
    if "lower" in params and "upper" in params:
        _check_number(dist, params, "lower")
        _check_number(dist, params, "upper")
        if np.any(np.asarray(params["lower"], float) >= np.asarray(params["upper"], float)):
            raise ValueError(
                f"prior {dist}: lower={params['lower']!r} must be below upper={params['upper']!r}"
            )
    scales = _SCALE_REQUIRED.get(dist, ())
    if scales and not any(k in params for k in scales):
        example = ", ".join([*(f"{k}={v!r}" for k, v in params.items()), f"{scales[0]}=..."])
        names = " or ".join(repr(k) for k in scales)
        raise ValueError(
            f"prior {dist}: missing scale parameter {names}; PyMC would use {scales[0]}=1 "
            f"silently, which is rarely meant: give it, e.g. Prior({dist!r}, {example})"
        )
    positive = set(_POSITIVE_BY_DIST.get(dist, ()))
    if dist not in _MATRIX_PARAMETERS:
        positive |= _POSITIVE_ALWAYS
    for key in params:
        _check_number(dist, params, key, positive=key in positive)
    # what the signature cannot tell, e.g. Gamma given alpha without beta
    reason = _build_problem(dist, json.dumps(params, sort_keys=True))
    if reason:
        args = ", ".join(f"{k}={v!r}" for k, v in params.items())
        raise ValueError(
            f"prior {dist}({args}): PyMC cannot build it: {reason}; PyMC's {dist} accepts "
            f"{', '.join(accepted)}"
        )


@functools.lru_cache(maxsize=512)
def _build_problem(dist: str, params_json: str) -> str:
    """Why ``pymc.<dist>.dist(**params)`` fails ("" when it builds); cached by value."""
    import pymc as pm

    try:
        with warnings.catch_warnings():  # an overflow while building (sigma=1e300) is a problem
            warnings.simplefilter("error", RuntimeWarning)
            getattr(pm, dist).dist(**json.loads(params_json))
    except Exception as err:  # PyMC raises ValueError, TypeError, NotImplementedError, ...
        text = str(err).strip()
        first = text.splitlines()[0].rstrip(".") if text else type(err).__name__
        return first + (" (a number too large for PyMC)" if "overflow" in first else "")
    return ""


def _plain(value: Any) -> Any:
    """Convert numpy scalars/arrays (and array-likes: Series, DataArray) to JSON-friendly
    Python numbers and lists; masked arrays are left as they are, to be refused."""
    if np.ma.isMaskedArray(value):
        return value
    if isinstance(value, np.ndarray):
        return value.tolist()
    if not isinstance(value, str | bytes) and (
        hasattr(value, "__array__") or hasattr(value, "to_numpy")
    ):
        try:
            return np.asarray(value).tolist()
        except (TypeError, ValueError):
            return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# ---------------------------------------------------------------- prior mass against the runs
#: evenly spaced quantiles of each prior (deterministic: no seed), shuffled per parameter by a
#: fixed permutation so that parameters are not drawn in lockstep
_MASS_DRAWS = 199
#: share of the priors' draws at which the law cannot be evaluated that makes it an error
_MASS_BROKEN = 0.5


def _scipy_dist(prior: Any) -> Any:
    """The frozen scipy distribution of a scalar prior, or None (another distribution, vector
    numbers, or a parameterisation not mapped here)."""
    from scipy import stats

    p = prior.params
    if any(isinstance(v, list) for v in p.values()):
        return None

    def sd(scale: str = "sigma", precision: str = "tau") -> float | None:
        if scale in p:
            return float(p[scale])
        return float(p[precision]) ** -0.5 if precision in p else None

    dist = prior.dist
    if dist == "Normal":
        return stats.norm(p.get("mu", 0.0), sd())
    if dist in ("LogNormal", "Lognormal"):
        return stats.lognorm(s=sd(), scale=np.exp(p.get("mu", 0.0)))
    if dist == "HalfNormal":
        return stats.halfnorm(scale=sd())
    if dist == "TruncatedNormal":
        mu, s = float(p.get("mu", 0.0)), sd()
        lo, hi = float(p.get("lower", -np.inf)), float(p.get("upper", np.inf))
        return stats.truncnorm((lo - mu) / s, (hi - mu) / s, loc=mu, scale=s)
    if dist == "Uniform":
        lo, hi = float(p.get("lower", 0.0)), float(p.get("upper", 1.0))
        return stats.uniform(lo, hi - lo)
    if dist == "Gamma" and {"alpha", "beta"} <= set(p):
        return stats.gamma(p["alpha"], scale=1.0 / p["beta"])
    if dist == "Beta" and {"alpha", "beta"} <= set(p):
        return stats.beta(p["alpha"], p["beta"])
    if dist == "Exponential" and "lam" in p:
        return stats.expon(scale=1.0 / p["lam"])
    if dist == "StudentT":
        return stats.t(p["nu"], p.get("mu", 0.0), sd("sigma", "lam"))
    if dist == "Cauchy":
        return stats.cauchy(p.get("alpha", 0.0), p.get("beta", 1.0))
    if dist == "HalfCauchy":
        return stats.halfcauchy(scale=p.get("beta", 1.0))
    return None


def _prior_draws(prior: Any, k: int) -> np.ndarray | None:
    """``_MASS_DRAWS`` values spread over ``prior`` (its quantiles), or None if not mapped."""
    if prior.is_fixed:
        return np.full(_MASS_DRAWS, float(prior.params["value"]))
    frozen = _scipy_dist(prior)
    if frozen is None:
        return None
    q = (np.arange(_MASS_DRAWS) + 0.5) / _MASS_DRAWS
    with np.errstate(all="ignore"):
        values = np.asarray(frozen.ppf(q), dtype=float)
    return values[np.random.default_rng(k).permutation(_MASS_DRAWS)]


def _unevaluable(law: Any, inputs: Mapping[str, np.ndarray], ref: Mapping[str, float],
                 draws: Mapping[str, np.ndarray]) -> tuple[float, str]:  # fmt: skip
    """Share of the draws at which the law's natural parameters or its log output at the runs
    are not finite, and the first natural parameter (or 'the law's output') that is not."""
    from .xp import numpy_ns

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = {n: v[:, None] for n, v in draws.items()}
        q = law.natural_params(p, ref, numpy_ns)
        bad = np.zeros(_MASS_DRAWS, dtype=bool)
        first = ""
        for name, value in q.items():
            arr = np.broadcast_to(np.asarray(value, dtype=float), (_MASS_DRAWS, 1))
            off = ~np.isfinite(arr).all(axis=1)
            if off.any() and not first:
                first = f"the natural parameter {name!r}"
            bad |= off
        x = {k: np.asarray(v, dtype=float)[None, :] for k, v in inputs.items()}
        out = np.asarray(law.log_mean(q, numpy_ns, **x), dtype=float)
        off = ~np.isfinite(np.broadcast_to(out, (_MASS_DRAWS, out.shape[-1]))).all(axis=1)
        if off.any() and not first:
            first = "the law's output"
        bad |= off
    return float(bad.mean()), first


def check_prior_mass(law: Any, inputs: Mapping[str, np.ndarray], priors: Mapping[str, Any]) -> None:
    """Refuse priors of a law's parameters that put most of their mass where the law cannot be
    evaluated at these runs (a natural parameter or the predicted output overflows: an exponent
    given a prior around 50, an intercept in the wrong units), naming the parameter, its
    prior's range against the default's, and what to do — before anything is sampled, instead
    of overflow warnings from numpy and a posterior of infinities after it.

    Only priors that differ from the law's defaults are checked (the defaults are the law's
    author's), by their quantiles (no random numbers); laws with vector parameters and
    distributions without a closed-form quantile function here are passed.

    Examples
    --------
    >>> import bayescale as bs
    >>> law = bs.get_law("chinchilla")
    >>> runs = bs.testing.simulate_chinchilla(20, random_seed=0)
    >>> inputs = {k: runs[k].to_numpy() for k in law.inputs}
    >>> far = {**law.default_priors, "alpha": bs.Prior("Normal", mu=80.0, sigma=1.0)}
    >>> check_prior_mass(law, inputs, far)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: prior for 'alpha': Prior('Normal', mu=80.0, sigma=1.0) puts 100% of its mass ...
    """
    defaults = law.default_priors
    changed = [
        n for n in law.parameter_names
        if n in priors and priors[n] != defaults[n] and not priors[n].is_fixed
    ]  # fmt: skip
    if not changed or any(getattr(par, "shape", ()) for par in law.parameters):
        return
    given = {n: _prior_draws(priors.get(n, defaults[n]), k) for k, n in
             enumerate(law.parameter_names)}  # fmt: skip
    default = {n: _prior_draws(defaults[n], k) for k, n in enumerate(law.parameter_names)}
    if any(v is None for v in (*given.values(), *default.values())):
        return
    try:
        ref = law.compute_reference(inputs)
        share, first = _unevaluable(law, inputs, ref, given)
        if share <= _MASS_BROKEN or _unevaluable(law, inputs, ref, default)[0] > _MASS_BROKEN:
            return
        alone = [
            n for n in changed
            if _unevaluable(law, inputs, ref, {**default, n: given[n]})[0] > _MASS_BROKEN
        ]  # fmt: skip
    except Exception:  # a law whose numpy form cannot take these arrays: nothing to say here
        return
    culprits = alone or changed

    def span(draws: np.ndarray) -> str:
        lo, hi = np.quantile(draws, [0.01, 0.99])
        return f"[{lo:.3g}, {hi:.3g}]"

    which = "; ".join(f"prior for {n!r}: {priors[n]!r}" for n in culprits)
    ranges = "; ".join(
        f"the central 98% of {n!r} is {span(given[n])}, against {span(default[n])} under "
        f"the default prior {defaults[n]!r}"
        for n in culprits
    )
    raise ValueError(
        f"{which} puts {share:.0%} of its mass where {law.name!r} cannot be evaluated at these "
        f"runs ({first or 'a value'} overflows or is not a number): no posterior can be "
        f"computed there. {ranges}. Check the parameter's meaning and scale (sampled "
        "parameters are at the runs' reference scales: law.describe()), give a prior near the "
        "default, or look at what a prior implies with bs.prior_predictive"
    )
