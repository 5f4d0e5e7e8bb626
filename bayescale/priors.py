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

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .prior_checks import (  # noqa: F401  (moved; old import paths kept)
    _ABSTRACT,
    _ALIASES,
    _DEFAULT_SCALE_ALLOWED,
    _FIXED,
    _MATRIX_PARAMETERS,
    _NOT_PARAMETERS,
    _POSITIVE_ALWAYS,
    _POSITIVE_BY_DIST,
    _POSITIVE_SUPPORT,
    _SCALE_REQUIRED,
    _SHAPE_KEYWORDS,
    _UNIT_SUPPORT,
    _build_problem,
    _check_distribution,
    _check_number,
    _check_shape,
    _is_discrete,
    _number_error,
    _plain,
    _pymc_distributions,
    _signature,
    _unknown_distribution,
    accepted_keywords,
)

__all__ = ["ImproperPriorWarning", "Prior", "accepted_keywords", "merge_priors"]

#: improper priors (density 1 on the whole line or half-line)
_IMPROPER = frozenset({"Flat", "HalfFlat"})


class ImproperPriorWarning(UserWarning):
    """A parameter was given an improper prior (``Flat``, ``HalfFlat``): its posterior is proper
    only if the runs pin the parameter, which a scaling law's exponents and scales often are
    not (a flat exponent with a free floor lets the posterior run off to infinity)."""


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
            hint = f"; text is read by Prior.parse({prior!r})" if isinstance(prior, str) else ""
            raise TypeError(
                f"prior for {name!r} must be a bayescale.Prior, got {type(prior).__name__} "
                f"{prior!r}{hint}"
            )
        default = defaults[name]
        if prior.is_fixed and not default.is_fixed and not default.allows(prior.params["value"]):
            interval = default.support_text()
            raise ValueError(
                f"prior for {name!r}: fixed value {prior.params['value']!r} is outside the "
                f"parameter's support {interval} (its default prior is {default!r}); "
                f"give a value in {interval}"
            )
        if prior.dist in _IMPROPER and default.dist not in _IMPROPER:
            import warnings

            warnings.warn(
                f"prior for {name!r}: {prior!r} is improper (no finite total mass), so the "
                f"posterior of {name!r} is proper only if the runs alone pin it, and "
                "bs.prior_predictive and SBC cannot draw from it; give a proper prior, e.g. the "
                f"default {default!r} widened, or bs.load_card(...).as_priors()",
                ImproperPriorWarning,
                stacklevel=3,
            )
        merged[name] = prior
    return merged
