"""bayescale: Bayesian neural scaling laws.

Fit a scaling law to training runs with NUTS and turn the posterior into the quantities a
training budget is decided with.

>>> import bayescale as bs
>>> runs = bs.load_dataset("chinchilla_besiroglu2024")            # doctest: +SKIP
>>> fit = bs.fit("chinchilla", runs, random_seed=0)               # doctest: +SKIP
>>> bs.compute_optimal(fit, compute=[1e21, 5.88e23])              # doctest: +SKIP
"""

from . import capabilities, plots, sampling_laws, testing, xp
from ._api import CI_PROB
from .analysis import compute_optimal, predict_loss
from .approach1 import Approach1Result, fit_approach1, isoflop_slices, training_envelope
from .batch import BatchResult, FitJob, JobResult, fit_many
from .capabilities import CapabilityFit, fit_capabilities
from .cards import Card, list_cards, load_card
from .data import DataWarning
from .datasets import list_datasets, load_dataset
from .decisions import (
    CardComparison,
    compare_to_card,
    compute_for_loss,
    data_wall,
    decision_summary,
    inference_optimal,
    loss_at,
    overtraining_penalty,
)
from .emergence import chain, emergence_threshold, predict_accuracy
from .export import export_summary, read_summary
from .fit import DiagnosticWarning, Fit, SmallDataWarning, fit
from .holdout import score_holdout
from .isoflops import IsoflopQualityWarning, IsoflopResult, compare_approaches, fit_isoflops
from .law import (
    IdentifiabilityWarning,
    MultiStart,
    Parameter,
    ScalingLaw,
    get_law,
    list_laws,
    register_law,
    register_law_family,
)
from .likelihoods import Likelihood, get_likelihood, list_likelihoods, register_likelihood
from .misallocation import misallocation_cost, rule_of_thumb_check
from .next_runs import NextRunsResult, next_runs
from .plan import Plan, plan
from .plots_groups import plot_groups
from .pooling import NEW_GROUP
from .priors import ImproperPriorWarning, Prior
from .report import report
from .sampling_laws import PassAtKResult, fit_pass_at_k, samples_for_coverage
from .stacking import StackedFit, load_stack, stack
from .tradeoff import Tradeoff, tradeoff
from .validation import (
    BacktestResult,
    CalibrationWarning,
    PredictiveCheck,
    backtest,
    compare,
    posterior_predictive_check,
    prior_predictive,
)

__all__ = [
    "CI_PROB",
    "NEW_GROUP",
    "Approach1Result",
    "BacktestResult",
    "BatchResult",
    "CalibrationWarning",
    "CapabilityFit",
    "Card",
    "CardComparison",
    "DataWarning",
    "DiagnosticWarning",
    "Fit",
    "FitJob",
    "IdentifiabilityWarning",
    "ImproperPriorWarning",
    "IsoflopQualityWarning",
    "IsoflopResult",
    "JobResult",
    "Likelihood",
    "MultiStart",
    "NextRunsResult",
    "Parameter",
    "PassAtKResult",
    "Plan",
    "PredictiveCheck",
    "Prior",
    "ScalingLaw",
    "SmallDataWarning",
    "StackedFit",
    "Tradeoff",
    "__version__",
    "backtest",
    "capabilities",
    "chain",
    "compare",
    "compare_approaches",
    "compare_to_card",
    "compute_for_loss",
    "compute_optimal",
    "data_wall",
    "decision_summary",
    "emergence",
    "emergence_threshold",
    "export_summary",
    "fit",
    "fit_approach1",
    "fit_capabilities",
    "fit_isoflops",
    "fit_many",
    "fit_pass_at_k",
    "get_law",
    "get_likelihood",
    "inference_optimal",
    "isoflop_slices",
    "list_cards",
    "list_datasets",
    "list_laws",
    "list_likelihoods",
    "load_card",
    "load_dataset",
    "load_stack",
    "loss_at",
    "misallocation_cost",
    "next_runs",
    "overtraining_penalty",
    "plan",
    "plot_groups",
    "plots",
    "posterior_predictive_check",
    "predict_accuracy",
    "predict_loss",
    "prior_predictive",
    "read_summary",
    "register_law",
    "register_law_family",
    "register_likelihood",
    "report",
    "rule_of_thumb_check",
    "samples_for_coverage",
    "sampling_laws",
    "score_holdout",
    "stack",
    "testing",
    "tradeoff",
    "training_envelope",
    "xp",
]


def __getattr__(name: str) -> str:
    """``bayescale.__version__``, read from the installed metadata when first asked for: the
    lookup scans every folder on ``sys.path`` (0.1-0.3 s here), which ``import bayescale`` need
    not pay."""
    if name != "__version__":
        raise AttributeError(f"module 'bayescale' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("bayescale")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        value = "0.0.0+source"
    globals()["__version__"] = value
    return value
