"""Train/test compute trade-off (Jones 2021, "Scaling Scaling Laws with Board Games"):
performance against training compute C and test-time compute C_test.

    win rate = σ(z),   z = a·log10 C + b·log10 C_test + c

Jones trains AlphaZero agents on Hex and rates them in Elo against perfect play; on the rising
part of the compute frontier Elo is linear in log compute, and at a fixed Elo the test-time
compute needed falls linearly in log training compute: "for each additional 10× of train-time
compute, about 15× of test-time compute can be eliminated, down to a floor of a single-node
tree search" (Sec. IV, "Train-test trade-off", Fig. 9; the authors' code fits
log10 C_test ~ log10 C + Elo by least squares, andyljones/boardlaw, ``analysis/data.py``,
``train_test_model``). Elo differences are log-odds of winning (a 400-point gap is odds of
10:1), so Elo linear in the two log computes is the win rate against a fixed opponent being a
logistic function of z above, with Elo = z · 400/ln 10 + const. Here the output is that win rate
(``accuracy``: wins out of ``n_items`` games, Binomial by default), so a fit reads match counts
directly.

Natural parameters: ``a`` and ``b``, logits per decade of training and of test-time compute
(Elo per decade = slope · 400/ln 10; Jones's 500 Elo per decade of compute is 2.9 logits), and
the intercept ``c``. At a fixed performance, one decade of training compute replaces
``exchange = a/b`` decades of test-time compute: k× the training compute equals k^(a/b)× the
test-time compute (Jones: 10× ≈ 15×, a/b ≈ 1.18). Derived: ``exchange``, ``test_per_10x_train``
= 10^(a/b), and the Elo slopes ``elo_per_decade_train``, ``elo_per_decade_test``.
``bs.tradeoff(fit, ...)`` gives the exchange rate's posterior and the iso-performance curve.

The law describes the log-linear regime only: Jones's frontier flattens at perfect play and the
test-time compute has a floor of one node; fit runs between the two.

Sampled parameters, at the data's mean log10 C and log10 C_test (log10C_ref, log10Ctest_ref):
``z_ref`` = a·log10C_ref + b·log10Ctest_ref + c ~ Normal(0, 1.5), the log-odds of a win at the
reference point; ``a``, ``b`` ~ LogNormal(log 1.5, 1) logits per decade.

Examples
--------
>>> import bayescale as bs
>>> law = bs.get_law("train_test")
>>> q = {"a": 2.9, "b": 2.4, "c": -65.1}
>>> round(float(law.evaluate(q, C=1e15, C_test=1e9)), 4)  # z = 0: even odds
0.5
>>> same = law.evaluate(q, C=[1e15, 1e16], C_test=[1e9 * 10 ** (2.9 / 2.4), 1e9])
>>> [round(float(v), 4) for v in same]  # 10× training ≡ 10^(a/b)× test-time compute
[0.9478, 0.9478]
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..law import Parameter, ScalingLaw, register_law
from ..priors import Prior
from ..xp import ArrayNamespace
from ._common import log_uniform, lognormal_median

LN10 = math.log(10.0)
#: Elo points per logit of win probability (Elo odds are 10^(ΔElo/400)).
ELO_PER_LOGIT = 400.0 / LN10


def _reference(inputs: Mapping[str, np.ndarray]) -> dict[str, float]:
    return {
        "log10C_ref": float(np.mean(np.log10(inputs["C"]))),
        "log10Ctest_ref": float(np.mean(np.log10(inputs["C_test"]))),
    }


def _natural(xp: ArrayNamespace, p: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
    a, b = p["a"], p["b"]
    return {
        "a": a,
        "b": b,
        "c": p["z_ref"] - a * ref["log10C_ref"] - b * ref["log10Ctest_ref"],
    }


def _sampled(xp: ArrayNamespace, q: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
    a, b = q["a"], q["b"]
    return {"z_ref": q["c"] + a * ref["log10C_ref"] + b * ref["log10Ctest_ref"], "a": a, "b": b}


def _expression(xp: ArrayNamespace, x: Mapping[str, Any], q: Mapping[str, Any]) -> Any:
    z = q["a"] * xp.log(x["C"]) / LN10 + q["b"] * xp.log(x["C_test"]) / LN10 + q["c"]
    return xp.log_sigmoid(z)


def _derived(xp: ArrayNamespace, q: Mapping[str, Any]) -> dict:
    exchange = q["a"] / q["b"]
    return {
        "exchange": exchange,
        "test_per_10x_train": xp.exp(LN10 * exchange),
        "elo_per_decade_train": ELO_PER_LOGIT * q["a"],
        "elo_per_decade_test": ELO_PER_LOGIT * q["b"],
    }


#: Games per match-up in the example runs.
EXAMPLE_GAMES = 200


def _design(n: int, seed: int) -> pd.DataFrame:
    """Training compute 1e14–1e16 FLOPs crossed with test-time compute 1e8–1e10 FLOPs per move,
    each agent playing ``EXAMPLE_GAMES`` games against one fixed opponent."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "C": log_uniform(rng, 1e14, 1e16, n),
            "C_test": log_uniform(rng, 1e8, 1e10, n),
            "n_items": np.full(n, EXAMPLE_GAMES),
        }
    )


train_test = register_law(
    ScalingLaw(
        name="train_test",
        version="1",
        inputs=("C", "C_test"),
        parameters=(
            Parameter(
                "z_ref",
                Prior("Normal", mu=0.0, sigma=1.5),
                "log-odds of a win at the data's mean log10 C and log10 C_test",
            ),
            Parameter("a", lognormal_median(1.5, 1.0), "logits per decade of training compute"),
            Parameter("b", lognormal_median(1.5, 1.0), "logits per decade of test-time compute"),
        ),
        expression=_expression,
        natural=_natural,
        reference=_reference,
        derived=_derived,
        natural_names=("a", "b", "c"),
        output="accuracy",
        likelihoods=("binomial", "betabinomial", "beta"),
        default_likelihood="binomial",
        sampled_from_natural=_sampled,
        floor=None,
        example_design=_design,
        # 500 Elo per decade of training compute (Jones 2021, Sec. IV) is 2.9 logits; a/b = 1.21
        # (10× training ≈ 16× test-time compute); even odds at C = 1e15, C_test = 1e9
        example_truth={"a": 2.9, "b": 2.4, "c": -(2.9 * 15.0 + 2.4 * 9.0)},
        example_size=80,
        description="win rate = σ(a·log10 C + b·log10 C_test + c) (train/test compute trade-off)",
        citation=(
            "Jones 2021, Scaling Scaling Laws with Board Games, arXiv:2104.03113 (Sec. IV, "
            "Fig. 9); code: andyljones/boardlaw"
        ),
        notes={
            "exchange": "decades of test-time compute one decade of training compute replaces "
            "at fixed performance (a/b)",
            "test_per_10x_train": "× test-time compute equivalent to 10× training compute",
        },
    )
)
