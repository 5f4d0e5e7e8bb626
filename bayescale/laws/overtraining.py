"""Over-training law (Gadre et al. 2024): loss against compute C and token multiplier M = D/N.

    L(C, M) = E + (a·M^η + b·M^(−η))·C^(−η)

Gadre et al. derive it from Chinchilla's law with a shared exponent (α = β = 2η) under
C = 6ND: N = (C/(6M))^½ and D = (C·M/6)^½, so a = A·6^η and b = B·6^η. At a fixed
compute the loss is lowest at the token multiplier M* = (b/a)^(1/(2η)) (reported as the derived
``M_opt``); over-training (M > M*) costs loss at every scale by the same factor of the reducible
term, which is why the law extrapolates in M as well as in C. The authors' code writes the same
law in N and M as α'·N^b' + β'·6^(b'/2)·(M·N)^b' + E (mlfoundations/scaling, ``scaling/laws.py``,
``powlaw_ours``; b' = −2η, α' = a/6^η, β' = b); a test holds the two equal.

Inputs are ``C`` (training FLOPs, C = 6ND) and ``M`` (tokens per parameter). In logs,
log L = logaddexp(log E, logaddexp(log a + η·log M, log b − η·log M) − η·log C).

Sampled parameters at the data's mean log C and log M (logC_ref, logM_ref):

* ``log_E`` ~ Normal(0.5, 1): irreducible loss between ≈0.2 and ≈12 nats (95%).
* ``log_a_ref``, ``log_b_ref`` ~ Normal(−1, 1.5): log of each reducible term at the reference
  point, a·M^η·C^(−η) and b·M^(−η)·C^(−η).
* ``eta`` ~ LogNormal(log 0.15, 0.7): the compute exponent η.

Examples
--------
>>> import bayescale as bs
>>> law = bs.get_law("overtraining")
>>> q = {"E": 1.8, "a": 540.0, "b": 1100.0, "eta": 0.165}
>>> round(float(law.evaluate(q, C=1e19, M=20.0)), 4)
2.9405
>>> round(float(law.derived_params(q)["M_opt"]), 2)
8.64
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..law import Parameter, ScalingLaw, register_law
from ..priors import Prior
from ..xp import ArrayNamespace
from ._common import exponent_prior, log_uniform, mean_log

#: Token multipliers of Gadre et al.'s testbed (20 × 0.25 … 20 × 32).
MULTIPLIERS = (5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 640.0)


def _reference(inputs: Mapping[str, np.ndarray]) -> dict[str, float]:
    return mean_log(inputs, "C", "M")


def _natural(xp: ArrayNamespace, p: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
    eta = p["eta"]
    return {
        "E": xp.exp(p["log_E"]),
        "a": xp.exp(p["log_a_ref"] - eta * ref["logM_ref"] + eta * ref["logC_ref"]),
        "b": xp.exp(p["log_b_ref"] + eta * ref["logM_ref"] + eta * ref["logC_ref"]),
        "eta": eta,
    }


def _sampled(xp: ArrayNamespace, q: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
    eta = q["eta"]
    return {
        "log_E": xp.log(q["E"]),
        "log_a_ref": xp.log(q["a"]) + eta * ref["logM_ref"] - eta * ref["logC_ref"],
        "log_b_ref": xp.log(q["b"]) - eta * ref["logM_ref"] - eta * ref["logC_ref"],
        "eta": eta,
    }


def _expression(xp: ArrayNamespace, x: Mapping[str, Any], q: Mapping[str, Any]) -> Any:
    eta, log_m = q["eta"], xp.log(x["M"])
    shape = xp.logaddexp(xp.log(q["a"]) + eta * log_m, xp.log(q["b"]) - eta * log_m)
    return xp.logaddexp(xp.log(q["E"]), shape - eta * xp.log(x["C"]))


def _derived(xp: ArrayNamespace, q: Mapping[str, Any]) -> dict:
    return {"M_opt": xp.exp((xp.log(q["b"]) - xp.log(q["a"])) / (2.0 * q["eta"]))}


def _design(n: int, seed: int) -> pd.DataFrame:
    """Budgets 1e17–1e21 FLOPs, each at one of the testbed's token multipliers 5–640."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"C": log_uniform(rng, 1e17, 1e21, n), "M": rng.choice(MULTIPLIERS, n)})


overtraining = register_law(
    ScalingLaw(
        name="overtraining",
        version="1",
        inputs=("C", "M"),
        parameters=(
            Parameter("log_E", Prior("Normal", mu=0.5, sigma=1.0), "log of the irreducible loss E"),
            Parameter(
                "log_a_ref",
                Prior("Normal", mu=-1.0, sigma=1.5),
                "log of a·M^η·C^(−η) at the reference compute and multiplier",
            ),
            Parameter(
                "log_b_ref",
                Prior("Normal", mu=-1.0, sigma=1.5),
                "log of b·M^(−η)·C^(−η) at the reference compute and multiplier",
            ),
            Parameter("eta", exponent_prior(0.15, 0.7), "compute exponent η"),
        ),
        expression=_expression,
        natural=_natural,
        reference=_reference,
        derived=_derived,
        natural_names=("E", "a", "b", "eta"),
        sampled_from_natural=_sampled,
        floor="E",
        example_design=_design,
        example_truth={"E": 1.8, "a": 540.0, "b": 1100.0, "eta": 0.165},
        example_size=100,
        description="L = E + (a·M^η + b·M^(−η))·C^(−η), M = D/N (over-training)",
        citation=(
            "Gadre et al. 2024, Language models scale reliably with over-training and on "
            "downstream tasks, arXiv:2403.08540; code: mlfoundations/scaling"
        ),
        notes={"M_opt": "token multiplier D/N minimising the loss at any compute: (b/a)^(1/(2η))"},
    )
)
