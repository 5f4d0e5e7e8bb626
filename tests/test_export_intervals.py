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
    table = summary_table(ds, ci_prob=0.9)
    assert list(table.index) == budgets
    flat = values.reshape(-1, 3)
    np.testing.assert_array_equal(table["x_median"], np.median(flat, axis=0))
    np.testing.assert_array_equal(table["y_median"], np.median(2 * flat, axis=0))
    np.testing.assert_array_equal(table["x_lo90"], np.quantile(flat, 0.05, axis=0))
    assert not any(c.startswith("scalar") for c in table.columns)


def test_interval_table_of_compute_for_loss_skips_flags_and_counts_missing_draws():
    import bayescale as bs

    fit = bs.testing.pinned_fit(random_seed=0)
    ds = bs.compute_for_loss(fit, [2.0, 1.83])  # has bool `reachable`, object `status`, NaNs
    table = summary_table(ds, ci_prob=0.8)
    assert table.index.name == "target_loss" and list(table.index) == [2.0, 1.83]
    assert not any(c.startswith(("reachable", "status", "n_")) for c in table.columns)
    flat = ds["C_needed"].transpose("chain", "draw", "target_loss").to_numpy().reshape(-1, 2)
    assert np.isnan(flat[:, 1]).sum() == 332  # unreachable draws: no answer
    np.testing.assert_allclose(table["C_needed_median"], np.nanmedian(flat, axis=0), rtol=1e-12)
    np.testing.assert_allclose(
        table["C_needed_lo80"], np.nanquantile(flat, 0.1, axis=0), rtol=1e-12
    )
    assert np.isfinite(table.to_numpy()).all()
    assert table["C_needed_n_missing"].tolist() == [0, 332]
    # the same numbers as decision_summary, in wide form
    long = bs.decision_summary(ds, ci_prob=0.8)
    np.testing.assert_array_equal(
        table["N_opt_hi80"], long.xs("N_opt", level="variable")["ci80_hi"]
    )


def test_interval_table_over_two_grid_dimensions():
    rng = np.random.default_rng(1)
    values = rng.normal(size=(2, 30, 2, 3)) + np.arange(6).reshape(2, 3)
    coords = {"chain": [0, 1], "draw": np.arange(30), "a": [1, 2], "b": [5, 6, 7]}
    da = xr.DataArray(values, dims=("chain", "draw", "a", "b"), coords=coords)
    table = summary_table(xr.Dataset({"x": da.transpose("b", "draw", "a", "chain")}), ci_prob=0.5)
    assert table.index.names == ["a", "b"] and len(table) == 6
    expected = np.median(values.reshape(60, 6), axis=0)
    np.testing.assert_allclose(table["x_median"], expected, rtol=1e-12)
    assert list(table.columns) == ["x_median", "x_lo50", "x_hi50"]
