from __future__ import annotations

import json

import pytest

import bayescale as bs
from bayescale.priors import merge_priors


def test_round_trip_and_parse():
    p = bs.Prior("LogNormal", mu=-1.2, sigma=0.7)
    assert bs.Prior.from_dict(json.loads(p.to_json())) == p
    assert bs.Prior.parse("LogNormal(mu=-1.2, sigma=0.7)") == p
    assert bs.Prior.parse("fixed(0.34)") == bs.Prior.fixed(0.34)
    with pytest.raises(ValueError, match="not a PyMC distribution"):
        bs.Prior("Nromal", mu=0, sigma=1)
    with pytest.raises(ValueError, match="not finite"):
        bs.Prior("Normal", mu=float("nan"), sigma=1)
    with pytest.raises(ValueError, match="cannot parse"):
        bs.Prior.parse("Normal(0, 1)")


def test_override_by_name_and_unknown_name():
    law = bs.get_law("chinchilla")
    merged = merge_priors(law.default_priors, {"alpha": bs.Prior("Normal", mu=0.3, sigma=0.05)})
    assert merged["alpha"].dist == "Normal" and merged["beta"] == law.default_priors["beta"]
    with pytest.raises(ValueError, match="unknown prior name 'E'"):
        merge_priors(law.default_priors, {"E": bs.Prior("Normal", mu=1.7, sigma=0.1)})


def test_card_as_prior():
    pri = bs.load_card("besiroglu2024").as_priors()
    assert pri["alpha"].params == {"mu": 0.3478, "sigma": 0.0154}
    assert pri["log_E"].params["mu"] == pytest.approx(0.59718, abs=1e-4)
    assert pri["log_E"].params["sigma"] == pytest.approx(0.026 / 1.817)
    assert "log_A_ref" not in pri


def test_cards_listing_and_errors():
    names = set(bs.list_cards()["name"])
    assert {"hoffmann2022", "besiroglu2024", "kaplan2020"} <= names
    k = bs.load_card("kaplan2020")
    assert k.params["alpha_N"] == 0.076 and k.derived["N_opt_exponent"] == 0.73
    with pytest.raises(ValueError, match="did you mean 'hoffmann2022'"):
        bs.load_card("hofmann2022")
