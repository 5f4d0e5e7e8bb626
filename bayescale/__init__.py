"""bayescale: Bayesian neural scaling laws.

Fit a scaling law to training runs with NUTS and turn the posterior into the quantities a
training budget is decided with.

>>> import bayescale as bs
>>> runs = bs.load_dataset("chinchilla_besiroglu2024")            # doctest: +SKIP
>>> fit = bs.fit("chinchilla", runs, random_seed=0)               # doctest: +SKIP
>>> bs.compute_optimal(fit, compute=[1e21, 5.88e23])              # doctest: +SKIP
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("bayescale")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+source"

from . import testing, xp
from .analysis import compute_optimal, predict_loss
from .cards import Card, list_cards, load_card
from .datasets import list_datasets, load_dataset
from .fit import DiagnosticWarning, Fit, fit
from .law import (
    Parameter,
    ScalingLaw,
    get_law,
    list_laws,
    register_law,
    register_law_family,
)
from .likelihoods import Likelihood, get_likelihood, list_likelihoods, register_likelihood
from .priors import Prior

__all__ = [
    "Card",
    "DiagnosticWarning",
    "Fit",
    "Likelihood",
    "Parameter",
    "Prior",
    "ScalingLaw",
    "__version__",
    "compute_optimal",
    "fit",
    "get_law",
    "get_likelihood",
    "list_cards",
    "list_datasets",
    "list_laws",
    "list_likelihoods",
    "load_card",
    "load_dataset",
    "predict_loss",
    "register_law",
    "register_law_family",
    "register_likelihood",
    "testing",
    "xp",
]
