"""Prior specifications that can be written to a file and read back.

A :class:`Prior` names a PyMC distribution and its parameters. It holds plain numbers only, so a
fit's priors are saved as JSON next to the posterior and rebuilt exactly on load (no pickles).
``Prior.fixed(value)`` pins a parameter to a constant instead of sampling it.

A prior is checked when it is made, against the signature of ``pymc.<dist>.dist`` (read once
per distribution): unknown keywords, non-numbers and non-positive scales are errors that name
the argument. :func:`merge_priors` also refuses a fixed value outside the parameter's support
(read from its default prior: LogNormal, HalfNormal, Gamma, ... → positive; Beta → (0, 1)).
"""

from __future__ import annotations

import difflib
import functools
import inspect
import json
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Prior", "accepted_keywords", "merge_priors"]

_FIXED = "Fixed"
_ABSTRACT = ("Distribution", "Continuous", "Discrete")
#: keywords of ``Distribution.dist`` itself that a prior may carry besides the parameters
_SHAPE_KEYWORDS = ("shape", "size")
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
    return tuple(dict.fromkeys([*names, *_SHAPE_KEYWORDS])), tuple(required)


def accepted_keywords(dist: str) -> tuple[str, ...]:
    """Keyword names a :class:`Prior` of PyMC distribution ``dist`` accepts.

    Read once from the signature of ``pymc.<dist>.dist`` (aliases PyMC takes, such as ``tau``
    for ``Normal``, included), followed by ``shape`` and ``size``.

    Examples
    --------
    >>> accepted_keywords("Normal")
    ('mu', 'sigma', 'tau', 'shape', 'size')
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
    for key, value in params.items():
        if key in _SHAPE_KEYWORDS:
            _check_shape(dist, key, value)
        else:
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


@dataclass(frozen=True)
class Prior:
    """A prior distribution: a PyMC distribution name and its keyword parameters.

    Parameters
    ----------
    dist : str
        Name of a distribution in ``pymc`` (``"Normal"``, ``"LogNormal"``, ``"HalfNormal"``,
        ``"Gamma"``, ``"TruncatedNormal"``, ...) or ``"Fixed"`` for a constant.
    **params
        The distribution's parameters, as numbers or lists of numbers (plus ``shape``/``size``).

    Raises
    ------
    ValueError
        At construction, naming the distribution and the argument: an unknown distribution
        (with the closest PyMC name), a keyword PyMC's ``dist`` does not take (``sd`` for
        ``Normal``; the accepted names are listed, see :func:`accepted_keywords`), a value that
        is not a finite number, a scale or shape parameter (``sigma``, ``tau``, ``lam``, ``nu``,
        Gamma's ``alpha``/``beta``, ...) that is not > 0, or a combination PyMC cannot build.

    Examples
    --------
    >>> import bayescale as bs
    >>> p = bs.Prior("LogNormal", mu=-1.2, sigma=0.5)
    >>> p.to_dict()
    {'dist': 'LogNormal', 'mu': -1.2, 'sigma': 0.5}
    >>> bs.Prior.from_dict(p.to_dict()) == p
    True
    >>> bs.Prior.fixed(0.34).is_fixed
    True
    >>> bs.Prior("Normal", mu=0.3, sd=0.1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: prior Normal: unknown parameter 'sd' (did you mean 'sigma'?); PyMC's Normal ...
    """

    dist: str
    params: dict[str, Any] = field(default_factory=dict)

    def __init__(self, dist: str, **params: Any) -> None:
        if not isinstance(dist, str) or not dist:
            raise ValueError(f"a prior needs a distribution name, got {dist!r}")
        clean = {k: _plain(v) for k, v in params.items()}
        if dist == _FIXED:
            if set(clean) != {"value"}:
                raise ValueError("Prior.fixed takes exactly one parameter, 'value'")
            _check_number(dist, clean, "value")
        else:
            _check_distribution(dist, clean)
        object.__setattr__(self, "dist", dist)
        object.__setattr__(self, "params", clean)

    def __hash__(self) -> int:
        return hash(self.to_json())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Prior) and self.to_json() == other.to_json()

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"Prior({self.dist!r}, {args})" if args else f"Prior({self.dist!r})"

    @classmethod
    def fixed(cls, value: float) -> Prior:
        """A parameter held at ``value`` rather than sampled.

        Examples
        --------
        >>> Prior.fixed(1.69).params["value"]
        1.69
        """
        try:
            if isinstance(value, bool | str | bytes):
                raise TypeError
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"prior Fixed: parameter value={value!r} is not a number") from None
        return cls(_FIXED, value=number)

    @property
    def is_fixed(self) -> bool:
        """True when the parameter is a constant."""
        return self.dist == _FIXED

    @property
    def support(self) -> tuple[float, float]:
        """Bounds of the values this prior gives: ``(0, inf)`` for LogNormal, HalfNormal,
        Gamma, Exponential, ...; ``(0, 1)`` for Beta; the ``lower``/``upper`` of a
        TruncatedNormal or Uniform; ``(-inf, inf)`` otherwise (e.g. Normal).

        Examples
        --------
        >>> Prior("LogNormal", mu=-1.2, sigma=0.7).support
        (0.0, inf)
        >>> Prior("Normal", mu=0.0, sigma=1.0).support
        (-inf, inf)
        """
        return self._support()[:2]

    def _support(self) -> tuple[float, float, bool]:
        """``(low, high, closed)``: bounds and whether they belong to the support."""
        if self.is_fixed:
            value = float(self.params["value"])
            return value, value, True
        if self.dist in _POSITIVE_SUPPORT:
            return 0.0, math.inf, False
        if self.dist in _UNIT_SUPPORT:
            return 0.0, 1.0, False
        bounds = {"TruncatedNormal": (-math.inf, math.inf), "Uniform": (0.0, 1.0)}
        if self.dist in bounds:
            low, high = bounds[self.dist]
            try:
                low = float(np.min(self.params.get("lower", low)))
                high = float(np.max(self.params.get("upper", high)))
            except (TypeError, ValueError):
                return -math.inf, math.inf, True
            return low, high, True
        return -math.inf, math.inf, True

    def allows(self, value: float) -> bool:
        """Whether ``value`` lies in :attr:`support`.

        Examples
        --------
        >>> Prior("HalfNormal", sigma=1.0).allows(-0.5)
        False
        """
        low, high, closed = self._support()
        value = float(value)
        if closed:
            return low <= value <= high
        return low < value < high

    def support_text(self) -> str:
        """The support as an interval, e.g. ``"(0, inf)"`` or ``"[0, 5]"``."""
        low, high, closed = self._support()
        left = "[" if closed and math.isfinite(low) else "("
        right = "]" if closed and math.isfinite(high) else ")"
        return f"{left}{low:g}, {high:g}{right}"

    def create(self, name: str, **kwargs: Any) -> Any:
        """Create the PyMC random variable (or constant) ``name`` in the current model context.

        Examples
        --------
        >>> import pymc as pm
        >>> with pm.Model() as m:
        ...     alpha = Prior("HalfNormal", sigma=1.0).create("alpha")
        >>> [v.name for v in m.free_RVs]
        ['alpha']
        """
        import pymc as pm
        import pytensor.tensor as pt

        if self.is_fixed:
            return pt.constant(float(self.params["value"]), name=name)
        return getattr(pm, self.dist)(name, **{**self.params, **kwargs})

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dictionary (``dist`` plus the parameters)."""
        return {"dist": self.dist, **self.params}

    def to_json(self) -> str:
        """The prior as a canonical JSON string (sorted keys)."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Prior:
        """Rebuild a prior from :meth:`to_dict` output."""
        if not isinstance(data, Mapping):
            raise TypeError(
                "Prior.from_dict takes a mapping such as {'dist': 'Normal', 'mu': 0.3, "
                f"'sigma': 0.1}}, got {type(data).__name__}: {data!r}"
            )
        data = dict(data)
        try:
            dist = data.pop("dist")
        except KeyError:
            raise ValueError(f"prior dictionary {data!r} has no 'dist' entry") from None
        return cls(dist, **data)

    @classmethod
    def parse(cls, text: str) -> Prior:
        """Parse ``"Normal(mu=0.3, sigma=0.1)"`` or ``"fixed(0.34)"`` (used by the command line).

        Examples
        --------
        >>> Prior.parse("Normal(mu=0.3, sigma=0.1)")
        Prior('Normal', mu=0.3, sigma=0.1)
        """
        import ast

        if not isinstance(text, str):
            raise TypeError(
                "Prior.parse takes text such as 'Normal(mu=0.3, sigma=0.1)' or 'fixed(0.34)', "
                f"got {type(text).__name__}: {text!r}"
            )
        text = text.strip()
        try:
            node = ast.parse(text, mode="eval").body
        except SyntaxError as err:
            raise ValueError(f"cannot parse prior {text!r}: {err.msg}") from None
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            raise ValueError(f"cannot parse prior {text!r}: expected e.g. Normal(mu=0, sigma=1)")
        if node.func.id.lower() == "fixed":
            if len(node.args) != 1 or node.keywords:
                raise ValueError(f"cannot parse prior {text!r}: use fixed(VALUE)")
            try:
                value = ast.literal_eval(node.args[0])
            except (ValueError, SyntaxError, TypeError):
                value = ast.unparse(node.args[0])
            return cls.fixed(value)
        if node.args:
            raise ValueError(f"cannot parse prior {text!r}: give parameters by name")
        params = {}
        for kw in node.keywords:
            if kw.arg is None:
                raise ValueError(f"cannot parse prior {text!r}: give parameters by name")
            try:
                params[kw.arg] = ast.literal_eval(kw.value)
            except (ValueError, SyntaxError, TypeError):
                raise ValueError(
                    f"cannot parse prior {text!r}: {kw.arg}={ast.unparse(kw.value)} is not a number"
                ) from None
        return cls(node.func.id, **params)

    def mean_and_sd(self) -> tuple[float, float]:
        """Location and spread of the prior (the value and 0 for a fixed parameter)."""
        if self.is_fixed:
            return float(self.params["value"]), 0.0
        import pymc as pm

        draws = pm.draw(getattr(pm, self.dist).dist(**self.params), draws=4000, random_seed=0)
        return float(np.mean(draws)), float(np.std(draws))


def merge_priors(
    defaults: Mapping[str, Prior], overrides: Mapping[str, Prior | Mapping[str, Any]] | None
) -> dict[str, Prior]:
    """Return ``defaults`` with ``overrides`` applied by name; an unknown name is an error.

    An override is a :class:`Prior`, its dictionary form or a bare number (held fixed). A fixed
    value outside the support of the parameter's default prior (:attr:`Prior.support`, e.g. a
    negative exponent whose default is LogNormal) is an error naming the parameter.

    Examples
    --------
    >>> d = {"alpha": Prior("HalfNormal", sigma=1.0)}
    >>> merge_priors(d, {"alpha": Prior("Normal", mu=0.3, sigma=0.05)})["alpha"].dist
    'Normal'
    >>> merge_priors(d, {"alpa": Prior("Normal", mu=0.3, sigma=0.05)})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown prior name 'alpa'; this model's parameters are: alpha (did you mean ...?)
    >>> merge_priors(d, {"alpha": Prior.fixed(-0.3)})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: prior for 'alpha': fixed value -0.3 is outside the parameter's support (0, inf) ...
    """
    if overrides is not None and not isinstance(overrides, Mapping):
        raise TypeError(
            "priors must be a mapping of parameter name to Prior, e.g. "
            f"{{'alpha': Prior('Normal', mu=0.3, sigma=0.1)}}, got {overrides!r}"
        )
    merged = dict(defaults)
    for name, prior in (overrides or {}).items():
        if not isinstance(name, str):
            raise TypeError(f"priors: a key must be a parameter name (str), got {name!r}")
        if name not in defaults:
            import difflib

            close = difflib.get_close_matches(name, list(defaults), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(
                f"unknown prior name {name!r}; this model's parameters are: "
                f"{', '.join(defaults)}{hint}"
            )
        try:
            if isinstance(prior, Mapping):
                prior = Prior.from_dict(prior)
            if isinstance(prior, int | float | np.integer | np.floating) and not isinstance(
                prior, bool
            ):
                prior = Prior.fixed(prior)
        except ValueError as err:
            raise ValueError(f"prior for {name!r}: {err}") from None
        if not isinstance(prior, Prior):
            raise TypeError(
                f"prior for {name!r} must be a bayescale.Prior, got {type(prior).__name__} "
                f"{prior!r}"
            )
        default = defaults[name]
        if prior.is_fixed and not default.is_fixed and not default.allows(prior.params["value"]):
            interval = default.support_text()
            raise ValueError(
                f"prior for {name!r}: fixed value {prior.params['value']!r} is outside the "
                f"parameter's support {interval} (its default prior is {default!r}); "
                f"give a value in {interval}"
            )
        merged[name] = prior
    return merged
