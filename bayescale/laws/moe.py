"""Mixture-of-experts laws: fine-grained MoE in granularity (Krajewski et al. 2024) and routed
language models in the number of experts (Clark et al. 2022).

``moe_granularity``: L(N, D, G) = c + (g/G^γ + a)·N^(−α) + b·D^(−β)
    N parameters, D training tokens, G the granularity (the feed-forward width over the expert
    width; G = 1 are experts the size of the dense feed-forward layer). Finer experts scale the
    model-size term down from (g + a)·N^(−α) at G = 1 towards a·N^(−α). In logs,
    log L = logsumexp(log c, logaddexp(log g − γ·log G, log a) − α·log N, log b − β·log D).
    Sampled parameters at the data's mean log N, log D and log G: ``log_c`` ~ Normal(0.5, 1);
    ``log_a_ref`` = log a − α·logN_ref and ``log_b_ref`` = log b − β·logD_ref ~ Normal(−1, 1.5);
    ``log_g_ref`` = log g − γ·logG_ref − α·logN_ref ~ Normal(−2, 1.5); ``alpha``, ``beta`` ~
    LogNormal(log 0.3, 0.7); ``gamma`` ~ LogNormal(log 0.5, 0.8). With G held fixed,
    ``bs.compute_optimal(fit, C, G=...)`` finds the allocation numerically.

``routed`` (a family; option ``saturating``, default True):
    log L(N, E) = a·log N + b·log Ê + c·log N·log Ê + d
    bilinear in log N (the dense model's parameters) and the log of the expert count, with the
    saturating expert count 1/Ê = 1/(E − 1 + (1/E_start − 1/E_max)^(−1)) + 1/E_max, which grows
    like E over a middle range and saturates at E_max (``saturating=False``: Ê = E, the plain
    bilinear law). Sampled at the data's mean log N (logN_ref): ``log_L_ref`` = a·logN_ref + d
    ~ Normal(1, 1), the log loss of the reference-size model at Ê = 1; ``a`` ~ Normal(−0.1, 0.2);
    ``b_ref`` = b + c·logN_ref ~ Normal(−0.1, 0.2), the slope in log Ê at the reference size;
    ``c`` ~ Normal(0, 0.05); ``log_E_start`` ~ Normal(log 2, 0.7) and ``log_E_span`` =
    log(E_max − E_start) ~ Normal(log 300, 1.5).

Examples
--------
>>> import bayescale as bs
>>> moe = bs.get_law("moe_granularity")
>>> q = {"a": 400.0, "b": 1500.0, "c": 1.8, "g": 200.0, "alpha": 0.33, "beta": 0.33,
...      "gamma": 0.5}
>>> dense_like, fine = moe.evaluate(q, N=1e9, D=2e10, G=[1.0, 16.0])
>>> round(float(dense_like), 4), round(float(fine), 4)
(3.041, 2.8803)
>>> routed = bs.get_law("routed")
>>> q = {"a": -0.08, "b": -0.1, "c": 0.004, "d": 2.6, "E_start": 2.0, "E_max": 200.0}
>>> round(float(routed.evaluate(q, N=1e8, E=1.0)), 4)  # Ê(1) = E_start
3.0286
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..law import Parameter, ScalingLaw, register_law, register_law_family
from ..priors import Prior
from ..xp import ArrayNamespace
from ._common import exponent_prior, log_uniform, mean_log, nd_design

# ---------------------------------------------------------------------- moe_granularity
GRANULARITIES = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0)


def _moe_reference(inputs: Mapping[str, np.ndarray]) -> dict[str, float]:
    return mean_log(inputs, "N", "D", "G")


def _moe_natural(xp: ArrayNamespace, p: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
    alpha, beta, gamma = p["alpha"], p["beta"], p["gamma"]
    return {
        "a": xp.exp(p["log_a_ref"] + alpha * ref["logN_ref"]),
        "b": xp.exp(p["log_b_ref"] + beta * ref["logD_ref"]),
        "c": xp.exp(p["log_c"]),
        "g": xp.exp(p["log_g_ref"] + gamma * ref["logG_ref"] + alpha * ref["logN_ref"]),
        "alpha": alpha,
        "beta": beta,
        "gamma": gamma,
    }


def _moe_sampled(xp: ArrayNamespace, q: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
    alpha, beta, gamma = q["alpha"], q["beta"], q["gamma"]
    return {
        "log_c": xp.log(q["c"]),
        "log_a_ref": xp.log(q["a"]) - alpha * ref["logN_ref"],
        "log_g_ref": xp.log(q["g"]) - gamma * ref["logG_ref"] - alpha * ref["logN_ref"],
        "log_b_ref": xp.log(q["b"]) - beta * ref["logD_ref"],
        "alpha": alpha,
        "beta": beta,
        "gamma": gamma,
    }


def _moe_expression(xp: ArrayNamespace, x: Mapping[str, Any], q: Mapping[str, Any]) -> Any:
    log_n_coef = xp.logaddexp(xp.log(q["g"]) - q["gamma"] * xp.log(x["G"]), xp.log(q["a"]))
    return xp.logsumexp(
        [
            xp.log(q["c"]),
            log_n_coef - q["alpha"] * xp.log(x["N"]),
            xp.log(q["b"]) - q["beta"] * xp.log(x["D"]),
        ]
    )


def _moe_design(n: int, seed: int) -> pd.DataFrame:
    """An isoFLOP-style design in N, D with granularities 1–32."""
    rng = np.random.default_rng(seed + 104729)
    return nd_design(n, seed).assign(G=rng.choice(GRANULARITIES, n))


moe_granularity = register_law(
    ScalingLaw(
        name="moe_granularity",
        version="1",
        inputs=("N", "D", "G"),
        parameters=(
            Parameter("log_c", Prior("Normal", mu=0.5, sigma=1.0), "log of the irreducible loss c"),
            Parameter(
                "log_a_ref",
                Prior("Normal", mu=-1.0, sigma=1.5),
                "log of a·N^(−α) at the reference size (the infinitely fine part)",
            ),
            Parameter(
                "log_g_ref",
                Prior("Normal", mu=-2.0, sigma=1.5),
                "log of g·G^(−γ)·N^(−α) at the reference size and granularity",
            ),
            Parameter(
                "log_b_ref",
                Prior("Normal", mu=-1.0, sigma=1.5),
                "log of b·D^(−β) at the reference tokens",
            ),
            Parameter("alpha", exponent_prior(0.3, 0.7), "model-size exponent α"),
            Parameter("beta", exponent_prior(0.3, 0.7), "data exponent β"),
            Parameter("gamma", exponent_prior(0.5, 0.8), "granularity exponent γ"),
        ),
        expression=_moe_expression,
        natural=_moe_natural,
        reference=_moe_reference,
        natural_names=("a", "b", "c", "g", "alpha", "beta", "gamma"),
        sampled_from_natural=_moe_sampled,
        floor="c",
        example_design=_moe_design,
        example_truth={
            "a": 400.0,
            "b": 1500.0,
            "c": 1.8,
            "g": 200.0,
            "alpha": 0.33,
            "beta": 0.33,
            "gamma": 0.5,
        },
        example_size=150,
        description="L = c + (g/G^γ + a)·N^(−α) + b·D^(−β) (fine-grained MoE, granularity G)",
        citation=(
            "Krajewski et al. 2024, Scaling Laws for Fine-Grained Mixture of Experts, "
            "arXiv:2402.07871"
        ),
    )
)


# ---------------------------------------------------------------------- routed
EXPERT_COUNTS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0)


def _log_e_hat(xp: ArrayNamespace, log_e: Any, q: Mapping[str, Any]) -> Any:
    """log Ê with 1/Ê = 1/(E − 1 + (1/E_start − 1/E_max)^(−1)) + 1/E_max."""
    e_start, e_max = q["E_start"], q["E_max"]
    shift = e_start * e_max / (e_max - e_start)  # (1/E_start − 1/E_max)^(−1)
    inner = xp.expm1(log_e) + shift  # E − 1 + shift
    return xp.log(inner) + xp.log(e_max) - xp.log(inner + e_max)


def build_routed(saturating: bool = True) -> ScalingLaw:
    """The bilinear routed-model law in log N and log Ê (saturating) or log E."""
    if not isinstance(saturating, bool):
        raise TypeError(f"saturating must be True or False, got {saturating!r}")

    def reference(inputs: Mapping[str, np.ndarray]) -> dict[str, float]:
        return mean_log(inputs, "N")

    def natural(xp: ArrayNamespace, p: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
        m = ref["logN_ref"]
        q = {
            "a": p["a"],
            "b": p["b_ref"] - p["c"] * m,
            "c": p["c"],
            "d": p["log_L_ref"] - p["a"] * m,
        }
        if saturating:
            e_start = xp.exp(p["log_E_start"])
            q["E_start"] = e_start
            q["E_max"] = e_start + xp.exp(p["log_E_span"])
        return q

    def sampled(xp: ArrayNamespace, q: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
        m = ref["logN_ref"]
        p = {
            "log_L_ref": q["a"] * m + q["d"],
            "a": q["a"],
            "b_ref": q["b"] + q["c"] * m,
            "c": q["c"],
        }
        if saturating:
            p["log_E_start"] = xp.log(q["E_start"])
            p["log_E_span"] = xp.log(q["E_max"] - q["E_start"])
        return p

    def expression(xp: ArrayNamespace, x: Mapping[str, Any], q: Mapping[str, Any]) -> Any:
        log_n, log_e = xp.log(x["N"]), xp.log(x["E"])
        v = _log_e_hat(xp, log_e, q) if saturating else log_e
        return q["a"] * log_n + q["b"] * v + q["c"] * log_n * v + q["d"]

    def design(n: int, seed: int) -> pd.DataFrame:
        """Dense sizes 1e7–1e9 with 1 to 512 experts."""
        rng = np.random.default_rng(seed)
        return pd.DataFrame({"N": log_uniform(rng, 1e7, 1e9, n), "E": rng.choice(EXPERT_COUNTS, n)})

    params = [
        Parameter(
            "log_L_ref",
            Prior("Normal", mu=1.0, sigma=1.0),
            "log loss of the reference-size model at Ê = 1 (a·logN_ref + d)",
        ),
        Parameter("a", Prior("Normal", mu=-0.1, sigma=0.2), "slope in log N"),
        Parameter(
            "b_ref",
            Prior("Normal", mu=-0.1, sigma=0.2),
            "slope in log Ê at the reference size (b + c·logN_ref)",
        ),
        Parameter("c", Prior("Normal", mu=0.0, sigma=0.05), "interaction of log N and log Ê"),
    ]
    names = ["a", "b", "c", "d"]
    truth = {"a": -0.08, "b": -0.1, "c": 0.004, "d": 2.6}
    if saturating:
        params += [
            Parameter(
                "log_E_start",
                Prior("Normal", mu=float(math.log(2.0)), sigma=0.7),
                "log of E_start, where the expert count starts to pay",
            ),
            Parameter(
                "log_E_span",
                Prior("Normal", mu=float(math.log(300.0)), sigma=1.5),
                "log of E_max − E_start (E_max: the expert count Ê saturates at)",
            ),
        ]
        names += ["E_start", "E_max"]
        truth |= {"E_start": 2.0, "E_max": 200.0}
    form = "Ê saturating" if saturating else "Ê = E"
    return ScalingLaw(
        name="routed",
        version="1",
        inputs=("N", "E"),
        parameters=tuple(params),
        expression=expression,
        natural=natural,
        reference=reference,
        natural_names=tuple(names),
        sampled_from_natural=sampled,
        example_design=design,
        example_truth=truth,
        example_noise={"sigma": 0.005, "nu": 10.0},
        example_size=150,
        options={"saturating": saturating},
        description=f"log L = a·log N + b·log Ê + c·log N·log Ê + d ({form}; routed MoE)",
        citation="Clark et al. 2022, Unified Scaling Laws for Routed Language Models, "
        "arXiv:2202.01169",
    )


register_law_family("routed", "1", build_routed)
