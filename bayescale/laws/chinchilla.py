"""Chinchilla Approach 3: L(N, D) = E + A / N^α + B / D^β (Hoffmann et al. 2022).

Fitted in log space as log L = logsumexp(log E, log A − α log N, log B − β log D), the form
Besiroglu et al. (2024) used. The sampled parameters are the log of each term at the reference
scales of the data (mean log N and mean log D), so that the intercepts are not strongly correlated
with the exponents:

    log A_ref = log A − α · logN_ref,      log B_ref = log B − β · logD_ref.

Default priors (weakly informative, loss in nats):

* ``alpha``, ``beta`` ~ LogNormal(log 0.3, 0.7): exponents between ≈0.08 and ≈1.2 (95%).
* ``log_E`` ~ Normal(0.5, 1.0): irreducible loss E between ≈0.2 and ≈12 nats (95%).
* ``log_A_ref``, ``log_B_ref`` ~ Normal(−1, 1.5): each reducible term at the data's centre
  between ≈0.02 and ≈7 nats (95%).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..law import Parameter, ScalingLaw, register_law
from ..priors import Prior
from ..xp import ArrayNamespace
from ._common import exponent_prior, mean_log, nd_design

#: Besiroglu et al. (2024) point estimate as A, B, E, α, β: the example truth.
EXAMPLE_TRUTH = {"A": 482.01, "B": 2085.43, "E": 1.817, "alpha": 0.3478, "beta": 0.3659}


def _reference(inputs: Mapping[str, np.ndarray]) -> dict[str, float]:
    return mean_log(inputs, "N", "D")


def _natural(xp: ArrayNamespace, p: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
    alpha, beta = p["alpha"], p["beta"]
    return {
        "A": xp.exp(p["log_A_ref"] + alpha * ref["logN_ref"]),
        "B": xp.exp(p["log_B_ref"] + beta * ref["logD_ref"]),
        "E": xp.exp(p["log_E"]),
        "alpha": alpha,
        "beta": beta,
    }


def sampled_from_natural(
    xp: ArrayNamespace, q: Mapping[str, Any], ref: Mapping[str, float]
) -> dict:
    """The inverse of :func:`_natural`: log_E, log_A_ref, log_B_ref, α, β from A, B, E, α, β.
    Without ``beta`` (the shared-exponent law) α serves both."""
    alpha = q["alpha"]
    beta = q["beta"] if "beta" in q else alpha
    return {
        "log_E": xp.log(q["E"]),
        "log_A_ref": xp.log(q["A"]) - alpha * ref["logN_ref"],
        "log_B_ref": xp.log(q["B"]) - beta * ref["logD_ref"],
        "alpha": alpha,
        "beta": beta,
    }


def log_loss(xp: ArrayNamespace, q: Mapping[str, Any], log_n: Any, log_d: Any) -> Any:
    """log(E + A/n^α + B/d^β) from log n and log d: the one Chinchilla formula, also used by the
    variants that replace N or D with an effective count (precision, data-constrained)."""
    return xp.logsumexp(
        [
            xp.log(q["E"]),
            xp.log(q["A"]) - q["alpha"] * log_n,
            xp.log(q["B"]) - q["beta"] * log_d,
        ]
    )


def log_g(xp: ArrayNamespace, q: Mapping[str, Any]) -> Any:
    """log G with G = (αA/(βB))^(1/(α+β)), the scale of the compute-optimal split."""
    alpha, beta = q["alpha"], q["beta"]
    return (xp.log(alpha) + xp.log(q["A"]) - xp.log(beta) - xp.log(q["B"])) / (alpha + beta)


def _expression(xp: ArrayNamespace, x: Mapping[str, Any], q: Mapping[str, Any]) -> Any:
    return log_loss(xp, q, xp.log(x["N"]), xp.log(x["D"]))


def _derived(xp: ArrayNamespace, q: Mapping[str, Any]) -> dict:
    total = q["alpha"] + q["beta"]
    return {"a": q["beta"] / total, "b": q["alpha"] / total}


def _optimum(xp: ArrayNamespace, q: Mapping[str, Any], C: Any) -> dict:
    """N*, D* minimising L subject to 6ND = C (closed form)."""
    alpha, beta = q["alpha"], q["beta"]
    total = alpha + beta
    g = log_g(xp, q)
    log_c6 = xp.log(C / 6.0)
    return {
        "N": xp.exp(g + (beta / total) * log_c6),
        "D": xp.exp(-g + (alpha / total) * log_c6),
    }


chinchilla = register_law(
    ScalingLaw(
        name="chinchilla",
        version="1",
        inputs=("N", "D"),
        parameters=(
            Parameter(
                "log_E",
                Prior("Normal", mu=0.5, sigma=1.0),
                "log of the irreducible loss E",
            ),
            Parameter(
                "log_A_ref",
                Prior("Normal", mu=-1.0, sigma=1.5),
                "log of the model-size term A/N^α at the reference size exp(logN_ref)",
            ),
            Parameter(
                "log_B_ref",
                Prior("Normal", mu=-1.0, sigma=1.5),
                "log of the data term B/D^β at the reference tokens exp(logD_ref)",
            ),
            Parameter(
                "alpha",
                exponent_prior(0.3, 0.7),
                "model-size exponent α",
            ),
            Parameter(
                "beta",
                exponent_prior(0.3, 0.7),
                "data exponent β",
            ),
        ),
        expression=_expression,
        natural=_natural,
        reference=_reference,
        derived=_derived,
        natural_names=("A", "B", "E", "alpha", "beta"),
        optimum=_optimum,
        sampled_from_natural=sampled_from_natural,
        floor="E",
        example_design=nd_design,
        example_truth=EXAMPLE_TRUTH,
        example_size=80,
        description="L = E + A/N^α + B/D^β (Chinchilla Approach 3)",
        citation=(
            "Hoffmann et al. 2022, arXiv:2203.15556; parameterisation of Besiroglu et al. 2024, "
            "arXiv:2404.10102"
        ),
        notes={
            "a": "allocation exponent of N*: β/(α+β)",
            "b": "allocation exponent of D*: α/(α+β)",
        },
    )
)
