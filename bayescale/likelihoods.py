"""Observation models for a law's log output: Student-t (default) and Normal.

Both act on ``log(loss)``: the law gives the location ``mu = log L(N, D)`` and the noise is a
relative (multiplicative) error on the loss. The Student-t's heavy tails absorb the few badly
extracted or diverged runs that a Normal likelihood would chase; Besiroglu et al. (2024) removed
such points by hand and used a Huber loss for the same reason.

Each likelihood is data: its noise parameters with default priors, a builder for the PyMC
observation, and numpy versions of its log density and random draws for the analysis layer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from .priors import Prior

__all__ = ["Likelihood", "get_likelihood", "list_likelihoods", "register_likelihood"]


def _log(y: Any, **_: Any) -> np.ndarray:
    return np.log(y)


def _exp(obs: Any, **_: Any) -> np.ndarray:
    return np.exp(obs)


@dataclass(frozen=True)
class Likelihood:
    """An observation model: how a run's output is observed around the law's expectation.

    The law gives ``mu``, the log of the expected output. The likelihood says what is observed
    (``transform`` maps the output column to the observed variable, ``inverse`` maps back), the
    distribution of the observation (``build`` for PyMC, ``logpdf`` and ``sample`` in numpy),
    its noise parameters with default priors, the valid range of the output
    (``output_domain``: ``"positive"`` or ``"unit"`` for proportions) and any further data
    columns it needs (``extra_columns``, e.g. the number of items of a benchmark).

    ``logpdf(obs, mu, **noise, **extra)`` and ``sample(rng, mu, **noise, **extra)`` work on the
    observed scale; ``build(name, mu, noise, observed, extra, **kwargs)`` creates the PyMC
    observation inside a model context.

    Examples
    --------
    >>> import bayescale as bs
    >>> sorted(bs.get_likelihood("studentt").noise_priors)
    ['nu', 'sigma']
    >>> bs.get_likelihood("studentt").observed_name("loss")
    'log_loss'
    """

    name: str
    noise_priors: dict[str, Prior]
    build: Callable[..., Any]
    logpdf: Callable[..., np.ndarray]
    sample: Callable[..., np.ndarray]
    description: str = ""
    transform: Callable[..., np.ndarray] = _log
    inverse: Callable[..., np.ndarray] = _exp
    observed_prefix: str = "log_"
    output_domain: str = "positive"
    extra_columns: tuple[str, ...] = ()

    def observed_name(self, output: str) -> str:
        """Name of the observed variable for a law whose output column is ``output``."""
        return f"{self.observed_prefix}{output}"


def _build_studentt(
    name: str, mu: Any, noise: Mapping[str, Any], observed: Any, extra: Any = None, **kw: Any
) -> Any:
    import pymc as pm

    return pm.StudentT(name, nu=noise["nu"], mu=mu, sigma=noise["sigma"], observed=observed, **kw)


def _build_normal(
    name: str, mu: Any, noise: Mapping[str, Any], observed: Any, extra: Any = None, **kw: Any
) -> Any:
    import pymc as pm

    return pm.Normal(name, mu=mu, sigma=noise["sigma"], observed=observed, **kw)


def _logpdf_studentt(y: Any, mu: Any, sigma: Any, nu: Any) -> np.ndarray:
    return stats.t.logpdf(y, df=nu, loc=mu, scale=sigma)


def _logpdf_normal(y: Any, mu: Any, sigma: Any) -> np.ndarray:
    return stats.norm.logpdf(y, loc=mu, scale=sigma)


def _sample_studentt(rng: np.random.Generator, mu: Any, sigma: Any, nu: Any) -> np.ndarray:
    mu, sigma, nu = np.broadcast_arrays(mu, sigma, nu)
    return mu + sigma * rng.standard_t(nu)


def _sample_normal(rng: np.random.Generator, mu: Any, sigma: Any) -> np.ndarray:
    mu, sigma = np.broadcast_arrays(mu, sigma)
    return mu + sigma * rng.standard_normal(mu.shape)


_LIKELIHOODS = {
    "studentt": Likelihood(
        name="studentt",
        noise_priors={
            "sigma": Prior("HalfNormal", sigma=0.1),
            "nu": Prior("Gamma", alpha=2.0, beta=0.1),
        },
        build=_build_studentt,
        logpdf=_logpdf_studentt,
        sample=_sample_studentt,
        description="Student-t on log output; sigma ~ HalfNormal(0.1), nu ~ Gamma(2, 0.1)",
    ),
    "normal": Likelihood(
        name="normal",
        noise_priors={"sigma": Prior("HalfNormal", sigma=0.1)},
        build=_build_normal,
        logpdf=_logpdf_normal,
        sample=_sample_normal,
        description="Normal on log output; sigma ~ HalfNormal(0.1)",
    ),
}


def register_likelihood(likelihood: Likelihood, *, overwrite: bool = False) -> Likelihood:
    """Make ``likelihood`` available by name to ``fit`` and to saved fits.

    Examples
    --------
    >>> register_likelihood(get_likelihood("normal")).name
    'normal'
    """
    old = _LIKELIHOODS.get(likelihood.name)
    if old is not None and old is not likelihood and not overwrite:
        raise ValueError(f"likelihood {likelihood.name!r} is already registered")
    _LIKELIHOODS[likelihood.name] = likelihood
    return likelihood


def get_likelihood(name: str | Likelihood) -> Likelihood:
    """Return the likelihood called ``name`` (``"studentt"`` or ``"normal"``).

    Examples
    --------
    >>> get_likelihood("normal").name
    'normal'
    """
    if isinstance(name, Likelihood):
        return name
    key = str(name).lower().replace("-", "").replace("_", "")
    if key not in _LIKELIHOODS:
        raise ValueError(
            f"unknown likelihood {name!r}; choose one of {', '.join(sorted(_LIKELIHOODS))}"
        )
    return _LIKELIHOODS[key]


def list_likelihoods() -> list[str]:
    """Names of the available likelihoods.

    Examples
    --------
    >>> list_likelihoods()
    ['normal', 'studentt']
    """
    return sorted(_LIKELIHOODS)
