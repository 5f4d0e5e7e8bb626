"""Saturating compute law (Zhai et al. 2022, vision transformers): L = a + b/(C + c)^α.

The offset c makes the curve flatten for small compute as well as large; Zhai et al. report
E = 0.09 + 0.26/(C + 0.01)^0.35 for ImageNet 10-shot error against compute C in TPUv3
core-days (card ``zhai2022``). In logs, log L = logaddexp(log a, log b − α·log(C + c)).

Sampled parameters at the data's reference compute C_ref = exp(mean log C):

* ``log_a`` ~ Normal(−1, 1.5): log of the floor a.
* ``log_b_ref`` ~ Normal(−1, 1.5): log of the reducible term b/(C_ref + c)^α at C_ref.
* ``alpha`` ~ LogNormal(log 0.3, 0.8).
* ``log_c_rel`` ~ Normal(−3, 2): log(c/C_ref), the offset relative to the reference compute.

Examples
--------
>>> import bayescale as bs
>>> law = bs.get_law("saturating_compute")
>>> round(float(law.evaluate(bs.load_card("zhai2022").params, C=100.0)), 4)
0.1419
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..law import Parameter, ScalingLaw, register_law
from ..priors import Prior
from ..xp import ArrayNamespace
from ._common import column_design, exponent_prior, mean_log


def _reference(inputs: Mapping[str, np.ndarray]) -> dict[str, float]:
    return mean_log(inputs, "C")


def _natural(xp: ArrayNamespace, p: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
    alpha = p["alpha"]
    log_c = ref["logC_ref"] + p["log_c_rel"]
    # log(C_ref + c) = logC_ref + log1p(c / C_ref)
    log_shifted_ref = ref["logC_ref"] + xp.log1p(xp.exp(p["log_c_rel"]))
    return {
        "a": xp.exp(p["log_a"]),
        "b": xp.exp(p["log_b_ref"] + alpha * log_shifted_ref),
        "c": xp.exp(log_c),
        "alpha": alpha,
    }


def _sampled(xp: ArrayNamespace, q: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
    log_c_rel = xp.log(q["c"]) - ref["logC_ref"]
    log_shifted_ref = ref["logC_ref"] + xp.log1p(xp.exp(log_c_rel))
    return {
        "log_a": xp.log(q["a"]),
        "log_b_ref": xp.log(q["b"]) - q["alpha"] * log_shifted_ref,
        "alpha": q["alpha"],
        "log_c_rel": log_c_rel,
    }


def _expression(xp: ArrayNamespace, x: Mapping[str, Any], q: Mapping[str, Any]) -> Any:
    return xp.logaddexp(xp.log(q["a"]), xp.log(q["b"]) - q["alpha"] * xp.log(x["C"] + q["c"]))


saturating_compute = register_law(
    ScalingLaw(
        name="saturating_compute",
        version="1",
        inputs=("C",),
        parameters=(
            Parameter("log_a", Prior("Normal", mu=-1.0, sigma=1.5), "log of the floor a"),
            Parameter(
                "log_b_ref",
                Prior("Normal", mu=-1.0, sigma=1.5),
                "log of b/(C + c)^α at the reference compute exp(logC_ref)",
            ),
            Parameter("alpha", exponent_prior(0.3, 0.8), "compute exponent α"),
            Parameter(
                "log_c_rel",
                Prior("Normal", mu=-3.0, sigma=2.0),
                "log of the compute offset c relative to the reference compute",
            ),
        ),
        expression=_expression,
        natural=_natural,
        reference=_reference,
        natural_names=("a", "b", "c", "alpha"),
        sampled_from_natural=_sampled,
        floor="a",
        example_design=column_design("C", 1e-3, 1e3),
        # the zhai2022 card (Figure 1)
        example_truth={"a": 0.09, "b": 0.26, "c": 0.01, "alpha": 0.35},
        example_size=50,
        description="L = a + b/(C + c)^α (saturating in compute)",
        citation="Zhai et al. 2022, Scaling Vision Transformers, arXiv:2106.04560 (CVPR 2022)",
    )
)
