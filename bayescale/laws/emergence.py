"""Accuracy-type laws: emergence against scale, and downstream accuracy against loss.

``emergence`` (a family; options ``x``, ``floor``, ``ceiling``, ``output``)
    acc(X) = floor + (ceiling − floor) · σ(k · (log10 X − T)),

    X is a scale input (training compute ``C`` by default, or ``N``); ``floor`` is the chance
    level of the task (given, or learned), ``ceiling`` ≤ 1 the accuracy the curve saturates at
    (learned, or given). ``T`` is the log10 scale of the midpoint of the transition and ``k`` its
    steepness per decade of X: the curve moves from 10% to 90% of the way from floor to ceiling
    over ``width = 2·ln 9 / k`` decades (a derived quantity).

    NUTS samples ``T_offset = T − log10X_ref`` (``log10X_ref``: the data's mean log10 X) so that
    the midpoint and the slope are not strongly correlated; ``T`` is reported on the natural
    log10 scale. The expression returns log acc = logaddexp(log floor,
    log(ceiling − floor) + log σ(z)), which stays finite for any z (and reduces to
    log ceiling + log σ(z) when the floor is 0).

    Default priors: ``T_offset`` ~ Normal(0, 2) decades; ``k`` ~ LogNormal(log 3, 1) per decade
    (a 10–90% transition between ≈0.2 and ≈10 decades, 95%); a learned ``floor`` ~ Beta(1, 4);
    ``ceiling_frac`` ~ Beta(3, 1), the fraction of the way from the floor to 1 that the ceiling
    reaches (ceiling = floor + (1 − floor) · ceiling_frac).

``downstream`` (a family; options ``form``, ``floor``, ``x``)
    Accuracy on a downstream task as a function of the model's loss L (input ``loss``).

    ``form="exponential"`` (Gadre et al. 2024): the top-1 error is Err(L) = ε − k·exp(−γ·L), so
    acc(L) = 1 − ε + k·exp(−γ·L). ε is the error of an untrained model (1 − chance level; given
    through ``floor`` or learned). NUTS samples ε, γ and ``delta`` = L_min − L0 > 0, where
    L_min is the lowest loss in the data and L0 the loss at which the expected error would reach
    0 (k = ε·exp(γ·L0)); this keeps the expected accuracy below 1 at every fitted point. Default
    priors: ``eps`` ~ Beta(3, 1.5), ``gamma`` ~ LogNormal(log 2, 1) per nat,
    ``delta`` ~ LogNormal(log 0.5, 1) nats. Beyond L0 (losses below any fitted one) the
    expected accuracy is capped at 1 by the analysis functions.

    ``form="sigmoid"``: acc(L) = floor + (ceiling − floor) · σ(−s · (L − L_mid)), with
    ``L_offset = L_mid − L_ref`` ~ Normal(0, 1) nats (L_ref: the data's mean loss), ``s`` ~
    LogNormal(log 5, 1) per nat, and floor and ceiling as in ``emergence``.

Both laws give the log of the expected accuracy (output column ``accuracy``) and are fitted with
the ``beta`` (default; proportions, exact 0 and 1 allowed), ``betabinomial`` or ``binomial``
likelihoods (the count likelihoods need an ``n_items`` column).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..law import MultiStart, Parameter, ScalingLaw, register_law_family
from ..priors import Prior
from ..xp import ArrayNamespace
from ._common import column_design, lognormal_median

__all__ = ["build_downstream", "build_emergence"]

LN10 = math.log(10.0)
ACCURACY_LIKELIHOODS = ("beta", "betabinomial", "binomial")
WIDTH_10_90 = 2.0 * math.log(9.0)


def _check_level(name: str, value: Any, *, upper_open: bool) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise ValueError(f"{name} must be a number in [0, 1] or None, got {value!r}")
    value = float(value)
    ok = 0.0 <= value < 1.0 if upper_open else 0.0 < value <= 1.0
    if not ok:
        interval = "[0, 1)" if upper_open else "(0, 1]"
        raise ValueError(f"{name} must lie in {interval}, got {value!r}")
    return value


def _check_bounds(floor: Any, ceiling: Any) -> tuple[float | None, float | None]:
    floor = _check_level("floor (chance level)", floor, upper_open=True)
    ceiling = _check_level("ceiling", ceiling, upper_open=False)
    if floor is not None and ceiling is not None and floor >= ceiling:
        raise ValueError(f"the chance level floor={floor!r} must lie below the ceiling={ceiling!r}")
    return floor, ceiling


def _bound_parameters(floor: float | None, ceiling: float | None) -> tuple[Parameter, ...]:
    out = []
    if floor is None:
        out.append(Parameter("floor", Prior("Beta", alpha=1.0, beta=4.0), "chance-level accuracy"))
    if ceiling is None:
        out.append(
            Parameter(
                "ceiling_frac",
                Prior("Beta", alpha=3.0, beta=1.0),
                "fraction of the way from the floor to 1 that the ceiling reaches",
            )
        )
    return tuple(out)


def _bounds(
    xp: ArrayNamespace, p: Mapping[str, Any], floor: float | None, ceiling: float | None
) -> dict:
    f = p["floor"] if floor is None else xp.asarray(np.float64(floor))
    if ceiling is None:
        c = f + (1.0 - f) * p["ceiling_frac"]
    else:
        c = xp.asarray(np.float64(ceiling))
    return {"floor": f, "ceiling": c}


def _bounds_sampled(q: Mapping[str, Any], floor: float | None, ceiling: float | None) -> dict:
    """The inverse of :func:`_bounds`: the learned ``floor`` and ``ceiling_frac`` (numpy)."""
    out = {}
    if floor is None:
        out["floor"] = q["floor"]
    if ceiling is None:
        f = q["floor"] if floor is None else floor
        out["ceiling_frac"] = (q["ceiling"] - f) / (1.0 - f)
    return out


#: Noise of the example runs of the accuracy laws (Beta precision).
EXAMPLE_NOISE = {"phi": 300.0}


def _log_sigmoid_curve(xp: ArrayNamespace, q: Mapping[str, Any], z: Any, floor: Any) -> Any:
    """log(floor + (ceiling − floor)·σ(z)), computed without cancellation."""
    if floor == 0.0:
        return xp.log(q["ceiling"]) + xp.log_sigmoid(z)
    return xp.logaddexp(xp.log(q["floor"]), xp.log(q["ceiling"] - q["floor"]) + xp.log_sigmoid(z))


# ---------------------------------------------------------------------- emergence
def build_emergence(
    x: str = "C",
    floor: float | None = None,
    ceiling: float | None = None,
    output: str = "accuracy",
) -> ScalingLaw:
    """The ``emergence`` law in the scale input ``x`` with a given or learned floor and ceiling.

    Use through ``bs.get_law("emergence", x=..., floor=..., ceiling=...)``.

    Parameters
    ----------
    x : str
        Input column of the scale (``"C"`` training FLOPs, ``"N"`` parameters, ...).
    floor : float, optional
        Chance-level accuracy in [0, 1); learned (prior Beta(1, 4)) when None.
    ceiling : float, optional
        Saturation accuracy in (0, 1]; learned when None.
    output : str
        Name of the accuracy column.

    Raises
    ------
    ValueError
        A floor or ceiling outside its range, or a chance level at or above the ceiling.

    Examples
    --------
    >>> import bayescale as bs
    >>> law = bs.get_law("emergence", x="C", floor=0.25)
    >>> law.parameter_names
    ('T_offset', 'k', 'ceiling_frac')
    >>> q = {"T": 22.0, "k": 2.0, "floor": 0.25, "ceiling": 0.95}
    >>> round(float(law.evaluate(q, C=1e22)), 4)  # half-way between floor and ceiling
    0.6
    >>> bs.get_law("emergence", floor=0.5, ceiling=0.5)
    Traceback (most recent call last):
    ...
    ValueError: the chance level floor=0.5 must lie below the ceiling=0.5
    """
    if not isinstance(x, str) or not x:
        raise ValueError(f"x must name an input column, got {x!r}")
    floor, ceiling = _check_bounds(floor, ceiling)

    def reference(inputs: Mapping[str, np.ndarray]) -> dict[str, float]:
        return {"log10X_ref": float(np.mean(np.log10(inputs[x])))}

    def natural(xp: ArrayNamespace, p: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
        return {
            "T": p["T_offset"] + ref["log10X_ref"],
            "k": p["k"],
            **_bounds(xp, p, floor, ceiling),
        }

    def expression(xp: ArrayNamespace, inp: Mapping[str, Any], q: Mapping[str, Any]) -> Any:
        z = q["k"] * (xp.log(inp[x]) / LN10 - q["T"])
        return _log_sigmoid_curve(xp, q, z, floor)

    def derived(xp: ArrayNamespace, q: Mapping[str, Any]) -> dict:
        return {"width": WIDTH_10_90 / q["k"]}

    def sampled(xp: ArrayNamespace, q: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
        return {
            "T_offset": q["T"] - ref["log10X_ref"],
            "k": q["k"],
            **_bounds_sampled(q, floor, ceiling),
        }

    truth_floor = 0.25 if floor is None else floor
    truth = {
        "T": 22.0,
        "k": 2.0,
        "floor": truth_floor,
        "ceiling": max(0.9, truth_floor + 0.5 * (1.0 - truth_floor))
        if ceiling is None
        else ceiling,
    }

    fixed = ", ".join(
        f"{n}={v:g}" for n, v in (("floor", floor), ("ceiling", ceiling)) if v is not None
    )
    return ScalingLaw(
        name="emergence",
        version="1",
        inputs=(x,),
        parameters=(
            Parameter(
                "T_offset",
                Prior("Normal", mu=0.0, sigma=2.0),
                f"log10 {x} of the transition midpoint minus the data's mean log10 {x}",
            ),
            Parameter(
                "k",
                lognormal_median(3.0, 1.0),
                f"steepness of the transition per decade of {x}",
            ),
            *_bound_parameters(floor, ceiling),
        ),
        expression=expression,
        natural=natural,
        reference=reference,
        derived=derived,
        natural_names=("T", "k", "floor", "ceiling"),
        output=output,
        likelihoods=ACCURACY_LIKELIHOODS,
        default_likelihood="beta",
        sampled_from_natural=sampled,
        floor="ceiling",  # the accuracy approached at unbounded scale
        example_design=column_design(x, 1e17, 1e27),
        example_truth=truth,
        example_noise=EXAMPLE_NOISE,
        example_size=60,
        # the midpoint may sit anywhere along (or beyond) the data when few points are in the
        # transition: a Sobol sample over midpoint and steepness
        multistart=MultiStart(sobol=16, box={"T_offset": (-4.0, 4.0), "k": (0.3, 30.0)}),
        options={"x": x, "floor": floor, "ceiling": ceiling, "output": output},
        description=(
            f"acc = floor + (ceiling − floor)·σ(k·(log10 {x} − T))"
            + (f"; {fixed}" if fixed else "")
        ),
        citation="Wei et al. 2022, arXiv:2206.07682; Ruan et al. 2024, arXiv:2405.10938",
        notes={
            "T": f"log10 {x} at the midpoint between floor and ceiling",
            "width": f"decades of {x} from 10% to 90% of the way from floor to ceiling",
        },
    )


# ---------------------------------------------------------------------- downstream
def build_downstream(
    form: str = "exponential",
    floor: float | None = None,
    x: str = "loss",
    output: str = "accuracy",
) -> ScalingLaw:
    """The ``downstream`` law: accuracy against the loss ``x`` (exponential or sigmoid form).

    Use through ``bs.get_law("downstream", form=..., floor=...)``.

    Parameters
    ----------
    form : {"exponential", "sigmoid"}
        ``"exponential"``: acc = 1 − Err(L), Err(L) = ε − k·exp(−γ·L) (Gadre et al. 2024).
        ``"sigmoid"``: acc = floor + (ceiling − floor)·σ(−s·(L − L_mid)).
    floor : float, optional
        Chance-level accuracy in [0, 1) (ε = 1 − floor in the exponential form); learned when
        None.
    x : str
        Input column holding the loss.
    output : str
        Name of the accuracy column.

    Examples
    --------
    >>> import bayescale as bs
    >>> law = bs.get_law("downstream", form="exponential", floor=0.25)
    >>> law.parameter_names
    ('gamma', 'delta')
    >>> import math
    >>> q = {"eps": 0.75, "k": 0.75 * math.exp(2.0 * 1.5), "gamma": 2.0, "L0": 1.5}
    >>> round(float(law.evaluate(q, loss=1.5)), 6)  # the error reaches 0 at L0
    1.0
    >>> law.natural_names
    ('eps', 'k', 'gamma', 'L0')
    """
    if form not in ("exponential", "sigmoid"):
        raise ValueError(f"form must be 'exponential' or 'sigmoid', got {form!r}")
    if not isinstance(x, str) or not x:
        raise ValueError(f"x must name an input column, got {x!r}")
    floor = _check_level("floor (chance level)", floor, upper_open=True)

    def reference(inputs: Mapping[str, np.ndarray]) -> dict[str, float]:
        values = np.asarray(inputs[x], dtype=float)
        return {"L_min": float(values.min()), "L_ref": float(values.mean())}

    if form == "exponential":
        eps_fixed = None if floor is None else 1.0 - floor

        def natural(xp: ArrayNamespace, p: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
            eps = p["eps"] if eps_fixed is None else xp.asarray(np.float64(eps_fixed))
            l0 = ref["L_min"] - p["delta"]
            return {"eps": eps, "k": eps * xp.exp(p["gamma"] * l0), "gamma": p["gamma"], "L0": l0}

        def expression(xp: ArrayNamespace, inp: Mapping[str, Any], q: Mapping[str, Any]) -> Any:
            decay = xp.log(q["k"]) - q["gamma"] * inp[x]
            if eps_fixed == 1.0:
                return decay
            return xp.logaddexp(xp.log1p(-q["eps"]), decay)

        params = (
            *(
                (Parameter("eps", Prior("Beta", alpha=3.0, beta=1.5), "error at very high loss"),)
                if eps_fixed is None
                else ()
            ),
            Parameter(
                "gamma",
                lognormal_median(2.0, 1.0),
                "decay rate of the error with falling loss, per nat",
            ),
            Parameter(
                "delta",
                lognormal_median(0.5, 1.0),
                "lowest fitted loss minus L0, the loss at which the expected error reaches 0",
            ),
        )

        def sampled(xp: ArrayNamespace, q: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
            out = {"gamma": q["gamma"], "delta": ref["L_min"] - q["L0"]}
            if eps_fixed is None:
                out["eps"] = q["eps"]
            return out

        eps_truth = 0.75 if eps_fixed is None else eps_fixed
        truth = {
            "eps": eps_truth,
            "k": eps_truth * math.exp(3.0 * 1.6),
            "gamma": 3.0,
            "L0": 1.6,
        }
        names = ("eps", "k", "gamma", "L0")
        description = "acc = 1 − Err(L), Err(L) = ε − k·exp(−γ·L)"
        citation = "Gadre et al. 2024, arXiv:2403.08540"
    else:

        def natural(xp: ArrayNamespace, p: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
            return {
                "L_mid": p["L_offset"] + ref["L_ref"],
                "s": p["s"],
                **_bounds(xp, p, floor, None),
            }

        def expression(xp: ArrayNamespace, inp: Mapping[str, Any], q: Mapping[str, Any]) -> Any:
            return _log_sigmoid_curve(xp, q, -q["s"] * (inp[x] - q["L_mid"]), floor)

        params = (
            Parameter(
                "L_offset",
                Prior("Normal", mu=0.0, sigma=1.0),
                "loss at the transition midpoint minus the data's mean loss",
            ),
            Parameter(
                "s",
                lognormal_median(5.0, 1.0),
                "steepness of the transition per nat of loss",
            ),
            *_bound_parameters(floor, None),
        )

        def sampled(xp: ArrayNamespace, q: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
            return {
                "L_offset": q["L_mid"] - ref["L_ref"],
                "s": q["s"],
                **_bounds_sampled(q, floor, None),
            }

        truth_floor = 0.25 if floor is None else floor
        truth = {
            "L_mid": 2.6,
            "s": 5.0,
            "floor": truth_floor,
            "ceiling": truth_floor + 0.7 * (1.0 - truth_floor),
        }
        names = ("L_mid", "s", "floor", "ceiling")
        description = "acc = floor + (ceiling − floor)·σ(−s·(L − L_mid))"
        citation = "Ruan et al. 2024, arXiv:2405.10938 (sigmoid link)"

    return ScalingLaw(
        name="downstream",
        version="1",
        inputs=(x,),
        parameters=params,
        expression=expression,
        natural=natural,
        reference=reference,
        natural_names=names,
        output=output,
        likelihoods=ACCURACY_LIKELIHOODS,
        default_likelihood="beta",
        sampled_from_natural=sampled,
        example_design=_loss_design(x),
        example_truth=truth,
        example_noise=EXAMPLE_NOISE,
        example_size=60,
        options={"form": form, "floor": floor, "x": x, "output": output},
        description=description + (f"; floor={floor:g}" if floor is not None else ""),
        citation=citation,
    )


def _loss_design(x: str) -> Any:
    """Losses spread evenly over 1.8–4.0 nats in column ``x``."""

    def design(n: int, seed: int) -> pd.DataFrame:
        return pd.DataFrame({x: np.sort(np.random.default_rng(seed).uniform(1.8, 4.0, n))})

    return design


register_law_family("emergence", "1", build_emergence)
register_law_family("downstream", "1", build_downstream)
