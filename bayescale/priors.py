"""Prior specifications that can be written to a file and read back.

A :class:`Prior` names a PyMC distribution and its parameters. It holds plain numbers only, so a
fit's priors are saved as JSON next to the posterior and rebuilt exactly on load (no pickles).
``Prior.fixed(value)`` pins a parameter to a constant instead of sampling it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Prior", "merge_priors"]

_FIXED = "Fixed"


def _plain(value: Any) -> Any:
    """Convert numpy scalars/arrays to JSON-friendly Python numbers and lists."""
    if isinstance(value, np.ndarray):
        return value.tolist()
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
        The distribution's parameters, as numbers or lists of numbers.

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
    """

    dist: str
    params: dict[str, Any] = field(default_factory=dict)

    def __init__(self, dist: str, **params: Any) -> None:
        if not isinstance(dist, str) or not dist:
            raise ValueError(f"a prior needs a distribution name, got {dist!r}")
        clean = {k: _plain(v) for k, v in params.items()}
        for key, value in clean.items():
            arr = np.asarray(value, dtype=float) if not isinstance(value, str) else None
            if arr is not None and not np.all(np.isfinite(arr)):
                raise ValueError(f"prior {dist}: parameter {key}={value!r} is not finite")
        if dist == _FIXED and set(clean) != {"value"}:
            raise ValueError("Prior.fixed takes exactly one parameter, 'value'")
        if dist != _FIXED:
            import pymc as pm

            cls = getattr(pm, dist, None)
            if cls is None or not hasattr(cls, "dist"):
                raise ValueError(f"{dist!r} is not a PyMC distribution (e.g. 'Normal', 'Gamma')")
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
        return cls(_FIXED, value=float(value))

    @property
    def is_fixed(self) -> bool:
        """True when the parameter is a constant."""
        return self.dist == _FIXED

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
        return getattr(pm, self.dist)(name, **self.params, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dictionary (``dist`` plus the parameters)."""
        return {"dist": self.dist, **self.params}

    def to_json(self) -> str:
        """The prior as a canonical JSON string (sorted keys)."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Prior:
        """Rebuild a prior from :meth:`to_dict` output."""
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
            return cls.fixed(ast.literal_eval(node.args[0]))
        if node.args:
            raise ValueError(f"cannot parse prior {text!r}: give parameters by name")
        params = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords}
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

    Examples
    --------
    >>> d = {"alpha": Prior("HalfNormal", sigma=1.0)}
    >>> merge_priors(d, {"alpha": Prior("Normal", mu=0.3, sigma=0.05)})["alpha"].dist
    'Normal'
    >>> merge_priors(d, {"alpa": Prior("Normal", mu=0.3, sigma=0.05)})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown prior name 'alpa'; this model's parameters are: alpha (did you mean ...?)
    """
    merged = dict(defaults)
    for name, prior in (overrides or {}).items():
        if name not in defaults:
            import difflib

            close = difflib.get_close_matches(name, list(defaults), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(
                f"unknown prior name {name!r}; this model's parameters are: "
                f"{', '.join(defaults)}{hint}"
            )
        if isinstance(prior, Mapping):
            prior = Prior.from_dict(prior)
        if isinstance(prior, int | float) and not isinstance(prior, bool):
            prior = Prior.fixed(prior)
        if not isinstance(prior, Prior):
            raise TypeError(f"prior for {name!r} must be a bayescale.Prior, got {type(prior)}")
        merged[name] = prior
    return merged
