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

from ..law import Parameter, ScalingLaw, register_law
from ..priors import Prior
from ..xp import ArrayNamespace
from .chinchilla import chinchilla, log_g, log_loss


def _natural(xp: ArrayNamespace, p: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
    q = chinchilla.natural(xp, p, ref)
    q["R_D_star"] = xp.exp(p["log_R_D_star"])
    q["R_N_star"] = xp.exp(p["log_R_N_star"])
    return q


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
        description="L = E + A/N'^α + B/D'^β with repeated-data decay (Muennighoff et al. 2023)",
        citation=(
            "Muennighoff et al. 2023, Scaling Data-Constrained Language Models, arXiv:2305.16264"
        ),
    )
)
