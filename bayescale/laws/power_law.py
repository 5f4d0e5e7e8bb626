"""One-input power laws in a column chosen by the user: with a floor and without.

``power_law`` (Kaplan et al. 2020; Henighan et al. 2020): L = E + (X0/X)^α, in logs
log L = logaddexp(log E, α·(log X0 − log X)). ``pure_power_law`` (Hestness et al. 2017):
L = A·X^(−α), log L = log A − α·log X. Both are law families: ``bs.get_law("power_law", x="D")``
builds the law in column ``D`` (default ``"N"``; any positive column works).

Sampled parameters sit at the data's reference scale logX_ref = mean(log X):

* ``power_law``: ``log_E`` ~ Normal(0.5, 1) (floor between ≈0.2 and ≈12 nats, 95%);
  ``log_R_ref`` ~ Normal(−1, 1.5), the log of the reducible term (X0/X)^α at X = exp(logX_ref),
  so log X0 = logX_ref + log_R_ref/α; ``alpha`` ~ LogNormal(log 0.3, 0.8).
* ``pure_power_law``: ``log_L_ref`` ~ Normal(1, 1.5), the log output at the reference;
  log A = log_L_ref + α·logX_ref; ``alpha`` ~ LogNormal(log 0.3, 0.8).

Examples
--------
>>> import bayescale as bs
>>> law = bs.get_law("power_law", x="D")
>>> law.inputs, law.natural_names
(('D',), ('E', 'X0', 'alpha'))
>>> round(float(law.evaluate({"E": 1.7, "X0": 5.4e13, "alpha": 0.095}, D=1e10)), 4)
3.9624
>>> pure = bs.get_law("pure_power_law", x="N")
>>> round(float(pure.evaluate({"A": 8.8e13 ** 0.076, "alpha": 0.076}, N=1e9)), 4)
2.3756
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..law import Parameter, ScalingLaw, register_law_family
from ..priors import Prior
from ..xp import ArrayNamespace
from ._common import check_column, column_design, exponent_prior, mean_log

#: Example ranges of the usual columns (any other column: those of N).
_RANGES = {"N": (1e7, 1e12), "D": (1e9, 1e13), "C": (1e18, 1e23)}


def _range(x: str) -> tuple[float, float]:
    return _RANGES.get(x, _RANGES["N"])


def build_power_law(x: str = "N") -> ScalingLaw:
    """The law L = E + (X0/X)^α in column ``x``."""
    x = check_column(x)
    ref_key = f"log{x}_ref"

    def reference(inputs: Mapping[str, np.ndarray]) -> dict[str, float]:
        return mean_log(inputs, x)

    def natural(xp: ArrayNamespace, p: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
        alpha = p["alpha"]
        return {
            "E": xp.exp(p["log_E"]),
            "X0": xp.exp(ref[ref_key] + p["log_R_ref"] / alpha),
            "alpha": alpha,
        }

    def sampled(xp: ArrayNamespace, q: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
        alpha = q["alpha"]
        return {
            "log_E": xp.log(q["E"]),
            "log_R_ref": alpha * (xp.log(q["X0"]) - ref[ref_key]),
            "alpha": alpha,
        }

    def expression(xp: ArrayNamespace, inp: Mapping[str, Any], q: Mapping[str, Any]) -> Any:
        return xp.logaddexp(xp.log(q["E"]), q["alpha"] * (xp.log(q["X0"]) - xp.log(inp[x])))

    return ScalingLaw(
        name="power_law",
        version="1",
        inputs=(x,),
        parameters=(
            Parameter("log_E", Prior("Normal", mu=0.5, sigma=1.0), "log of the floor E"),
            Parameter(
                "log_R_ref",
                Prior("Normal", mu=-1.0, sigma=1.5),
                f"log of the reducible term (X0/{x})^α at the reference exp({ref_key})",
            ),
            Parameter("alpha", exponent_prior(0.3, 0.8), f"exponent α of {x}"),
        ),
        expression=expression,
        natural=natural,
        reference=reference,
        natural_names=("E", "X0", "alpha"),
        sampled_from_natural=sampled,
        floor="E",
        example_design=column_design(x, *_range(x)),
        example_truth={"E": 1.7, "X0": 100.0 * _range(x)[0], "alpha": 0.35},
        example_size=50,
        options={"x": x},
        description=f"L = E + (X0/{x})^α (one-input power law with a floor)",
        citation=("Kaplan et al. 2020, arXiv:2001.08361; Henighan et al. 2020, arXiv:2010.14701"),
    )


def build_pure_power_law(x: str = "N") -> ScalingLaw:
    """The law L = A·X^(−α) in column ``x``."""
    x = check_column(x)
    ref_key = f"log{x}_ref"

    def reference(inputs: Mapping[str, np.ndarray]) -> dict[str, float]:
        return mean_log(inputs, x)

    def natural(xp: ArrayNamespace, p: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
        alpha = p["alpha"]
        return {"A": xp.exp(p["log_L_ref"] + alpha * ref[ref_key]), "alpha": alpha}

    def sampled(xp: ArrayNamespace, q: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
        return {"log_L_ref": xp.log(q["A"]) - q["alpha"] * ref[ref_key], "alpha": q["alpha"]}

    def expression(xp: ArrayNamespace, inp: Mapping[str, Any], q: Mapping[str, Any]) -> Any:
        return xp.log(q["A"]) - q["alpha"] * xp.log(inp[x])

    return ScalingLaw(
        name="pure_power_law",
        version="1",
        inputs=(x,),
        parameters=(
            Parameter(
                "log_L_ref",
                Prior("Normal", mu=1.0, sigma=1.5),
                f"log output at the reference exp({ref_key})",
            ),
            Parameter("alpha", exponent_prior(0.3, 0.8), f"exponent α of {x}"),
        ),
        expression=expression,
        natural=natural,
        reference=reference,
        natural_names=("A", "alpha"),
        sampled_from_natural=sampled,
        example_design=column_design(x, *_range(x)),
        example_truth={"A": 20.0, "alpha": 0.05},
        example_size=40,
        options={"x": x},
        description=f"L = A·{x}^(−α) (power law without a floor)",
        citation="Hestness et al. 2017, Deep Learning Scaling is Predictable, arXiv:1712.00409",
    )


register_law_family("power_law", "1", build_power_law)
register_law_family("pure_power_law", "1", build_pure_power_law)
