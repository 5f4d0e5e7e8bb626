"""Data-constrained scaling (Muennighoff et al. 2023): repeated epochs and excess parameters.

L(N, D, U) = E + A/N'^α + B/D'^β, where repeated tokens and excess parameters are worth less
than fresh ones and their value decays with the decay constants R_D* and R_N*:

    U_D = min(U, D),   R_D = D/U_D − 1,   D' = U_D + U_D·R_D*·(1 − e^(−R_D/R_D*))
    G = (αA/(βB))^(1/(α+β)),   U_N = min(N, G·(U·G)^(β/α)),   R_N = N/U_N − 1,
    N' = U_N + U_N·R_N*·(1 − e^(−R_N/R_N*))

U_N is the Chinchilla-optimal model size for U tokens. The inputs are N (parameters), D (total
training tokens) and U (unique tokens); D/U is the number of epochs. With D ≤ U the law is
Chinchilla's.

Sampled parameters are Chinchilla's (``log_E``, ``log_A_ref``, ``log_B_ref`` at the data's mean
log N and log D, ``alpha``, ``beta``, same priors) plus

* ``log_R_D_star``, ``log_R_N_star`` ~ Normal(log 10, 1.2): decay constants between ≈1 and
  ≈100 epochs (95%).

Muennighoff et al. fitted E, A, B, α, β on Chinchilla-style single-epoch runs and then R_D*,
R_N* with those held fixed; fix them with ``bs.Prior.fixed`` (see
``examples/datablations_refit.py``). The compute-optimal allocation for a unique-token budget is
``bs.compute_optimal(fit, C, U=...)``.

Examples
--------
>>> import bayescale as bs
>>> law = bs.get_law("data_constrained")
>>> card = bs.load_card("muennighoff2023").params
>>> round(float(law.evaluate(card, N=6.34e9, D=242e9, U=25e9)), 10)
2.225644089
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..law import Parameter, ScalingLaw, register_law
from ..priors import Prior
from ..xp import ArrayNamespace
from ._common import log_uniform
from .chinchilla import chinchilla, log_g, log_loss, sampled_from_natural

#: The values of the ``muennighoff2023`` card (a test holds them equal): the example truth.
EXAMPLE_TRUTH = {
    "A": 520.8249516599187,
    "B": 1487.716093782861,
    "E": 1.8691436784054858,
    "alpha": 0.3526596,
    "beta": 0.3526596,
    "R_D_star": 15.387756,
    "R_N_star": 5.309743,
}


def _natural(xp: ArrayNamespace, p: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
    q = chinchilla.natural(xp, p, ref)
    q["R_D_star"] = xp.exp(p["log_R_D_star"])
    q["R_N_star"] = xp.exp(p["log_R_N_star"])
    return q


def _sampled(xp: ArrayNamespace, q: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
    p = sampled_from_natural(xp, q, ref)
    p["log_R_D_star"] = xp.log(q["R_D_star"])
    p["log_R_N_star"] = xp.log(q["R_N_star"])
    return p


def _design(n: int, seed: int) -> pd.DataFrame:
    """N 1e8–1e10, U 1e8–1e10 unique tokens repeated 1–100 epochs."""
    rng = np.random.default_rng(seed)
    n_params = log_uniform(rng, 1e8, 1e10, n)
    unique = log_uniform(rng, 1e8, 1e10, n)
    return pd.DataFrame({"N": n_params, "U": unique, "D": unique * log_uniform(rng, 1, 100, n)})


def _effective(xp: ArrayNamespace, log_unique: Any, log_total: Any, r_star: Any) -> Any:
    """log of U + U·R*·(1 − e^(−R/R*)) with R = total/U − 1 (U ≤ total)."""
    repeats = xp.expm1(log_total - log_unique)
    return log_unique + xp.log1p(-r_star * xp.expm1(-repeats / r_star))


def _expression(xp: ArrayNamespace, x: Mapping[str, Any], q: Mapping[str, Any]) -> Any:
    alpha, beta = q["alpha"], q["beta"]
    log_n, log_d, log_u = xp.log(x["N"]), xp.log(x["D"]), xp.log(x["U"])
    g = log_g(xp, q)
    log_un = xp.minimum(log_n, g + (beta / alpha) * (log_u + g))
    log_ud = xp.minimum(log_u, log_d)
    log_n_eff = _effective(xp, log_un, log_n, q["R_N_star"])
    log_d_eff = _effective(xp, log_ud, log_d, q["R_D_star"])
    return log_loss(xp, q, log_n_eff, log_d_eff)


data_constrained = register_law(
    ScalingLaw(
        name="data_constrained",
        version="1",
        inputs=("N", "D", "U"),
        parameters=(
            *chinchilla.parameters,
            Parameter(
                "log_R_D_star",
                Prior("Normal", mu=float(np.log(10.0)), sigma=1.2),
                "log of the decay constant R_D* of repeated tokens (epochs)",
            ),
            Parameter(
                "log_R_N_star",
                Prior("Normal", mu=float(np.log(10.0)), sigma=1.2),
                "log of the decay constant R_N* of excess parameters",
            ),
        ),
        expression=_expression,
        natural=_natural,
        reference=chinchilla.reference,
        derived=chinchilla.derived,
        natural_names=("A", "B", "E", "alpha", "beta", "R_D_star", "R_N_star"),
        sampled_from_natural=_sampled,
        floor="E",
        example_design=_design,
        example_truth=EXAMPLE_TRUTH,
        example_noise={"sigma": 0.005, "nu": 10.0},
        example_size=150,
        description="L = E + A/N'^α + B/D'^β with repeated-data decay (Muennighoff et al. 2023)",
        citation=(
            "Muennighoff et al. 2023, Scaling Data-Constrained Language Models, arXiv:2305.16264"
        ),
    )
)
