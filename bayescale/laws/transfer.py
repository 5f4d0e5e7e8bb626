"""Transfer scaling (Hernandez et al. 2021): effective data transferred D_T = k·D_F^α·N^β.

D_T is the number of extra fine-tuning tokens a model trained from scratch would need to match
a pre-trained model of N (non-embedding) parameters fine-tuned on D_F tokens. It is the
observed output (column ``D_T``, positive), with the likelihood on log D_T:
log D_T = log k + α·log D_F + β·log N. Hernandez et al. report k = 1.9e4, α = 0.18, β = 0.38
for English text → Python (card ``hernandez2021``).

Sampled parameters at the data's mean log D_F and log N:

* ``log_ratio_ref`` ~ Normal(0, 3): log(D_T/D_F) at the reference point, so that
  log k = log_ratio_ref + (1 − α)·logD_F_ref − β·logN_ref.
* ``alpha``, ``beta`` ~ LogNormal(log 0.3, 0.8).

Examples
--------
>>> import bayescale as bs
>>> law = bs.get_law("transfer")
>>> f"{float(law.evaluate(bs.load_card('hernandez2021').params, D_F=1e8, N=1e9)):.3e}"
'1.376e+09'
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


def _reference(inputs: Mapping[str, Any]) -> dict[str, float]:
    return mean_log(inputs, "D_F", "N")


def _natural(xp: ArrayNamespace, p: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
    alpha, beta = p["alpha"], p["beta"]
    log_k = p["log_ratio_ref"] + (1.0 - alpha) * ref["logD_F_ref"] - beta * ref["logN_ref"]
    return {"k": xp.exp(log_k), "alpha": alpha, "beta": beta}


def _sampled(xp: ArrayNamespace, q: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
    alpha, beta = q["alpha"], q["beta"]
    log_ratio = xp.log(q["k"]) - (1.0 - alpha) * ref["logD_F_ref"] + beta * ref["logN_ref"]
    return {"log_ratio_ref": log_ratio, "alpha": alpha, "beta": beta}


def _design(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"D_F": log_uniform(rng, 1e5, 1e9, n), "N": log_uniform(rng, 1e6, 1e9, n)})


def _expression(xp: ArrayNamespace, x: Mapping[str, Any], q: Mapping[str, Any]) -> Any:
    return xp.log(q["k"]) + q["alpha"] * xp.log(x["D_F"]) + q["beta"] * xp.log(x["N"])


transfer = register_law(
    ScalingLaw(
        name="transfer",
        version="1",
        inputs=("D_F", "N"),
        parameters=(
            Parameter(
                "log_ratio_ref",
                Prior("Normal", mu=0.0, sigma=3.0),
                "log(D_T/D_F) at the data's mean log D_F and log N",
            ),
            Parameter("alpha", exponent_prior(0.3, 0.8), "fine-tuning data exponent α"),
            Parameter("beta", exponent_prior(0.3, 0.8), "model-size exponent β"),
        ),
        expression=_expression,
        natural=_natural,
        reference=_reference,
        natural_names=("k", "alpha", "beta"),
        sampled_from_natural=_sampled,
        example_design=_design,
        # the hernandez2021 card (English text → Python)
        example_truth={"k": 1.9e4, "alpha": 0.18, "beta": 0.38},
        example_noise={"sigma": 0.05, "nu": 10.0},
        output="D_T",
        description="D_T = k·D_F^α·N^β (effective data transferred)",
        citation="Hernandez et al. 2021, Scaling Laws for Transfer, arXiv:2102.01293",
    )
)
