"""Numbers for people (3 significant digits, K/M/B/T, FLOPs) and the fit's text views."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from bayescale import display
from bayescale.export import render_table


@pytest.mark.parametrize(
    ("value", "name", "text"),
    [
        (70.2e9, "N", "70.2B parameters"),
        (70_153_000_000, "N", "70.2B parameters"),
        (1.36e12, "D", "1.36T tokens"),
        (1.4e12, "D_opt", "1.4T tokens"),
        (5.88e23, "C", "5.88e23 FLOPs"),
        (5.9e23, "compute", "5.9e23 FLOPs"),
        (400e6, "N", "400M parameters"),
        (999.7e6, "N", "1B parameters"),
        (0.34751, "alpha", "0.348"),
        (1.6937, None, "1.69"),
        (2085.43, None, "2085"),
        (999.7, None, "1000"),
        (0.000123456, None, "1.23e-4"),
        (float("nan"), None, "–"),
    ],
)
def test_human_numbers(value, name, text):
    assert display.human(value, name) == text


def test_interval_names_its_unit_once():
    assert display.interval(70.2e9, 50e9, 1.01e11, "N") == "70.2B [50B, 101B] parameters"


def test_tick_formatter():
    f = display.HumanFormatter("count")
    assert [f(v) for v in (1e8, 1e9, 3e10, 1e12)] == ["100M", "1B", "30B", "1T"]
    assert display.HumanFormatter("flops")(1e21) == "1e21"
    minor = display.HumanFormatter("count", subs=(2.0, 5.0))
    assert minor(2e9) == "2B" and minor(3e9) == ""


def test_display_tables_round_to_three_digits_and_data_formats_keep_every_digit(pinned):
    s = pinned.summary()
    md = render_table(s, "md")
    row = next(line for line in md.splitlines() if line.startswith("| alpha |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == display.number(s.loc["alpha", "mean"])
    assert re.fullmatch(r"\d+", cells[6]) and re.fullmatch(r"\d\.\d{3}", cells[8])  # ESS, R-hat
    csv = render_table(s, "csv")
    assert repr(float(s.loc["alpha", "mean"])) in csv  # full precision


def test_summary_published_and_all(pinned):
    pub = pinned.summary()
    assert list(pub.index) == ["A", "B", "E", "alpha", "beta", "a", "b", "sigma", "nu"]
    every = pinned.summary(kind="all")
    assert {"log_E", "log_A_ref", "log_B_ref"} <= set(every.index)
    pd.testing.assert_frame_equal(every.loc[pub.index], pub, check_like=False)
    assert "ci80_lo" in pinned.summary(ci_prob=0.8).columns
    with pytest.raises(ValueError, match="kind"):
        pinned.summary(kind="internal-ish")


def test_str_shows_every_row_and_column_in_a_narrow_terminal(pinned, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    text = str(pinned)
    assert "rows x" not in text and "..." not in text
    for name in pinned.summary().index:
        assert re.search(rf"^{name}\s", text, re.M), name
    for col in ("ci95_lo", "ci95_hi", "r_hat", "ess_bulk"):
        assert col in text
    assert max(len(line) for line in text.splitlines()[1:-1]) <= 60


def test_repr_uses_human_numbers(pinned):
    text = repr(pinned)
    assert "median [95% interval]" in text
    med = pinned.summary().loc["alpha", "median"]
    assert f"alpha = {display.number(med)} [" in text
    html = pinned._repr_html_()
    assert "converged" in html and "<details>" in html


def test_published_summary_keeps_structure_and_drops_internal_parameters(pinned):
    names = list(pinned.summary().index)
    structure = [n for n in pinned.structure.default_priors() if n in pinned.posterior]
    assert set(structure) <= set(names)
    assert not [n for n in names if n.startswith(("log_", "group_z")) or n.endswith("_ref")]
