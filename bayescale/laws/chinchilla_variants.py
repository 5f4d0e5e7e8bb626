"""Chinchilla variants: a shared exponent (α = β) and training precision (Kumar et al. 2024).

``chinchilla_shared_exponent``: L(N, D) = E + A/N^α + B/D^α, the constrained form often fitted
when the data cannot separate the two exponents; the compute-optimal split is then N* ∝ D* ∝
C^(1/2). Sampled parameters and priors are Chinchilla's (``log_E``, ``log_A_ref``,
``log_B_ref`` at the data's mean log N and log D) with the single exponent
``alpha`` ~ LogNormal(log 0.3, 0.7); ``beta`` is reported equal to ``alpha``.

``precision``: L(N, D, P) = E + A/N_eff^α + B/D^β with N_eff = N·(1 − e^(−P/γ)) for training
precision P in bits: low precision shrinks the effective parameter count. Chinchilla's
parameters and priors plus ``log_gamma`` ~ Normal(log 3, 0.7) (γ between ≈0.8 and ≈12 bits, 95%).
γ is only identified when the runs span several precisions. ``log_A_ref`` is the model-size
term at the reference size with N_eff = N (full precision).

Examples
--------
>>> import bayescale as bs
>>> h = bs.load_card("hoffmann2022").params
>>> shared = bs.get_law("chinchilla_shared_exponent")
>>> round(float(shared.evaluate({**h, "beta": h["alpha"]}, N=70e9, D=1.4e12)), 4)
1.804
>>> prec = bs.get_law("precision")
>>> full = float(prec.evaluate({**h, "gamma": 2.5}, N=70e9, D=1.4e12, P=64))
>>> low = float(prec.evaluate({**h, "gamma": 2.5}, N=70e9, D=1.4e12, P=4))
>>> round(full, 4), low > full
(1.9366, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..law import Parameter, ScalingLaw, register_law
from ..priors import Prior
from ..xp import ArrayNamespace
from ._common import exponent_prior, nd_design
from .chinchilla import EXAMPLE_TRUTH, chinchilla, log_loss, sampled_from_natural
from .chinchilla import _derived as _chinchilla_derived
from .chinchilla import _expression as _chinchilla_expression
from .chinchilla import _optimum as _chinchilla_optimum

_INTERCEPTS = tuple(
    p for p in chinchilla.parameters if p.name in ("log_E", "log_A_ref", "log_B_ref")
)


def _shared_natural(xp: ArrayNamespace, p: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
    q = chinchilla.natural(xp, {**p, "beta": p["alpha"]}, ref)
    q["beta"] = p["alpha"] * 1.0  # a separate variable in the posterior, equal to alpha
    return q


def _shared_sampled(xp: ArrayNamespace, q: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
    p = sampled_from_natural(xp, {**q, "beta": q["alpha"]}, ref)
    del p["beta"]
    return p


chinchilla_shared_exponent = register_law(
    ScalingLaw(
        name="chinchilla_shared_exponent",
        version="1",
        inputs=("N", "D"),
        parameters=(
            *_INTERCEPTS,
            Parameter("alpha", exponent_prior(0.3, 0.7), "shared exponent α = β"),
        ),
        expression=_chinchilla_expression,
        natural=_shared_natural,
        reference=chinchilla.reference,
        derived=_chinchilla_derived,
        natural_names=("A", "B", "E", "alpha", "beta"),
        optimum=_chinchilla_optimum,
        sampled_from_natural=_shared_sampled,
        floor="E",
        example_design=nd_design,
        example_truth={"A": 400.0, "B": 1500.0, "E": 1.8, "alpha": 0.33, "beta": 0.33},
        example_size=80,
        description="L = E + A/N^α + B/D^α (Chinchilla with a shared exponent)",
        citation="Hoffmann et al. 2022, arXiv:2203.15556 (constrained variant α = β)",
        notes={"a": "allocation exponent of N*: 1/2", "b": "allocation exponent of D*: 1/2"},
    )
)


def _precision_natural(xp: ArrayNamespace, p: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
    q = chinchilla.natural(xp, p, ref)
    q["gamma"] = xp.exp(p["log_gamma"])
    return q


def _precision_sampled(xp: ArrayNamespace, q: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
    return {**sampled_from_natural(xp, q, ref), "log_gamma": xp.log(q["gamma"])}


def _precision_design(n: int, seed: int) -> Any:
    rng = np.random.default_rng(seed + 7919)
    return nd_design(n, seed).assign(P=rng.choice([3.0, 4.0, 6.0, 8.0, 16.0], n))


def _precision_expression(xp: ArrayNamespace, x: Mapping[str, Any], q: Mapping[str, Any]) -> Any:
    log_keep = xp.log(-xp.expm1(-x["P"] / q["gamma"]))  # log(1 − e^(−P/γ))
    return log_loss(xp, q, xp.log(x["N"]) + log_keep, xp.log(x["D"]))


precision = register_law(
    ScalingLaw(
        name="precision",
        version="1",
        inputs=("N", "D", "P"),
        parameters=(
            *chinchilla.parameters,
            Parameter(
                "log_gamma",
                Prior("Normal", mu=float(np.log(3.0)), sigma=0.7),
                "log of the precision scale γ (bits) in N_eff = N·(1 − e^(−P/γ))",
            ),
        ),
        expression=_precision_expression,
        natural=_precision_natural,
        reference=chinchilla.reference,
        derived=_chinchilla_derived,
        natural_names=("A", "B", "E", "alpha", "beta", "gamma"),
        sampled_from_natural=_precision_sampled,
        floor="E",
        example_design=_precision_design,
        example_truth={**EXAMPLE_TRUTH, "gamma": 2.5},
        example_size=200,
        description="L = E + A/N_eff^α + B/D^β, N_eff = N(1 − e^(−P/γ)) (training precision P)",
        citation="Kumar et al. 2024, Scaling Laws for Precision, arXiv:2411.04330",
    )
)
