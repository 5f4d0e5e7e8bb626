"""Kaplan et al. (2020) joint law: L(N, D) = [(N_c/N)^(α_N/α_D) + D_c/D]^α_D.

In logs, log L = α_D · logaddexp((α_N/α_D)(log N_c − log N), log D_c − log D). The critical
scales N_c and D_c are of order 1e13 and strongly correlated with the exponents, so the sampled
parameters are the log-losses each term alone would give at the data's reference scales
(mean log N, mean log D):

    log_LN_ref = α_N · (log N_c − logN_ref)   (log L of an infinitely-trained model of size N_ref)
    log_LD_ref = α_D · (log D_c − logD_ref)   (log L of an infinitely large model on D_ref tokens)

Default priors (loss in nats):

* ``alpha_N``, ``alpha_D`` ~ LogNormal(log 0.1, 0.8): exponents between ≈0.02 and ≈0.5 (95%).
* ``log_LN_ref``, ``log_LD_ref`` ~ Normal(1, 1): each single-term loss at the reference between
  ≈0.4 and ≈19 nats (95%).

The compute-optimal allocation along C = 6ND has a closed form: with r = α_N/α_D,
N* = (r·N_c^r·C/(6·D_c))^(1/(1+r)).

Examples
--------
>>> import bayescale as bs
>>> law = bs.get_law("kaplan")
>>> round(float(law.evaluate(bs.load_card("kaplan2020").params, N=1e9, D=2e10)), 4)
2.3739
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..law import Parameter, ScalingLaw, register_law
from ..priors import Prior
from ..xp import ArrayNamespace
from ._common import exponent_prior, mean_log, nd_design


def _reference(inputs: Mapping[str, Any]) -> dict[str, float]:
    return mean_log(inputs, "N", "D")


def _natural(xp: ArrayNamespace, p: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
    a_n, a_d = p["alpha_N"], p["alpha_D"]
    return {
        "N_c": xp.exp(ref["logN_ref"] + p["log_LN_ref"] / a_n),
        "D_c": xp.exp(ref["logD_ref"] + p["log_LD_ref"] / a_d),
        "alpha_N": a_n,
        "alpha_D": a_d,
    }


def _sampled(xp: ArrayNamespace, q: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
    a_n, a_d = q["alpha_N"], q["alpha_D"]
    return {
        "log_LN_ref": a_n * (xp.log(q["N_c"]) - ref["logN_ref"]),
        "log_LD_ref": a_d * (xp.log(q["D_c"]) - ref["logD_ref"]),
        "alpha_N": a_n,
        "alpha_D": a_d,
    }


def _expression(xp: ArrayNamespace, x: Mapping[str, Any], q: Mapping[str, Any]) -> Any:
    a_n, a_d = q["alpha_N"], q["alpha_D"]
    n_term = (a_n / a_d) * (xp.log(q["N_c"]) - xp.log(x["N"]))
    d_term = xp.log(q["D_c"]) - xp.log(x["D"])
    return a_d * xp.logaddexp(n_term, d_term)


def _derived(xp: ArrayNamespace, q: Mapping[str, Any]) -> dict:
    r = q["alpha_N"] / q["alpha_D"]
    return {"a": 1.0 / (1.0 + r), "b": r / (1.0 + r)}


def _optimum(xp: ArrayNamespace, q: Mapping[str, Any], C: Any) -> dict:
    """N*, D* minimising L subject to 6ND = C (closed form)."""
    r = q["alpha_N"] / q["alpha_D"]
    log_n = (xp.log(r) + r * xp.log(q["N_c"]) + xp.log(C / 6.0) - xp.log(q["D_c"])) / (1.0 + r)
    n = xp.exp(log_n)
    return {"N": n, "D": (C / 6.0) / n}


kaplan = register_law(
    ScalingLaw(
        name="kaplan",
        version="1",
        inputs=("N", "D"),
        parameters=(
            Parameter(
                "log_LN_ref",
                Prior("Normal", mu=1.0, sigma=1.0),
                "log loss of the model-size term alone at the reference size exp(logN_ref)",
            ),
            Parameter(
                "log_LD_ref",
                Prior("Normal", mu=1.0, sigma=1.0),
                "log loss of the data term alone at the reference tokens exp(logD_ref)",
            ),
            Parameter("alpha_N", exponent_prior(0.1, 0.8), "model-size exponent α_N"),
            Parameter("alpha_D", exponent_prior(0.1, 0.8), "data exponent α_D"),
        ),
        expression=_expression,
        natural=_natural,
        reference=_reference,
        derived=_derived,
        natural_names=("N_c", "D_c", "alpha_N", "alpha_D"),
        optimum=_optimum,
        sampled_from_natural=_sampled,
        example_design=nd_design,
        # the kaplan2020 card's joint fit (Eq. 1.5, Table 2)
        example_truth={"N_c": 6.4e13, "D_c": 1.8e13, "alpha_N": 0.076, "alpha_D": 0.103},
        example_size=80,
        description="L = [(N_c/N)^(α_N/α_D) + D_c/D]^α_D (Kaplan et al. 2020, Eq. 1.5)",
        citation="Kaplan et al. 2020, Scaling Laws for Neural Language Models, arXiv:2001.08361",
        notes={
            "a": "allocation exponent of N*: 1/(1 + α_N/α_D)",
            "b": "allocation exponent of D*: (α_N/α_D)/(1 + α_N/α_D)",
        },
    )
)
