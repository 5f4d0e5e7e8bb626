"""Array namespaces: one law expression, evaluated by numpy or by pytensor.

A law's expression is written once as a function of ``xp`` (an array namespace), its inputs and
its parameters. :data:`numpy_ns` evaluates it on posterior draws in the analysis layer and
:data:`pytensor_ns` builds the symbolic graph that PyMC samples. Only the functions listed here
may be used inside a law expression; both namespaces implement all of them with the same
semantics, which the test suite checks on random inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from typing import Any

import numpy as np
from scipy import special

__all__ = ["ArrayNamespace", "get_namespace", "numpy_ns", "pytensor_ns"]


def _np_sigmoid(x: Any) -> Any:
    return special.expit(x)


def _np_log_sigmoid(x: Any) -> Any:
    return -np.logaddexp(0.0, -np.asarray(x))


def _np_softplus(x: Any) -> Any:
    return np.logaddexp(0.0, x)


@dataclass(frozen=True)
class ArrayNamespace:
    """The functions a law expression may call, bound to one array library.

    Examples
    --------
    >>> from bayescale.xp import numpy_ns as xp
    >>> round(float(xp.logsumexp([xp.log(2.0), xp.log(3.0)])), 12)  # log(5)
    1.609437912434
    """

    name: str
    exp: Any
    log: Any
    log1p: Any
    expm1: Any
    sqrt: Any
    abs: Any
    logaddexp: Any
    sigmoid: Any
    log_sigmoid: Any
    softplus: Any
    where: Any
    minimum: Any
    maximum: Any
    asarray: Any
    zeros_like: Any
    ones_like: Any

    def logsumexp(self, terms: list[Any]) -> Any:
        """Elementwise log(sum(exp(t) for t in terms)), folded pairwise with ``logaddexp``."""
        return reduce(self.logaddexp, terms)

    def power(self, x: Any, p: Any) -> Any:
        """x**p for positive x, computed as exp(p·log x)."""
        return self.exp(p * self.log(x))


numpy_ns = ArrayNamespace(
    name="numpy",
    exp=np.exp,
    log=np.log,
    log1p=np.log1p,
    expm1=np.expm1,
    sqrt=np.sqrt,
    abs=np.abs,
    logaddexp=np.logaddexp,
    sigmoid=_np_sigmoid,
    log_sigmoid=_np_log_sigmoid,
    softplus=_np_softplus,
    where=np.where,
    minimum=np.minimum,
    maximum=np.maximum,
    asarray=np.asarray,
    zeros_like=np.zeros_like,
    ones_like=np.ones_like,
)


def _make_pytensor_ns() -> ArrayNamespace:
    import pytensor.tensor as pt

    return ArrayNamespace(
        name="pytensor",
        exp=pt.exp,
        log=pt.log,
        log1p=pt.log1p,
        expm1=pt.expm1,
        sqrt=pt.sqrt,
        abs=pt.abs,
        logaddexp=pt.logaddexp,
        sigmoid=pt.sigmoid,
        log_sigmoid=lambda x: -pt.softplus(-x),
        softplus=pt.softplus,
        where=pt.switch,
        minimum=pt.minimum,
        maximum=pt.maximum,
        asarray=pt.as_tensor_variable,
        zeros_like=pt.zeros_like,
        ones_like=pt.ones_like,
    )


class _LazyNamespace:
    """Defers importing pytensor until a symbolic graph is actually built."""

    _ns: ArrayNamespace | None = None

    def __getattr__(self, item: str) -> Any:
        if type(self)._ns is None:
            type(self)._ns = _make_pytensor_ns()
        return getattr(type(self)._ns, item)


pytensor_ns: ArrayNamespace = _LazyNamespace()  # type: ignore[assignment]


def get_namespace(name: str) -> ArrayNamespace:
    """Return the array namespace called ``name`` (``"numpy"`` or ``"pytensor"``).

    Examples
    --------
    >>> get_namespace("numpy").name
    'numpy'
    """
    if name == "numpy":
        return numpy_ns
    if name == "pytensor":
        return pytensor_ns
    raise ValueError(f"unknown array namespace {name!r}; expected 'numpy' or 'pytensor'")
