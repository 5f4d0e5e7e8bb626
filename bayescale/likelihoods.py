"""Observation models for a law's log output: Student-t (default) and Normal; for accuracies,
Binomial, Beta-binomial and Beta (appended at the end of this module).

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
from typing import Any, NamedTuple

import numpy as np
from scipy import special

from .priors import Prior
from .xp import ArrayNamespace, numpy_ns, pytensor_ns

__all__ = [
    "InvalidRows",
    "Likelihood",
    "get_likelihood",
    "list_likelihoods",
    "outside_domain",
    "register_likelihood",
]


def _log(y: Any, **_: Any) -> np.ndarray:
    return np.log(y)


def _exp(obs: Any, **_: Any) -> np.ndarray:
    return np.exp(obs)


#: What each ``output_domain`` requires of the output, as shown in error messages.
DOMAIN_RULES = {"positive": "be > 0", "unit": "lie in [0, 1]"}


def outside_domain(domain: str, values: Any) -> np.ndarray:
    """Mask of the finite ``values`` outside ``domain`` (``"positive"``: > 0; ``"unit"``: [0, 1]).

    NaN and infinite values are not flagged here: they are reported (or refused) separately.

    Examples
    --------
    >>> outside_domain("unit", [0.0, 1.0, 1.5, -0.1, np.nan]).tolist()
    [False, False, True, True, False]
    """
    v = np.asarray(values, dtype=float)
    if domain == "unit":
        out = (v < 0.0) | (v > 1.0)
    elif domain == "positive":
        out = v <= 0.0
    else:
        raise ValueError(f"unknown output domain {domain!r}; choose 'positive' or 'unit'")
    return np.isfinite(v) & out


class InvalidRows(NamedTuple):
    """Runs a likelihood cannot observe, as found by its ``invalid_rows`` hook.

    ``mask`` is True at each invalid run, ``values`` is the value to show for each run in the
    error message and ``rule`` says what must hold, with ``{output}`` and each extra column's
    name as format fields (filled with the user's column labels).
    """

    mask: np.ndarray
    values: np.ndarray
    rule: str


@dataclass(frozen=True)
class Likelihood:
    """An observation model: how a run's output is observed around the law's expectation.

    The law gives ``mu``, the log of the expected output. The likelihood says what is observed
    (``transform`` maps the output column to the observed variable, ``inverse`` maps back), the
    distribution of the observation (``build`` for PyMC, ``logpdf`` and ``sample`` in numpy),
    its noise parameters with default priors, the valid range of the output
    (``output_domain``: ``"positive"`` or ``"unit"`` for proportions) and any further data
    columns it needs (``extra_columns``, e.g. the number of items of a benchmark).
    ``invalid_rows(y, **extra)``, if set, finds runs inside that range that the likelihood still
    cannot observe (an :class:`InvalidRows`, or None when all are fine); ``prepare_data`` reports
    them by row.

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
    invalid_rows: Callable[..., InvalidRows | None] | None = None

    def observed_name(self, output: str) -> str:
        """Name of the observed variable for a law whose output column is ``output``."""
        return f"{self.observed_prefix}{output}"

    def outside_domain(self, values: Any) -> np.ndarray:
        """Mask of the finite ``values`` outside :attr:`output_domain`."""
        return outside_domain(self.output_domain, values)


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


# The log densities below are written out with scipy.special (scipy.stats is slow to import and
# would add a second to every fresh process); tests/test_likelihoods.py checks them against
# scipy.stats.


def _logpdf_studentt(y: Any, mu: Any, sigma: Any, nu: Any) -> np.ndarray:
    z2 = ((np.asarray(y) - mu) / sigma) ** 2
    return (
        special.gammaln((nu + 1.0) / 2.0)
        - special.gammaln(nu / 2.0)
        - 0.5 * np.log(nu * np.pi)
        - np.log(sigma)
        - (nu + 1.0) / 2.0 * np.log1p(z2 / nu)
    )


def _logpdf_normal(y: Any, mu: Any, sigma: Any) -> np.ndarray:
    z = (np.asarray(y) - mu) / sigma
    return -0.5 * np.log(2.0 * np.pi) - np.log(sigma) - 0.5 * z * z


def _log_choose(n: Any, k: Any) -> np.ndarray:
    return special.gammaln(n + 1.0) - special.gammaln(k + 1.0) - special.gammaln(n - k + 1.0)


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
    """Return the likelihood called ``name`` (e.g. ``"studentt"``, ``"normal"``, ``"beta"``).

    Examples
    --------
    >>> get_likelihood("normal").name
    'normal'
    """
    if isinstance(name, Likelihood):
        return name
    key = str(name).lower().replace("-", "").replace("_", "")
    if key not in _LIKELIHOODS:
        import difflib

        close = difflib.get_close_matches(key, sorted(_LIKELIHOODS), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ValueError(
            f"unknown likelihood {name!r}; {hint}choose one of {', '.join(sorted(_LIKELIHOODS))}"
        )
    return _LIKELIHOODS[key]


def list_likelihoods() -> list[str]:
    """Names of the available likelihoods.

    Examples
    --------
    >>> list_likelihoods()
    ['beta', 'betabinomial', 'binomial', 'normal', 'studentt']
    """
    return sorted(_LIKELIHOODS)


# ---------------------------------------------------------------------- accuracy-type outputs
# Laws of accuracy-type metrics (emergence, downstream) give ``mu = log p``, the log of the
# expected proportion of items answered correctly. The observation models below act on
# proportions; probabilities are kept inside [P_MIN, 1 - P_MIN] so that a curve whose ceiling is
# exactly 1 never gives a zero-probability observation.

#: Smallest / largest (1 - P_MIN) expected proportion passed to a count or proportion likelihood.
P_MIN = 1e-9
#: Squeeze of the ``beta`` likelihood: y' = SQUEEZE + (1 - 2·SQUEEZE)·y (see ``_squeeze``).
SQUEEZE = 5e-4


#: Largest distance of accuracy × n_items from a whole number, per item of the benchmark, that
#: the binomial likelihood reads as floating-point error (0.29 × 100 = 28.999999999999996)
#: rather than as a fractional count of correct items.
WHOLE_TOLERANCE = 1e-6


def _prob(xp: ArrayNamespace, mu: Any) -> Any:
    """The expected proportion exp(mu), kept inside [P_MIN, 1 - P_MIN]."""
    return xp.minimum(xp.maximum(xp.exp(xp.asarray(mu)), P_MIN), 1.0 - P_MIN)


def _shape(p: Any, phi: Any) -> tuple[Any, Any]:
    """Beta shape parameters (a, b) of mean ``p`` and precision ``phi``."""
    return p * phi, (1.0 - p) * phi


def _fractional_counts(y: Any, n_items: Any) -> tuple[np.ndarray, np.ndarray]:
    """accuracy × n_items, and a mask of the entries not whole to WHOLE_TOLERANCE·n_items."""
    n = np.asarray(n_items, dtype=float)
    k = np.asarray(y, dtype=float) * n
    off = np.abs(k - np.round(k))
    return k, np.isfinite(k) & (off > WHOLE_TOLERANCE * np.abs(n))


_NOT_WHOLE = (
    "must be a whole number of correct items for the binomial likelihood (use "
    "likelihood='betabinomial', which rounds to a nominal item count, or 'beta')"
)


def _binomial_invalid_rows(y: Any, n_items: Any, **_: Any) -> InvalidRows | None:
    k, fractional = _fractional_counts(y, n_items)
    if not fractional.any():
        return None
    rule = "{output} × {n_items} " + _NOT_WHOLE + "; accuracy × n_items in "
    return InvalidRows(mask=fractional, values=k, rule=rule)


def _counts(y: Any, n_items: Any, **_: Any) -> np.ndarray:
    """Numbers of correct items behind the accuracies ``y``, rounded to whole items.

    :func:`~bayescale.data.prepare_data` checks every run with the same rule (accuracy ×
    n_items whole to WHOLE_TOLERANCE·n_items, see ``_binomial_invalid_rows``) and names the
    offending rows; here the product is rounded so that floating-point error never reaches the
    binomial, and a product that is not whole is refused with its positions.
    """
    k, fractional = _fractional_counts(y, n_items)
    bad = np.flatnonzero(np.ravel(fractional))
    if bad.size:
        raise ValueError(
            "accuracy × n_items " + _NOT_WHOLE + f"; not so at {bad.size} position(s): "
            f"{bad[:8].tolist()}"
        )
    return np.round(k)


def _nominal_counts(y: Any, n_items: Any, **_: Any) -> np.ndarray:
    return np.round(np.asarray(y, dtype=float) * np.asarray(n_items, dtype=float))


def _proportion(k: Any, n_items: Any, **_: Any) -> np.ndarray:
    return np.asarray(k, dtype=float) / np.asarray(n_items, dtype=float)


def _build_binomial(
    name: str, mu: Any, noise: Mapping[str, Any], observed: Any, extra: Any = None, **kw: Any
) -> Any:
    import pymc as pm

    p = _prob(pytensor_ns, mu)
    return pm.Binomial(name, n=extra["n_items"], p=p, observed=observed, **kw)


def _logpdf_binomial(k: Any, mu: Any, n_items: Any) -> np.ndarray:
    p = _prob(numpy_ns, mu)
    return _log_choose(n_items, k) + special.xlogy(k, p) + special.xlog1py(n_items - k, -p)


def _sample_binomial(rng: np.random.Generator, mu: Any, n_items: Any) -> np.ndarray:
    p, n = np.broadcast_arrays(_prob(numpy_ns, mu), np.asarray(n_items, dtype=float))
    return rng.binomial(n.astype(np.int64), p).astype(float)


def _build_betabinomial(
    name: str, mu: Any, noise: Mapping[str, Any], observed: Any, extra: Any = None, **kw: Any
) -> Any:
    import pymc as pm

    a, b = _shape(_prob(pytensor_ns, mu), noise["phi"])
    return pm.BetaBinomial(name, n=extra["n_items"], alpha=a, beta=b, observed=observed, **kw)


def _logpdf_betabinomial(k: Any, mu: Any, phi: Any, n_items: Any) -> np.ndarray:
    a, b = _shape(_prob(numpy_ns, mu), phi)
    return _log_choose(n_items, k) + special.betaln(k + a, n_items - k + b) - special.betaln(a, b)


def _sample_betabinomial(rng: np.random.Generator, mu: Any, phi: Any, n_items: Any) -> np.ndarray:
    p, phi, n = np.broadcast_arrays(_prob(numpy_ns, mu), phi, np.asarray(n_items, dtype=float))
    q = rng.beta(*_shape(p, phi))
    return rng.binomial(n.astype(np.int64), q).astype(float)


def _squeeze(y: Any, **_: Any) -> np.ndarray:
    """Map a proportion in [0, 1] into [SQUEEZE, 1 - SQUEEZE].

    This is Smithson & Verkuilen's (2006) transformation y' = (y·(n − 1) + 1/2)/n with a fixed
    nominal n = 1/(2·SQUEEZE) = 1000: an accuracy of exactly 0 or 1 is read as half an item away
    from the boundary of a 1000-item benchmark, which keeps the Beta density finite without
    dropping the point. Proportions strictly inside (0, 1) move by at most SQUEEZE.
    """
    return SQUEEZE + (1.0 - 2.0 * SQUEEZE) * np.asarray(y, dtype=float)


def _unsqueeze(obs: Any, **_: Any) -> np.ndarray:
    """Inverse of :func:`_squeeze`; draws beyond the squeezed range become exact 0 or 1."""
    return np.clip((np.asarray(obs, dtype=float) - SQUEEZE) / (1.0 - 2.0 * SQUEEZE), 0.0, 1.0)


def _beta_mean(p: Any) -> Any:
    return SQUEEZE + (1.0 - 2.0 * SQUEEZE) * p


def _build_beta(
    name: str, mu: Any, noise: Mapping[str, Any], observed: Any, extra: Any = None, **kw: Any
) -> Any:
    import pymc as pm

    a, b = _shape(_beta_mean(_prob(pytensor_ns, mu)), noise["phi"])
    return pm.Beta(name, alpha=a, beta=b, observed=observed, **kw)


def _logpdf_beta(y: Any, mu: Any, phi: Any) -> np.ndarray:
    a, b = _shape(_beta_mean(_prob(numpy_ns, mu)), phi)
    return (
        special.xlogy(a - 1.0, y) + special.xlog1py(b - 1.0, -np.asarray(y)) - special.betaln(a, b)
    )


def _sample_beta(rng: np.random.Generator, mu: Any, phi: Any) -> np.ndarray:
    m, phi = np.broadcast_arrays(_beta_mean(_prob(numpy_ns, mu)), phi)
    return rng.beta(*_shape(m, phi))


_PHI_PRIOR = Prior("LogNormal", mu=float(np.log(50.0)), sigma=1.5)

for _lik in (
    Likelihood(
        name="binomial",
        noise_priors={},
        build=_build_binomial,
        logpdf=_logpdf_binomial,
        sample=_sample_binomial,
        description=(
            "Binomial number of correct items out of n_items (a data column) with probability "
            "equal to the expected accuracy; for benchmarks whose item count is known"
        ),
        transform=_counts,
        inverse=_proportion,
        observed_prefix="successes_",
        output_domain="unit",
        extra_columns=("n_items",),
        invalid_rows=_binomial_invalid_rows,
    ),
    Likelihood(
        name="betabinomial",
        noise_priors={"phi": _PHI_PRIOR},
        build=_build_betabinomial,
        logpdf=_logpdf_betabinomial,
        sample=_sample_betabinomial,
        description=(
            "Beta-binomial count out of n_items (a data column, may be a nominal item count: "
            "accuracy × n_items is rounded) with mean equal to the expected accuracy and "
            "precision phi ~ LogNormal(log 50, 1.5); phi absorbs scatter between models beyond "
            "item sampling. Exact 0 and 1 are ordinary counts"
        ),
        transform=_nominal_counts,
        inverse=_proportion,
        observed_prefix="successes_",
        output_domain="unit",
        extra_columns=("n_items",),
    ),
    Likelihood(
        name="beta",
        noise_priors={"phi": _PHI_PRIOR},
        build=_build_beta,
        logpdf=_logpdf_beta,
        sample=_sample_beta,
        description=(
            "Beta on proportions with mean equal to the expected accuracy and precision "
            "phi ~ LogNormal(log 50, 1.5); accuracies are squeezed into [5e-4, 1 - 5e-4] "
            "(Smithson & Verkuilen 2006 with a nominal 1000 items) so exact 0 and 1 are kept"
        ),
        transform=_squeeze,
        inverse=_unsqueeze,
        observed_prefix="",
        output_domain="unit",
    ),
):
    register_likelihood(_lik)
