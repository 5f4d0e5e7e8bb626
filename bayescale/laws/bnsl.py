"""Broken neural scaling law (Caballero et al. 2023) with a chosen number of breaks.

    y = a + b·x^(−c0)·∏ᵢ (1 + (x/dᵢ)^(1/fᵢ))^(−cᵢ·fᵢ),   i = 1..breaks

Each break i bends the log-log slope of the reducible part by cᵢ around x = dᵢ, with sharpness
fᵢ (small fᵢ: a sharp break). In logs, with softplus(z) = log(1 + e^z),

    log y = logaddexp(log a, log b − c0·log x − Σᵢ cᵢ·fᵢ·softplus((log x − log dᵢ)/fᵢ)).

``bs.get_law("bnsl", breaks=2, x="D")`` builds the law with two breaks in column ``D`` (default
``breaks=1``, ``x="x"``). Sampled parameters (vectors have one entry per break):

* ``log_a`` ~ Normal(−0.5, 1.5): log of the floor a.
* ``log_b_ref`` ~ Normal(−1, 1.5): log of the unbroken term b·x^(−c0) at x = exp(logx_ref)
  (the data's mean log x), so log b = log_b_ref + c0·logx_ref.
* ``c0`` ~ Normal(0.2, 0.5): initial slope.
* ``c`` ~ Normal(0, 3), shape (breaks,): slope changes.
* ``d_loc`` ~ Normal(mᵢ, 1), shape (breaks,): break positions in units of the data's log-x
  spread, log dᵢ = logx_ref + d_locᵢ·logx_sd, with prior centres mᵢ spread evenly over
  [−1, 1] (0 for one break) so that several breaks start apart.
* ``log_f`` ~ Normal(log 0.3, 1.2), shape (breaks,): log sharpness.

The natural parameters are scalars named as in the paper: ``a, b, c0, c1, d1, f1, c2, ...``.
Breaks are not ordered by the model; with several breaks, informative ``d_loc`` priors keep
them from swapping places between chains.

Examples
--------
>>> import bayescale as bs
>>> law = bs.get_law("bnsl", breaks=1)
>>> law.natural_names
('a', 'b', 'c0', 'c1', 'd1', 'f1')
>>> card = bs.load_card("caballero2022").params
>>> [round(float(v), 3) for v in law.evaluate(card, x=[800.0, 864.0, 928.0])]
[0.76, 0.637, 0.563]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..law import MultiStart, Parameter, ScalingLaw, register_law_family
from ..priors import Prior
from ..xp import ArrayNamespace
from ._common import check_column, column_design, mean_sd

#: The caballero2022 card's one-break fit (4-digit addition): the example truth of one break.
ONE_BREAK_TRUTH = {"a": 0.4139, "b": 2.277, "c0": 0.0551, "c1": 5.663, "d1": 612.6, "f1": 0.0592}


def build_bnsl(breaks: int = 1, x: str = "x") -> ScalingLaw:
    """The broken neural scaling law with ``breaks`` breaks in column ``x``."""
    if isinstance(breaks, bool) or not isinstance(breaks, int | np.integer) or breaks < 1:
        raise TypeError(f"breaks must be a positive integer, got {breaks!r}")
    x = check_column(x)
    k = int(breaks)
    ref_key, sd_key = f"log{x}_ref", f"log{x}_sd"

    def reference(inputs: Mapping[str, np.ndarray]) -> dict[str, float]:
        mean, sd = mean_sd(np.log(np.asarray(inputs[x], dtype=float)))
        return {ref_key: mean, sd_key: sd}

    def natural(xp: ArrayNamespace, p: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
        c0 = p["c0"]
        q = {
            "a": xp.exp(p["log_a"]),
            "b": xp.exp(p["log_b_ref"] + c0 * ref[ref_key]),
            "c0": c0,
        }
        for i in range(k):
            q[f"c{i + 1}"] = p["c"][..., i]
            q[f"d{i + 1}"] = xp.exp(ref[ref_key] + p["d_loc"][..., i] * ref[sd_key])
            q[f"f{i + 1}"] = xp.exp(p["log_f"][..., i])
        return q

    def sampled(xp: ArrayNamespace, q: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
        # evaluated with numpy (the vectors are stacked along their last axis)
        c0 = q["c0"]
        idx = range(1, k + 1)
        return {
            "log_a": xp.log(q["a"]),
            "log_b_ref": xp.log(q["b"]) - c0 * ref[ref_key],
            "c0": c0,
            "c": np.stack([q[f"c{i}"] for i in idx], axis=-1),
            "d_loc": np.stack(
                [(xp.log(q[f"d{i}"]) - ref[ref_key]) / ref[sd_key] for i in idx], axis=-1
            ),
            "log_f": np.stack([xp.log(q[f"f{i}"]) for i in idx], axis=-1),
        }

    def expression(xp: ArrayNamespace, inp: Mapping[str, Any], q: Mapping[str, Any]) -> Any:
        log_x = xp.log(inp[x])
        log_term = xp.log(q["b"]) - q["c0"] * log_x
        for i in range(1, k + 1):
            c, d, f = q[f"c{i}"], q[f"d{i}"], q[f"f{i}"]
            log_term = log_term - c * f * xp.softplus((log_x - xp.log(d)) / f)
        return xp.logaddexp(xp.log(q["a"]), log_term)

    centres = [0.0] if k == 1 else [float(v) for v in np.linspace(-1.0, 1.0, k)]
    names = ["a", "b", "c0"]
    for i in range(1, k + 1):
        names += [f"c{i}", f"d{i}", f"f{i}"]
    return ScalingLaw(
        name="bnsl",
        version="1",
        inputs=(x,),
        parameters=(
            Parameter("log_a", Prior("Normal", mu=-0.5, sigma=1.5), "log of the floor a"),
            Parameter(
                "log_b_ref",
                Prior("Normal", mu=-1.0, sigma=1.5),
                f"log of b·{x}^(−c0) at the reference exp({ref_key})",
            ),
            Parameter("c0", Prior("Normal", mu=0.2, sigma=0.5), "initial log-log slope c0"),
            Parameter("c", Prior("Normal", mu=0.0, sigma=3.0), "slope change at each break", (k,)),
            Parameter(
                "d_loc",
                Prior("Normal", mu=centres if k > 1 else 0.0, sigma=1.0),
                f"break positions: (log d − {ref_key})/{sd_key}",
                (k,),
            ),
            Parameter(
                "log_f",
                Prior("Normal", mu=float(np.log(0.3)), sigma=1.2),
                "log sharpness of each break",
                (k,),
            ),
        ),
        expression=expression,
        natural=natural,
        reference=reference,
        natural_names=tuple(names),
        sampled_from_natural=sampled,
        floor="a",
        example_design=column_design(x, 100.0, 2000.0) if k == 1 else None,
        example_truth=dict(ONE_BREAK_TRUTH) if k == 1 else {},
        example_noise={"sigma": 0.005, "nu": 10.0},
        example_size=50,
        # break positions spread over the data, in units of its log-x spread
        # break positions spread over the data (in units of its log-x spread), then a Sobol
        # sample over break positions, sharpness and slope changes
        multistart=MultiStart(
            points=tuple({"d_loc": float(v)} for v in (-1.0, 0.0, 1.0)) if k == 1 else (),
            sobol=16,
            box={"d_loc": (-1.5, 1.5), "log_f": (float(np.log(0.02)), 0.0), "c": (-2.0, 8.0)},
        ),
        options={"breaks": k, "x": x},
        description=f"broken neural scaling law with {k} break(s) in {x}",
        citation="Caballero et al. 2023, Broken Neural Scaling Laws, arXiv:2210.14891 (ICLR 2023)",
    )


register_law_family("bnsl", "1", build_bnsl)
