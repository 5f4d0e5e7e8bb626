"""Saving and loading fits as NetCDF: posterior, stats, data and the fit's definition.

The file is an ArviZ DataTree written with h5netcdf. The root attributes record the law's name
and version, the likelihood, every prior (JSON), the reference scales and the sampler settings;
the runs sit in ``constant_data`` and ``observed_data``. Loading looks the law up in the registry
and refuses a file whose law or version is not registered. Nothing is pickled.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from . import __version__
from .fit import Fit
from .law import get_law
from .likelihoods import get_likelihood
from .priors import Prior
from .structure import Structure

__all__ = ["load_fit", "save_fit"]

FORMAT = "bayescale-fit/1"


def save_fit(fit: Fit, path: str | os.PathLike) -> str:
    """Write ``fit`` to ``path`` (NetCDF4/HDF5). Returns the path as a string."""
    path = Path(path)
    tree = fit.idata.copy()
    tree.attrs.update(
        {
            "bayescale_format": FORMAT,
            "bayescale_version": __version__,
            "bayescale_law": fit.law.name,
            "bayescale_law_version": fit.law.version,
            "bayescale_law_options": json.dumps(fit.law.options, sort_keys=True),
            "bayescale_likelihood": fit.likelihood.name,
            "bayescale_priors": json.dumps({k: v.to_dict() for k, v in fit.priors.items()}),
            "bayescale_reference": json.dumps(fit.reference),
            "bayescale_sampler": fit.sampler,
            "bayescale_timings": json.dumps(fit.timings),
            "bayescale_structure": json.dumps(fit.structure.to_dict()),
        }
    )
    if fit.random_seed is not None:
        tree.attrs["bayescale_random_seed"] = int(fit.random_seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tree.to_netcdf(tmp, engine="h5netcdf")
    os.replace(tmp, path)
    return str(path)


def load_fit(path: str | os.PathLike) -> Fit:
    """Read a fit written by :func:`save_fit`."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no fit file at {path}")
    try:
        with xr.open_datatree(path, engine="h5netcdf") as handle:
            tree = handle.load()
    except OSError as err:
        raise ValueError(f"{path} is not a readable NetCDF fit file: {err}") from None
    attrs = tree.attrs
    if attrs.get("bayescale_format") != FORMAT:
        raise ValueError(
            f"{path} was not written by bayescale's Fit.save (format "
            f"{attrs.get('bayescale_format')!r}, expected {FORMAT!r})"
        )
    name, version = attrs["bayescale_law"], str(attrs["bayescale_law_version"])
    options = json.loads(attrs.get("bayescale_law_options", "{}"))
    try:
        law = get_law(name, version, **options)
    except ValueError as err:
        raise ValueError(
            f"cannot load {path}: it was fitted with law {name!r} version {version!r}, "
            f"which is not registered here ({err}). Register the same law definition with "
            "bayescale.register_law before loading."
        ) from None
    likelihood = get_likelihood(attrs["bayescale_likelihood"])
    priors = {k: Prior.from_dict(v) for k, v in json.loads(attrs["bayescale_priors"]).items()}
    structure = Structure.from_dict(json.loads(attrs.get("bayescale_structure", "{}")))
    expected = (
        set(law.parameter_names) | set(likelihood.noise_priors) | set(structure.default_priors())
    )
    if set(priors) != expected:
        raise ValueError(
            f"cannot load {path}: its priors name {sorted(priors)}, but {law.key} with the "
            f"{likelihood.name} likelihood has parameters {sorted(expected)}"
        )
    reference = json.loads(attrs["bayescale_reference"])
    const = tree["constant_data"].to_dataset()
    index = pd.Index(const["run"].to_numpy(), name=None)
    columns = [*law.inputs, law.output, *likelihood.extra_columns]
    data = pd.DataFrame(
        {k: np.asarray(const[k].to_numpy(), dtype=float) for k in dict.fromkeys(columns)},
        index=index,
    )
    for g in structure.groupings:
        if g.column not in data.columns and not (g.column == "C" and {"N", "D"} <= set(data)):
            codes = np.asarray(const[g.index_name].to_numpy(), dtype=np.int64)
            data[g.column] = np.asarray(g.labels, dtype=object)[codes]
    seed = attrs.get("bayescale_random_seed")
    timings = json.loads(attrs.get("bayescale_timings", "{}"))
    for key in list(tree.attrs):
        if key.startswith("bayescale_") and key not in (
            "bayescale_law",
            "bayescale_law_version",
            "bayescale_law_options",
            "bayescale_likelihood",
            "bayescale_sampler",
            "bayescale_random_seed",
            "bayescale_tune_steps",
            "bayescale_structure",
        ):
            del tree.attrs[key]
    return Fit(
        law,
        likelihood,
        priors,
        data,
        reference,
        tree,
        timings=timings,
        sampler=str(attrs.get("bayescale_sampler", "nutpie")),
        random_seed=None if seed is None else int(seed),
        structure=structure,
    )
