"""Densing law (Xiao et al. 2024): maximum capability density grows exponentially in time.

Capability density is ρ = N̂/N, the parameter count N̂ a reference model family needs to match
a model's performance divided by the model's actual parameter count N. Xiao et al. fit
ln(ρ_max) = A·t + B over release time t: the density of the best models doubles every ln 2/A.

The observed output is the (positive) density ρ, column ``density``; the law's expression is
log ρ = A·t + B, so the likelihood (Student-t or Normal on log ρ) is on ln(N̂/N) exactly as in
the paper's regression, and ρ below 1 (negative ln ρ) is fine. Fit it to the frontier models
(the densest model released at each time), as the paper did. Release time ``t`` may be zero or
negative (e.g. days relative to a date), so it is not required to be positive.

Sampled parameters, at the data's mean and spread of t (t_ref, t_sd):

* ``slope_scaled`` ~ Normal(0, 2): change of ln ρ per standard deviation of t (A = slope/t_sd).
* ``log_density_ref`` ~ Normal(0, 2): ln ρ at t_ref (B = log_density_ref − A·t_ref).

``doubling_time`` = ln 2/A is reported as a derived quantity, in the units of t.

Examples
--------
>>> import bayescale as bs
>>> law = bs.get_law("densing")
>>> round(float(law.evaluate({"A": 0.007, "B": -1.0}, t=[0.0, 99.0])[1]), 4)
0.7357
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..law import Parameter, ScalingLaw, register_law
from ..priors import Prior
from ..xp import ArrayNamespace
from ._common import mean_sd


def _reference(inputs: Mapping[str, np.ndarray]) -> dict[str, float]:
    t_ref, t_sd = mean_sd(inputs["t"])
    return {"t_ref": t_ref, "t_sd": t_sd}


def _natural(xp: ArrayNamespace, p: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
    slope = p["slope_scaled"] / ref["t_sd"]
    return {"A": slope, "B": p["log_density_ref"] - slope * ref["t_ref"]}


def _sampled(xp: ArrayNamespace, q: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
    return {
        "slope_scaled": q["A"] * ref["t_sd"],
        "log_density_ref": q["B"] + q["A"] * ref["t_ref"],
    }


def _design(n: int, seed: int) -> pd.DataFrame:
    """Release times (days) spread over −200 … 600."""
    return pd.DataFrame({"t": np.sort(np.random.default_rng(seed).uniform(-200, 600, n))})


def _expression(xp: ArrayNamespace, x: Mapping[str, Any], q: Mapping[str, Any]) -> Any:
    return q["A"] * x["t"] + q["B"]


def _derived(xp: ArrayNamespace, q: Mapping[str, Any]) -> dict:
    return {"doubling_time": float(np.log(2.0)) / q["A"]}


densing = register_law(
    ScalingLaw(
        name="densing",
        version="1",
        inputs=("t",),
        parameters=(
            Parameter(
                "slope_scaled",
                Prior("Normal", mu=0.0, sigma=2.0),
                "change of ln(N̂/N) per standard deviation of release time",
            ),
            Parameter(
                "log_density_ref",
                Prior("Normal", mu=0.0, sigma=2.0),
                "ln(N̂/N) at the mean release time",
            ),
        ),
        expression=_expression,
        natural=_natural,
        reference=_reference,
        derived=_derived,
        natural_names=("A", "B"),
        sampled_from_natural=_sampled,
        example_design=_design,
        example_truth={"A": 0.007, "B": -1.0},
        example_noise={"sigma": 0.1, "nu": 10.0},
        example_size=40,
        output="density",
        positive_inputs=(),
        description="ln(N̂/N)_max = A·t + B (capability density over release time)",
        citation="Xiao et al. 2024, Densing Law of LLMs, arXiv:2412.04315",
        notes={"doubling_time": "ln 2 / A, in the units of t"},
    )
)
