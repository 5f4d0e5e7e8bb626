"""MAP fits and in-sample pseudo-forecasts for the calibration study (no NUTS)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

import bayescale as bs
from bayescale.data import prepare_data
from bayescale.model import build_model, data_values
from bayescale.sampling import compile_model, find_mode
from bayescale.structure import resolve_structure

SLICE_WIDTH = 0.2  # decades: the top slice of an axis held out by the pseudo-forecast


@dataclass
class MapPoint:
    law: Any
    q: dict
    sigma: float
    nu: float

    def log_mean(self, inputs):
        return np.asarray(self.law.log_mean(self.q, **inputs), dtype=float)


def map_point(law, runs: pd.DataFrame, likelihood: str = "studentt") -> MapPoint:
    law = bs.get_law(law)
    lik = bs.get_likelihood(likelihood)
    prepared = prepare_data(law, runs, likelihood=lik)
    reference = law.compute_reference(prepared.inputs)
    priors = {**law.default_priors, **lik.noise_priors}
    values = data_values(law, prepared, reference, lik, {})
    model = build_model(law, prepared, priors, lik, reference, values)
    compiled = compile_model(model, cache=True)
    starts = None
    if law.multistart.n_starts:
        from bayescale.multistart import law_starts

        starts = law_starts(law, model, compiled, 0)
    x, _ = find_mode(compiled, values, compiled.x0, starts)
    flat = compiled.logp_fn(x, *compiled.data_args(values, compiled.data_names))[2]
    p, i = {}, 0
    for name, shape in zip(compiled.rv_names, compiled.rv_shapes, strict=True):
        size = int(np.prod(shape)) if shape else 1
        p[name] = np.asarray(flat[i : i + size]).reshape(shape)
        i += size
    q = law.natural_params({k: p[k] for k in law.parameter_names}, reference)
    return MapPoint(law, q, float(p.get("sigma", np.nan)), float(p.get("nu", np.nan)))


@dataclass
class Pseudo:
    axis: str
    n_slice: int
    distance: float
    error: float
    drift: float


def pseudo_forecast(law, runs: pd.DataFrame, width: float = SLICE_WIDTH, per_axis=None) -> Pseudo:
    """Per scale axis: hold out the runs in the top ``width`` decades, MAP-fit the rest, the
    mean log error of the slice scaled to one decade beyond noise; the largest over axes."""
    law = bs.get_law(law)
    full, _ = resolve_structure(None, True, runs, law.inputs, law.required_positive)
    n_free = len(law.parameter_names) + 2
    best = Pseudo("", 0, np.nan, np.nan, 0.0)
    for axis in full.axes:
        x = (
            6 * runs["N"].to_numpy(float) * runs["D"].to_numpy(float)
            if axis == "C" and "C" not in runs
            else runs[axis].to_numpy(float)
        )
        lx = np.log10(x)
        top = lx >= lx.max() - width
        if top.all() or (~top).sum() < n_free:
            continue
        rest, held = runs[~top].reset_index(drop=True), runs[top].reset_index(drop=True)
        point = map_point(law, rest)
        s, _ = resolve_structure(None, True, rest, law.inputs, law.required_positive)
        inputs = {k: held[k].to_numpy(float) for k in law.inputs}
        err = np.log(held[law.output].to_numpy(float)) - point.log_mean(inputs)
        d = float(s.distance(inputs).mean())
        ebar = float(err.mean())
        drift = np.sqrt(max(ebar**2 - point.sigma**2 / len(err), 0.0) / d) if d > 0 else 0.0
        if per_axis is not None:
            per_axis[axis] = Pseudo(axis, int(top.sum()), d, ebar, float(drift))
        if drift >= best.drift:
            best = Pseudo(axis, int(top.sum()), d, ebar, float(drift))
    return best
