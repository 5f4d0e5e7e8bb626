"""Interval tables of Datasets whose variables are stored in any dimension order."""

from __future__ import annotations

import numpy as np
import xarray as xr

from bayescale.export import summary_table


def test_interval_table_of_a_variable_stored_compute_first():
    rng = np.random.default_rng(0)
    chains, draws, budgets = 2, 50, [1e21, 1e22, 1e23]
    # draws centred on 1, 10, 100 along compute, so a mixed-up reshape is visible
    values = rng.normal(1.0, 0.01, (chains, draws, 3)) * np.array([1.0, 10.0, 100.0])
    coords = {"chain": [0, 1], "draw": np.arange(draws), "compute": budgets}
    standard = xr.DataArray(values, dims=("chain", "draw", "compute"), coords=coords)
    ds = xr.Dataset(
        {
            "x": standard.transpose("compute", "chain", "draw"),
            "y": standard.transpose("draw", "compute", "chain") * 2,
            "scalar": standard.isel(compute=0, drop=True),  # not along compute: left out
        }
    )
    table = summary_table(ds, prob=0.9)
    assert list(table.index) == budgets
    flat = values.reshape(-1, 3)
    np.testing.assert_array_equal(table["x_median"], np.median(flat, axis=0))
    np.testing.assert_array_equal(table["y_median"], np.median(2 * flat, axis=0))
    np.testing.assert_array_equal(table["x_lo90"], np.quantile(flat, 0.05, axis=0))
    assert not any(c.startswith("scalar") for c in table.columns)
