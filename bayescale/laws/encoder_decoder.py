"""Encoder–decoder scaling (Ghorbani et al. 2021, neural machine translation).

    L(N_e, N_d) = a·(N̄_e/N_e)^p_e·(N̄_d/N_d)^p_d + L∞

with N_e, N_d the encoder and decoder parameter counts and N̄_e, N̄_d fixed normalisers. Only
a·N̄_e^p_e·N̄_d^p_d is identified, so the fit sets the normalisers to the data's geometric mean
sizes (reported as ``Nbar_e``, ``Nbar_d``) and ``a`` is then the reducible loss of a model of
that size. A published fit with other normalisers is evaluated as is.

Sampled parameters:

* ``log_a`` ~ Normal(−1, 1.5): log reducible loss at the normalising sizes.
* ``p_e``, ``p_d`` ~ LogNormal(log 0.3, 0.8): encoder and decoder exponents.
* ``log_L_inf`` ~ Normal(0.5, 1): log of the irreducible loss L∞.

Examples
--------
>>> import bayescale as bs
>>> law = bs.get_law("encoder_decoder")
>>> q = {"a": 1.0, "Nbar_e": 1e8, "Nbar_d": 1e8, "p_e": 0.2, "p_d": 0.3, "L_inf": 1.5}
>>> round(float(law.evaluate(q, N_e=1e8, N_d=4e8)), 4)
2.1598
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..law import Parameter, ScalingLaw, register_law
from ..priors import Prior
from ..xp import ArrayNamespace
from ._common import exponent_prior, mean_log


def _reference(inputs: Mapping[str, Any]) -> dict[str, float]:
    return mean_log(inputs, "N_e", "N_d")


def _natural(xp: ArrayNamespace, p: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
    zero = 0.0 * p["log_a"]  # broadcasts the constant normalisers over the draws
    return {
        "a": xp.exp(p["log_a"]),
        "Nbar_e": xp.exp(ref["logN_e_ref"] + zero),
        "Nbar_d": xp.exp(ref["logN_d_ref"] + zero),
        "p_e": p["p_e"],
        "p_d": p["p_d"],
        "L_inf": xp.exp(p["log_L_inf"]),
    }


def _sampled(xp: ArrayNamespace, q: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
    """Inverse of :func:`_natural` for a fit whose normalisers are the reference sizes (the
    normalisers of ``q`` are not sampled and are ignored)."""
    return {
        "log_a": xp.log(q["a"]),
        "p_e": q["p_e"],
        "p_d": q["p_d"],
        "log_L_inf": xp.log(q["L_inf"]),
    }


def _design(n: int, seed: int) -> pd.DataFrame:
    """A grid symmetric in log size around 1e8 (about ``n`` points), so that the normalisers
    N̄_e, N̄_d of a fit are 1e8 exactly; ``seed`` is not used."""
    side = np.exp(np.log(1e8) + np.linspace(-2.5, 2.5, max(3, round(float(np.sqrt(n))))))
    ne, nd = np.meshgrid(side, side)
    return pd.DataFrame({"N_e": ne.ravel(), "N_d": nd.ravel()})


def _expression(xp: ArrayNamespace, x: Mapping[str, Any], q: Mapping[str, Any]) -> Any:
    log_reducible = (
        xp.log(q["a"])
        + q["p_e"] * (xp.log(q["Nbar_e"]) - xp.log(x["N_e"]))
        + q["p_d"] * (xp.log(q["Nbar_d"]) - xp.log(x["N_d"]))
    )
    return xp.logaddexp(log_reducible, xp.log(q["L_inf"]))


encoder_decoder = register_law(
    ScalingLaw(
        name="encoder_decoder",
        version="1",
        inputs=("N_e", "N_d"),
        parameters=(
            Parameter(
                "log_a",
                Prior("Normal", mu=-1.0, sigma=1.5),
                "log reducible loss at the normalising sizes (data's geometric means)",
            ),
            Parameter("p_e", exponent_prior(0.3, 0.8), "encoder exponent p_e"),
            Parameter("p_d", exponent_prior(0.3, 0.8), "decoder exponent p_d"),
            Parameter(
                "log_L_inf", Prior("Normal", mu=0.5, sigma=1.0), "log of the irreducible loss L∞"
            ),
        ),
        expression=_expression,
        natural=_natural,
        reference=_reference,
        natural_names=("a", "Nbar_e", "Nbar_d", "p_e", "p_d", "L_inf"),
        sampled_from_natural=_sampled,
        floor="L_inf",
        example_design=_design,
        example_truth={
            "a": 0.8,
            "Nbar_e": 1e8,
            "Nbar_d": 1e8,
            "p_e": 0.2,
            "p_d": 0.35,
            "L_inf": 1.5,
        },
        example_size=49,
        description="L = a·(N̄_e/N_e)^p_e·(N̄_d/N_d)^p_d + L∞ (encoder–decoder NMT)",
        citation="Ghorbani et al. 2021, Scaling Laws for Neural Machine Translation, "
        "arXiv:2109.07740",
    )
)
