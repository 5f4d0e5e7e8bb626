"""Bad input is refused before any model is built, naming the column and the rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayescale as bs


@pytest.fixture
def runs():
    return bs.testing.simulate_chinchilla(n=12, random_seed=0)


def _fit(data, **kw):
    return bs.fit("chinchilla", data, draws=10, tune=10, progressbar=False, **kw)


def test_nan_inf_nonpositive_and_strings_named(runs):
    bad = runs.copy()
    bad.loc[2, "N"] = np.nan
    bad.loc[5, "D"] = np.inf
    bad.loc[7, "loss"] = -1.0
    bad["N"] = bad["N"].astype(object)
    bad.loc[9, "N"] = "1.3B"
    with pytest.raises(ValueError) as err:
        _fit(bad)
    msg = str(err.value)
    assert "column 'N' has missing (NaN) values in 1 row(s): 2" in msg
    assert "column 'N' has non-numeric values in 1 row(s): 9 ('1.3B')" in msg
    assert "column 'D' has infinite values in 1 row(s): 5" in msg
    assert "column 'loss' must be > 0: 1 row(s): 7 (-1.0)" in msg


def test_zero_inputs_are_refused(runs):
    with pytest.raises(ValueError, match=r"column 'D' must be > 0: 1 row\(s\): 0 \(0.0\)"):
        _fit(runs.assign(D=np.r_[0.0, runs["D"].to_numpy()[1:]]))


def test_missing_and_misspelt_columns(runs):
    with pytest.raises(ValueError, match=r"missing column 'D'.*did you mean 'd'"):
        _fit(runs.rename(columns={"D": "d"}))
    with pytest.raises(ValueError, match=r"missing column 'loss'.*did you mean 'los'"):
        _fit(runs.rename(columns={"loss": "los"}))
    with pytest.raises(ValueError, match=r"missing column 'parameters'.*available columns"):
        _fit(runs, columns={"N": "parameters"})
    mapped = runs.rename(columns={"N": "params"})
    with pytest.raises(ValueError, match="not use"):
        _fit(mapped, columns={"N": "params", "X": "y"})


def test_column_mapping_is_used(runs):
    from bayescale.data import prepare_data

    law = bs.get_law("chinchilla")
    mapped = runs.rename(columns={"N": "params", "loss": "val_loss"})
    prep = prepare_data(law, mapped, {"N": "params", "loss": "val_loss"})
    np.testing.assert_array_equal(prep.inputs["N"], runs["N"].to_numpy())
    np.testing.assert_array_equal(prep.y, runs["loss"].to_numpy())


def test_fewer_rows_than_parameters(runs):
    # proper priors carry what 6 runs cannot: a warning, not an error (issue 10); an improper
    # prior makes the same fit an error that names it
    with pytest.raises(ValueError, match=r"6 runs for 7 free parameters.*\['log_E'\]"):
        _fit(runs.head(6), priors={"log_E": bs.Prior("Flat")})


def test_bad_rows_listed_with_labels():
    frame = pd.DataFrame(
        {"N": [1e8] * 20, "D": [1e9] * 20, "loss": [3.0] * 20}, index=[f"run{i}" for i in range(20)]
    )
    frame.loc[[f"run{i}" for i in range(10)], "loss"] = -2.0
    with pytest.raises(ValueError, match=r"10 row\(s\): 'run0' \(-2.0\).* and 2 more"):
        _fit(frame)


def test_bad_arguments():
    runs = bs.testing.simulate_chinchilla(n=12, random_seed=0)
    with pytest.raises(ValueError, match="unknown likelihood"):
        _fit(runs, likelihood="cauchy")
    with pytest.raises(ValueError, match="sampler must be"):
        _fit(runs, sampler="hmc")
    with pytest.raises(ValueError, match="draws must be a positive integer"):
        bs.fit("chinchilla", runs, draws=0)
    with pytest.raises(ValueError, match="nutpie needs at least one warm-up iteration"):
        bs.fit("chinchilla", runs, tune=0)
    with pytest.raises(ValueError, match="unknown prior name"):
        _fit(runs, priors={"gamma": bs.Prior("Normal", mu=0, sigma=1)})


def test_likelihood_invalid_rows_hook_is_used_whatever_its_name():
    """prepare_data asks the likelihood which runs it cannot observe: no test on its name."""
    from dataclasses import replace

    from bayescale.data import prepare_data
    from bayescale.likelihoods import InvalidRows

    law = bs.get_law("emergence", floor=0.0)
    runs = pd.DataFrame(
        {"C": np.logspace(19, 24, 4), "acc": [0.1, 0.333, 0.5, 0.9], "items": [10.0, 3, 7, 10]},
        index=["a", "b", "c", "d"],
    )
    columns = {"accuracy": "acc", "n_items": "items"}
    renamed = replace(bs.get_likelihood("binomial"), name="my_counts")
    with pytest.raises(ValueError) as err:
        prepare_data(law, runs, columns, likelihood=renamed)
    assert "column 'acc' × column 'items' must be a whole number" in str(err.value)
    assert "2 row(s): 'b' (0.999), 'c' (3.5)" in str(err.value)

    def above_half(y, **_):
        mask = np.asarray(y) > 0.5
        return InvalidRows(mask, np.asarray(y), "{output} must be at most 0.5 here; value in ")

    capped = replace(bs.get_likelihood("beta"), name="capped", invalid_rows=above_half)
    with pytest.raises(ValueError, match=r"column 'acc' must be at most 0.5 here; value in 1 row"):
        prepare_data(law, runs, {"accuracy": "acc"}, likelihood=capped)
    prepare_data(law, runs, {"accuracy": "acc"}, likelihood=bs.get_likelihood("beta"))


def test_output_domain_rule_is_shared():
    from bayescale.likelihoods import outside_domain

    y = np.array([-0.1, 0.0, 0.5, 1.0, 1.5, np.nan, np.inf])
    assert outside_domain("unit", y).tolist() == [True, False, False, False, True, False, False]
    assert outside_domain("positive", y).tolist() == [True, True, False, False, False, False, False]
    beta = bs.get_likelihood("beta")
    np.testing.assert_array_equal(beta.outside_domain(y), outside_domain("unit", y))
    with pytest.raises(ValueError, match="unknown output domain"):
        outside_domain("simplex", y)
