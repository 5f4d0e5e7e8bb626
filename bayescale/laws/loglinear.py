"""Log-linear law in N, C and D: L = A·N^(−α)·C^(−β)·D^(−γ).

In logs, log L = log A − α·log N − β·log C − γ·log D. The sampled intercept is the log output
at the data's mean log inputs, ``log_L_ref`` ~ Normal(1, 1.5); the exponents ``alpha``,
``beta``, ``gamma`` ~ Normal(0.1, 0.5) may take either sign.

When the runs satisfy C ≈ 6ND, log C is a linear combination of log N and log D and only
α + β and γ + β are identified: any β fits equally well and the posterior is the prior along a
ridge. :func:`bayescale.fit` then warns with an :class:`~bayescale.IdentifiabilityWarning`;
drop C from the law by fixing its exponent, ``priors={"beta": bs.Prior.fixed(0.0)}``, or use
runs in which C varies independently (e.g. different FLOP counting per architecture).

Examples
--------
>>> import bayescale as bs
>>> law = bs.get_law("loglinear")
>>> q = {"A": 30.0, "alpha": 0.05, "beta": 0.02, "gamma": 0.08}
>>> round(float(law.evaluate(q, N=1e9, C=6e19, D=1e10)), 4)
0.6785
>>> law.check_data({"N": [1e8, 1e9, 3e9], "D": [1e9, 4e9, 2e10],
...                 "C": [6e17, 2.4e19, 3.6e20]})[0][:40]
'log C is (nearly) a linear combination o'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..law import Parameter, ScalingLaw, register_law
from ..priors import Prior
from ..xp import ArrayNamespace
from ._common import log_uniform, mean_log

_INPUTS = ("N", "C", "D")
_EXPONENT = {"N": "alpha", "C": "beta", "D": "gamma"}
#: Smallest singular value of the standardised log-input matrix, relative to the largest, below
#: which the exponents are reported as not separately identifiable.
COLLINEARITY_TOL = 0.02


def _reference(inputs: Mapping[str, np.ndarray]) -> dict[str, float]:
    return mean_log(inputs, *_INPUTS)


def _natural(xp: ArrayNamespace, p: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
    log_a = p["log_L_ref"] + sum(p[_EXPONENT[k]] * ref[f"log{k}_ref"] for k in _INPUTS)
    return {"A": xp.exp(log_a), "alpha": p["alpha"], "beta": p["beta"], "gamma": p["gamma"]}


def _sampled(xp: ArrayNamespace, q: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
    log_l = xp.log(q["A"]) - sum(q[_EXPONENT[k]] * ref[f"log{k}_ref"] for k in _INPUTS)
    return {"log_L_ref": log_l, "alpha": q["alpha"], "beta": q["beta"], "gamma": q["gamma"]}


def _design(n: int, seed: int) -> pd.DataFrame:
    """N, C and D varying independently (so that the three exponents are identified)."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "N": log_uniform(rng, 1e7, 1e10, n),
            "C": log_uniform(rng, 1e17, 1e22, n),
            "D": log_uniform(rng, 1e9, 1e12, n),
        }
    )


def _expression(xp: ArrayNamespace, x: Mapping[str, Any], q: Mapping[str, Any]) -> Any:
    return (
        xp.log(q["A"])
        - q["alpha"] * xp.log(x["N"])
        - q["beta"] * xp.log(x["C"])
        - q["gamma"] * xp.log(x["D"])
    )


def _check(inputs: Mapping[str, np.ndarray]) -> list[str]:
    logs = np.column_stack([np.log(np.asarray(inputs[k], dtype=float)) for k in _INPUTS])
    centred = logs - logs.mean(axis=0)
    spread = centred.std(axis=0)
    messages = [
        f"log {k} does not vary in the data, so its exponent {_EXPONENT[k]} is not identified"
        for k, s in zip(_INPUTS, spread, strict=True)
        if s < 1e-12
    ]
    if messages:
        return messages
    _, sv, vt = np.linalg.svd(centred / spread, full_matrices=False)
    ratio = sv[-1] / sv[0]
    if ratio >= COLLINEARITY_TOL:
        return []
    weights = vt[-1] / spread  # combination of the raw log inputs that is (nearly) constant
    weights = weights / weights[_INPUTS.index("C")]
    combo = " + ".join(
        f"{-w:.3g}·log {k}" for k, w in zip(_INPUTS, weights, strict=True) if k != "C"
    )
    return [
        f"log C is (nearly) a linear combination of the other inputs (log C ≈ const + {combo}; "
        f"condition ratio {ratio:.2g} < {COLLINEARITY_TOL}), as when C = 6ND: the exponents "
        "alpha, beta, gamma are not separately identifiable and the posterior along that "
        "direction is the prior. Drop C with priors={'beta': bs.Prior.fixed(0.0)} or add runs "
        "in which C varies independently of N and D."
    ]


loglinear = register_law(
    ScalingLaw(
        name="loglinear",
        version="1",
        inputs=_INPUTS,
        parameters=(
            Parameter(
                "log_L_ref",
                Prior("Normal", mu=1.0, sigma=1.5),
                "log output at the data's mean log N, log C, log D",
            ),
            Parameter("alpha", Prior("Normal", mu=0.1, sigma=0.5), "exponent α of N"),
            Parameter("beta", Prior("Normal", mu=0.1, sigma=0.5), "exponent β of C"),
            Parameter("gamma", Prior("Normal", mu=0.1, sigma=0.5), "exponent γ of D"),
        ),
        expression=_expression,
        natural=_natural,
        reference=_reference,
        natural_names=("A", "alpha", "beta", "gamma"),
        check=_check,
        sampled_from_natural=_sampled,
        example_design=_design,
        example_truth={"A": 30.0, "alpha": 0.05, "beta": 0.02, "gamma": 0.08},
        example_size=80,
        description="L = A·N^(−α)·C^(−β)·D^(−γ) (log-linear in N, C, D)",
        citation="log-linear multi-factor scaling form; see e.g. Hestness et al. 2017",
    )
)
