"""Calibration of predictive intervals on real held-out runs (out of sample, beyond the data).

For every real split — fit the small runs, predict the large ones — print the number of held-out
runs, coverage of the central 50/80/95% predictive intervals, median |relative error|, mean 95%
width (relative to the observed loss), mean CRPS and the KS p-value of the PIT values, for:

* ``independent``: Student-t noise only (the model before structured noise; ``groups=None,
  drift=False``);
* ``default``: what ``bs.fit(law, runs)`` does today (extrapolation drift; no group offsets);
* further variants given with ``--variants`` or ``--models`` (see ``VARIANTS``): e.g.
  ``drift_fixed``, the drift prior before the pseudo-forecast (LogNormal(log 0.02, 0.5) for
  every fit), ``nu_away`` (Student-t ν ~ Gamma(3, 0.15)), ``nu_finite`` (ν ~ Gamma(4, 0.2)),
  ``normal``;
* ``--drift-shapes SD:median SD:rms``: the same fits re-scored with each fit's LogNormal drift
  prior given log-sd SD, its median or its root mean square kept (the stop-20 study; see
  ``diagnose_calibration.py``);
* ``--scatter S1 S2``: the same fits re-scored with the extrapolation scatter
  (``structure.py``; ``SCATTER``; the stop-20 second study, not adopted: see
  ``diagnose_calibration.py``);
* ``--drift-adaptive``: the same fits re-scored with a data-adaptive drift median (``ADAPTIVE``,
  the issue-10 study; exact, the drift being prior-only); ``--cache DIR`` keeps the backtests
  so re-scoring does not refit;
* ``classical``: Besiroglu et al.'s Huber/L-BFGS point fit with bootstrap intervals
  (``benchmarks/classical.py``; bootstrap refits give parameter uncertainty, residuals resampled
  from the fit's own residuals give the noise), Chinchilla law only.

Splits (all data read with ``bs.load_dataset``; nothing is copied):

* Chinchilla, Besiroglu et al.'s 240 runs, fit C < 1e21;
* every isoFLOP experiment of ``isoflops_openathena`` except ``llama_3__exp_loss`` (the same points
  as ``llama_3__raw_loss``), rolling: fit the budgets below the second-largest, then below the
  largest (Llama 3: also budget < 3e21, the split of issue 10);
* ``datablations_muennighoff2023`` (data-constrained law), fit N < 2e9 (predict 2.8B, 4.2B, 8.7B);
* ``misfitting_li2025`` final checkpoints (best learning rate per model and run length), fit
  N below the third-largest size.

Usage::

    python benchmarks/bench_calibration.py                      # all splits, default + independent
    python benchmarks/bench_calibration.py --variants normal --no-classical --draws 500
    python benchmarks/bench_calibration.py --out results/calibration.csv --figure fig.png
    python benchmarks/bench_calibration.py --models default drift_fixed --no-classical
    python benchmarks/bench_calibration.py --models drift_fixed --no-classical \
        --drift-adaptive pf_max pf_rms pfC_max pfC_rms --cache /tmp/calib
"""

from __future__ import annotations

import argparse
import dataclasses
import pickle
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bayescale as bs
from bayescale.io import atomic_write
from bayescale.validation import _metrics, _predictive_draws, _score

PROBS = (0.5, 0.8, 0.95)

#: Model variants: keyword arguments of bs.fit.
VARIANTS = {
    "independent": {"groups": None, "drift": False},
    "default": {},
    "groups_only": {"drift": False},
    "groups_and_drift": {"groups": "auto"},
    "normal": {"likelihood": "normal"},
    "normal_independent": {"likelihood": "normal", "groups": None, "drift": False},
    # the drift prior before the pseudo-forecast: LogNormal(log 0.02, 0.5) for every fit
    "drift_fixed": {"priors": {"drift": bs.Prior("LogNormal", mu=float(np.log(0.02)), sigma=0.5)}},
    # issue 10 study: a Student-t ν kept away from very small values (mean 20 as the default
    # Gamma(2, 0.1), 5% quantile 5.5 instead of 3.6)
    "nu_away": {"priors": {"nu": bs.Prior("Gamma", alpha=3.0, beta=0.15)}},
    # stop 20 study: a Student-t ν with finite variance almost surely (mean 20 as the default
    # Gamma(2, 0.1); P(ν < 2) 0.0008 instead of 0.018, P(ν < 4) 0.009 instead of 0.062)
    "nu_finite": {"priors": {"nu": bs.Prior("Gamma", alpha=4.0, beta=0.2)}},
}


def splits() -> list[dict]:
    """Every real split: name, law, data, split column, cutoffs."""
    out = []
    runs = bs.load_dataset("chinchilla_besiroglu2024")
    runs = runs.drop(index=runs["loss"].nlargest(5).index)
    out.append(
        dict(name="chinchilla C<1e21", law="chinchilla", data=runs, column="C", cutoffs=[1e21])
    )
    iso = bs.load_dataset("isoflops_openathena")
    for exp, frame in iso.groupby("experiment"):
        if exp == "llama_3__exp_loss":
            continue
        budgets = np.sort(frame["C"].unique())
        cutoffs = [float(budgets[-2]), float(budgets[-1])]
        if exp == "llama_3__raw_loss":
            cutoffs = sorted({3e21, *cutoffs})
        cols = ["N", "D", "C", "loss"]
        out.append(
            dict(
                name=f"isoflops {exp}",
                law="chinchilla",
                data=frame[cols].reset_index(drop=True),
                column="C",
                cutoffs=cutoffs,
            )
        )
    dc = bs.load_dataset("datablations_muennighoff2023")
    out.append(
        dict(
            name="datablations N<2e9",
            law="data_constrained",
            data=dc[["N", "D", "U", "loss"]],
            column="N",
            cutoffs=[2e9],
        )
    )
    mf = bs.load_dataset("misfitting_li2025")
    best = mf.loc[mf.groupby(["model", "train_tokens"])["loss"].idxmin()]
    sizes = np.sort(best["N"].unique())
    out.append(
        dict(
            name="misfitting final ckpt by N",
            law="chinchilla",
            data=best[["N", "D", "C", "loss"]].reset_index(drop=True),
            column="N",
            cutoffs=[float(sizes[-3])],
        )
    )
    return out


def _rows(name: str, variant: str, table: pd.DataFrame, seconds: float) -> dict:
    m = _metrics(table, PROBS)
    rel_width = ((table["hi95"] - table["lo95"]) / table["observed"]).mean()
    return {
        "split": name,
        "model": variant,
        "n": int(m["n_test"]),
        "cov50": m["coverage_50"],
        "cov80": m["coverage_80"],
        "cov95": m["coverage_95"],
        "mdape": m["median_abs_rel_error"],
        "width95": rel_width,
        "crps": m["mean_crps"],
        "crps_log": m.get("mean_crps_log", np.nan),
        "pit_ks_p": m["pit_ks_pvalue"],
        "seconds": seconds,
    }


def run_bayes(
    split: dict,
    variant: str,
    draws: int,
    seed: int,
    drift_scales: list[float],
    drift_spreads: list[float] | None = None,
    drift_powers: list[float] | None = None,
    adaptive: list[str] | None = None,
    cache: str | None = None,
    drift_shapes: list[str] | None = None,
    scatter: list[str] | None = None,
    signed: list[str] | None = None,
) -> list[tuple[dict, pd.DataFrame]]:
    """Backtest one variant; with drift, also re-score with the drift prior's scale set to each
    of ``drift_scales`` (the drift is not in the likelihood, so its posterior is its prior and
    rescaling the draws is exact: no refit needed)."""
    t0 = time.perf_counter()
    cached = _cache_path(cache, split, variant, draws, seed)
    if cached is not None and cached.exists():
        with open(cached, "rb") as handle:
            bt, seconds = pickle.load(handle)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bt = bs.backtest(
                split["law"],
                split["data"],
                split={split["column"]: split["cutoffs"]},
                random_seed=seed,
                draws=draws,
                **VARIANTS[variant],
            )
        seconds = time.perf_counter() - t0
        if cached is not None:
            import cloudpickle

            from bayescale.io import atomic_write

            for f in bt.fits.values():
                f._model = None  # the PyMC model does not pickle; Fit.model rebuilds it

            def write(tmp: str) -> None:
                with open(tmp, "wb") as handle:
                    cloudpickle.dump((bt, seconds), handle)

            atomic_write(cached, write)
    out = [
        (
            _rows(split["name"], variant, bt.table, seconds),
            bt.table.assign(split=split["name"], model=variant),
        )
    ]
    first = next(iter(bt.fits.values()))
    if not first.structure.drift:
        return out
    for shape in drift_shapes or []:
        out.append(_rescore_shape(split, variant, bt, seed, shape))
    for candidate in scatter or []:
        out.append(_rescore_scatter(split, variant, bt, seed, candidate))
    for candidate in signed or []:
        out.append(_rescore_signed(split, variant, bt, seed, candidate))
    prior = first.priors["drift"]
    lognormal = prior.dist == "LogNormal"
    base = np.exp(prior.params["mu"]) if lognormal else prior.params["sigma"]
    spreads = drift_spreads if (drift_spreads and lognormal) else [None]
    law = bs.get_law(split["law"])
    data = split["data"]
    col = data[split["column"]] if split["column"] in data else 6 * data["N"] * data["D"]
    powers = drift_powers or [None]
    settings = [(a, b, c) for a in drift_scales for b in spreads for c in powers]
    settings += [(rule, None, None) for rule in adaptive or []]
    for scale, spread, power in settings:
        tables = []
        for i, (cutoff, f) in enumerate(bt.fits.items()):
            own = f.structure
            if power is not None:
                f.structure = dataclasses.replace(own, drift_power=power)
            post = f.idata["posterior"]
            original = post["drift"].copy()
            # each fit's own prior median (data-adaptive since the pseudo-forecast)
            prior = f.priors["drift"]
            base = np.exp(prior.params["mu"]) if lognormal else prior.params["sigma"]
            if isinstance(scale, str):  # a data-adaptive median, the prior's shape kept
                post["drift"] = original * (_adaptive_median(scale, f, law) / base)
            elif spread is None:  # the prior's median moves, its shape stays
                post["drift"] = original * (scale / base)
            else:  # LogNormal(log scale, spread) from the same standard normal draws
                z = (np.log(original) - np.log(base)) / prior.params["sigma"]
                post["drift"] = np.exp(np.log(scale) + spread * z)
            test = data[(col >= cutoff).to_numpy()]
            inputs = {k: test[k].to_numpy(float) for k in law.inputs}
            draws_ = _predictive_draws(f, inputs, random_seed=seed + 1000 + i, frame=test)
            flat = draws_.to_numpy().reshape(-1, len(test))
            scored = _score(flat, test[law.output].to_numpy(float), PROBS)
            tables.append(pd.DataFrame(scored).assign(cutoff=cutoff))
            post["drift"] = original
            f.structure = own
        table = pd.concat(tables, ignore_index=True)
        if isinstance(scale, str):
            out.append(
                (
                    _rows(split["name"], f"{variant} {scale}", table, 0.0),
                    table.assign(split=split["name"], model=f"{variant} {scale}"),
                )
            )
            continue
        name = f"{variant} drift={scale:g}" + (f",spread={spread:g}" if spread else "")
        name += f",power={power:g}" if power is not None else ""
        out.append(
            (_rows(split["name"], name, table, 0.0), table.assign(split=split["name"], model=name))
        )
    return out


def _rescore_shape(split: dict, variant: str, bt, seed: int, shape: str):
    """Re-score ``bt``'s fits with each fit's LogNormal drift prior given another log-sd.

    ``shape`` is ``"SD:median"`` (the fit's median kept) or ``"SD:rms"`` (the root mean square
    E[drift²]^½ kept: the median moves by exp(sd₀² − sd²)). Exact: the drift is prior-only, and
    the new draws are the old ones' standard normals mapped to the new prior (the same random
    numbers, so the difference from the fit's own scores is the prior's alone)."""
    sd_text, keep = shape.split(":")
    sd = float(sd_text)
    if keep not in ("median", "rms"):
        raise ValueError(f"--drift-shapes: {shape!r} must end in ':median' or ':rms'")
    law = bs.get_law(split["law"])
    data = split["data"]
    col = data[split["column"]] if split["column"] in data else 6 * data["N"] * data["D"]
    tables = []
    for i, (cutoff, f) in enumerate(bt.fits.items()):
        prior = f.priors["drift"]
        if prior.dist != "LogNormal":
            raise ValueError(f"--drift-shapes needs a LogNormal drift prior, got {prior.dist}")
        mu0, sd0 = prior.params["mu"], prior.params["sigma"]
        post = f.idata["posterior"]
        original = post["drift"].copy()
        z = (np.log(original) - mu0) / sd0
        mu = mu0 + (sd0**2 - sd**2 if keep == "rms" else 0.0)
        post["drift"] = np.exp(mu + sd * z)
        test = data[(col >= cutoff).to_numpy()]
        inputs = {k: test[k].to_numpy(float) for k in law.inputs}
        draws_ = _predictive_draws(f, inputs, random_seed=seed + 1000 + i, frame=test)
        flat = draws_.to_numpy().reshape(-1, len(test))
        scored = _score(flat, test[law.output].to_numpy(float), PROBS)
        tables.append(pd.DataFrame(scored).assign(cutoff=cutoff))
        post["drift"] = original
    table = pd.concat(tables, ignore_index=True)
    name = f"{variant} drift_sd={sd:g},{keep}"
    return _rows(split["name"], name, table, 0.0), table.assign(split=split["name"], model=name)


#: Extrapolation scatter candidates (stop 20, second study; rule in the commit "Extrapolation
#: scatter study rule"): ``S1`` adds the scatter (structure.py) to the fit's drift as it is;
#: ``S2`` also sets the drift's median from the pseudo-forecast's median error (robust bias).
SCATTER = ("S1", "S2")


def _scatter_structure(f, candidate: str):
    """The fit's structure with the scatter, and its drift prior for ``candidate``, from the
    pseudo-forecast redone exactly as ``bs.fit`` does it (the fit's own mode finder); checked
    to reproduce the mean error the fit saved."""
    from bayescale.data import prepare_data
    from bayescale.model import data_values, observed_name
    from bayescale.pseudo_forecast import law_mode_fit

    law, lik = f.law, f.likelihood
    prepared = prepare_data(law, f.data, likelihood=lik)
    values = data_values(law, prepared, f.reference, lik, f.group_codes())
    inner = law_mode_fit(law, f.model, values, f.reference, f.priors)
    seen: dict = {}

    def mode_fit(mask):
        log_mean, sigma = inner(mask)
        seen["held"], seen["sigma"] = ~mask, sigma

        def recorded(**inputs):
            seen["predicted"] = np.asarray(log_mean(**inputs), dtype=float)
            return seen["predicted"]

        return recorded, sigma

    obs_log = np.asarray(values[f"{observed_name(law, lik)}_data"], dtype=float)
    n_law = sum(not f.priors[n].is_fixed for n in law.parameter_names) + sum(
        not f.priors[n].is_fixed for n in lik.noise_priors
    )
    own = f.structure
    base = dataclasses.replace(own, scatter=True, drift_scale=bs.structure.DRIFT_SCALE)
    new = base.adapt_drift(prepared.inputs, obs_log, mode_fit, n_law + 2)
    if (new.pseudo is None) != (own.pseudo is None) or (
        own.pseudo is not None and not np.isclose(new.pseudo.error, own.pseudo.error, atol=1e-6)
    ):
        raise RuntimeError(f"pseudo-forecast not reproduced: {new.pseudo} vs {own.pseudo}")
    if new.drift_scale != own.drift_scale:
        raise RuntimeError(f"drift median not reproduced: {new.drift_scale} vs {own.drift_scale}")
    if candidate == "S2" and new.pseudo is not None:
        errors = obs_log[seen["held"]] - seen["predicted"]
        sigma = seen["sigma"]
        var = sigma**2 / errors.size if np.isfinite(sigma) else 0.0
        e_b = np.sqrt(max(np.median(errors) ** 2 - var, 0.0) / new.pseudo.distance)
        new = dataclasses.replace(new, drift_scale=max(bs.structure.DRIFT_SCALE, float(e_b)))
    return new


def _rescore_scatter(split: dict, variant: str, bt, seed: int, candidate: str):
    """Re-score ``bt``'s fits with the extrapolation scatter (``SCATTER``). Exact: scatter and
    drift are prior-only; the scatter is drawn from its prior on its own stream of the fit's
    seed (as ``bs.fit`` draws it), an S2 drift is the fit's draws moved to the new median."""
    import xarray as xr

    if candidate not in SCATTER:
        raise ValueError(f"--scatter: {candidate!r} is not one of {SCATTER}")
    law = bs.get_law(split["law"])
    data = split["data"]
    col = data[split["column"]] if split["column"] in data else 6 * data["N"] * data["D"]
    tables = []
    for i, (cutoff, f) in enumerate(bt.fits.items()):
        own, node = f.structure, f.idata["posterior"].to_dataset()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            new = _scatter_structure(f, candidate)
        shape = (node.sizes["chain"], node.sizes["draw"])
        prior_only = new.prior_only_draws(new.default_priors(), shape, f.random_seed)
        scat = prior_only["scatter"]
        if new.drift_scale == own.drift_scale and not np.array_equal(
            prior_only["drift"], node["drift"].to_numpy()
        ):  # the fit's own seed and stream: bs.fit(..., scatter=True) would draw these
            raise RuntimeError("the fit's drift draws are not reproduced from its seed")
        drift = node["drift"] * (new.drift_scale / own.drift_scale)
        f.idata["posterior"] = xr.DataTree(
            node.assign(scatter=(("chain", "draw"), scat), drift=drift)
        )
        f.structure = new
        test = data[(col >= cutoff).to_numpy()]
        inputs = {k: test[k].to_numpy(float) for k in law.inputs}
        draws_ = _predictive_draws(f, inputs, random_seed=seed + 1000 + i, frame=test)
        flat = draws_.to_numpy().reshape(-1, len(test))
        scored = _score(flat, test[law.output].to_numpy(float), PROBS)
        tables.append(
            pd.DataFrame(scored).assign(
                cutoff=cutoff, scatter_median=new.scatter_scale, drift_median=new.drift_scale
            )
        )
        f.idata["posterior"] = xr.DataTree(node)
        f.structure = own
    table = pd.concat(tables, ignore_index=True)
    name = f"{variant} scatter {candidate}"
    return _rows(split["name"], name, table, 0.0), table.assign(split=split["name"], model=name)


#: Signed-drift candidates (stop 21; rule in docs/calibration_rule_stop21.md, committed before
#: any result): (ρ², drift scale from its fixed prior updated by the pseudo-forecast). ``C0`` is
#: today's default through the same re-scoring path (a check of the path: mean 0, sd s·√d).
SIGNED = {"C0": (0.0, False), "C1": (0.7, False), "C2": (0.5, False), "C3": (0.7, True)}
#: Stop-21b candidate (docs/calibration_rule_stop21b.md): the signed drift of ``SIGNED[...]``
#: plus the extrapolation scatter as ``bs.fit(scatter=True)`` draws it.
SIGNED_SCATTER = {"CS": "C2"}
#: Spawn key of the signed re-scoring's own stream of ζ.
SIGNED_STREAM = 0x7369676E


def _signed_draws(f, test, law, candidate: str, pred_seed: int) -> np.ndarray:
    """Predictive draws ``(draws, runs)`` of ``f`` at ``test`` with the drift conditioned on the
    fit's pseudo-forecast (``SIGNED``). Exact: the drift is prior-only; the law, noise and group
    terms are the fit's own predictive with the drift set to 0, the drift added on the log
    scale from the fit's drift draws and one ζ per draw."""
    from scipy.stats import norm

    from bayescale.pseudo_forecast import conditional_drift, drift_scale_posterior
    from bayescale.structure import DRIFT_SCALE, DRIFT_SPREAD

    rho2, bayes = SIGNED[candidate]
    if f.structure.drift_power != 0.5:
        raise ValueError("the signed drift is derived for sd ∝ √d")
    post = f.idata["posterior"]
    original = post["drift"].copy()
    s = original.transpose("chain", "draw").to_numpy().reshape(-1)
    pseudo = f.structure.pseudo
    if bayes and pseudo is not None:
        prior = f.priors["drift"]
        u = norm.cdf((np.log(s) - prior.params["mu"]) / prior.params["sigma"])
        s = drift_scale_posterior(pseudo, float(np.log(DRIFT_SCALE)), DRIFT_SPREAD, u)
    post["drift"] = original * 0.0
    try:
        inputs = {k: test[k].to_numpy(float) for k in law.inputs}
        draws_ = _predictive_draws(f, inputs, random_seed=pred_seed, frame=test)
    finally:
        post["drift"] = original
    flat = draws_.transpose("chain", "draw", "point").to_numpy().reshape(-1, len(test))
    d = f.structure.distance(inputs)
    if pseudo is None or rho2 == 0.0:
        mean, sd = np.zeros((1, len(test))), s[:, None] * np.sqrt(d)[None, :]
    else:
        mean, sd = conditional_drift(pseudo, s[:, None], d[None, :], rho2)
    rng = np.random.default_rng(np.random.SeedSequence(pred_seed, spawn_key=(SIGNED_STREAM,)))
    zeta = rng.standard_normal(s.size)[:, None]
    return flat * np.exp(mean + sd * zeta)


def _candidate_draws(f, test, law, candidate: str, pred_seed: int) -> np.ndarray:
    """``_signed_draws`` for a ``SIGNED`` candidate; for a ``SIGNED_SCATTER`` one, the same with
    the fit's structure given the extrapolation scatter first (``_scatter_structure`` "S1": the
    pseudo-forecast redone and checked, the drift's median unchanged; the scatter drawn from its
    prior on its own stream of the fit's seed, as ``bs.fit(scatter=True)`` draws it). Exact."""
    import xarray as xr

    if candidate in SIGNED:
        return _signed_draws(f, test, law, candidate, pred_seed)
    own, node = f.structure, f.idata["posterior"].to_dataset()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        new = _scatter_structure(f, "S1")
    if new.drift_scale != own.drift_scale:
        raise RuntimeError("the drift's median moved")
    shape = (node.sizes["chain"], node.sizes["draw"])
    prior_only = new.prior_only_draws(new.default_priors(), shape, f.random_seed)
    if not np.array_equal(prior_only["drift"], node["drift"].to_numpy()):
        raise RuntimeError("the fit's drift draws are not reproduced from its seed")
    f.idata["posterior"] = xr.DataTree(
        node.assign(scatter=(("chain", "draw"), prior_only["scatter"]))
    )
    f.structure = new
    try:
        return _signed_draws(f, test, law, SIGNED_SCATTER[candidate], pred_seed)
    finally:
        f.idata["posterior"] = xr.DataTree(node)
        f.structure = own


def _rescore_signed(split: dict, variant: str, bt, seed: int, candidate: str, offset: int = 0):
    """Re-score ``bt``'s fits with the signed drift ``candidate`` (``SIGNED``,
    ``SIGNED_SCATTER``)."""
    if candidate not in SIGNED and candidate not in SIGNED_SCATTER:
        known = sorted([*SIGNED, *SIGNED_SCATTER])
        raise ValueError(f"--signed: {candidate!r} is not one of {known}")
    law = bs.get_law(split["law"])
    data = split["data"]
    col = data[split["column"]] if split["column"] in data else 6 * data["N"] * data["D"]
    tables = []
    for i, (cutoff, f) in enumerate(bt.fits.items()):
        test = data[(col >= cutoff).to_numpy()]
        flat = _candidate_draws(f, test, law, candidate, seed + 1000 + i + offset)
        scored = _score(flat, test[law.output].to_numpy(float), PROBS)
        tables.append(pd.DataFrame(scored).assign(cutoff=cutoff))
    table = pd.concat(tables, ignore_index=True)
    name = f"{variant} signed {candidate}"
    return _rows(split["name"], name, table, 0.0), table.assign(split=split["name"], model=name)


def llama_seeds(cache: str, draws: int, seed: int, candidates: list[str], n_seeds: int) -> None:
    """Issue 10's split (Llama 3 raw loss, fit budgets < 3e21): 50% coverage and CRPS(log)
    averaged over ``n_seeds`` predictive seeds, for the cached independent and default fits
    and the signed candidates (rule (g) of docs/calibration_rule_stop21.md)."""
    split = next(s for s in splits() if s["name"] == "isoflops llama_3__raw_loss")
    law = bs.get_law(split["law"])
    data = split["data"]
    test = data[(data["C"] >= 3e21).to_numpy()]
    observed = test[law.output].to_numpy(float)
    inputs = {k: test[k].to_numpy(float) for k in law.inputs}
    rows = []
    for model, cand in [
        ("independent", None),
        ("default", None),
        *[("default", c) for c in candidates],
    ]:
        with open(_cache_path(cache, split, model, draws, seed), "rb") as handle:
            bt, _ = pickle.load(handle)
        f = bt.fits[3e21]
        for k in range(n_seeds):
            pred_seed = seed + 1000 + 100 * k  # k = 0: the bench's own seed for this fit
            if cand is None:
                flat = _predictive_draws(f, inputs, random_seed=pred_seed, frame=test)
                flat = flat.to_numpy().reshape(-1, len(test))
            else:
                flat = _candidate_draws(f, test, law, cand, pred_seed)
            m = _metrics(pd.DataFrame(_score(flat, observed, PROBS)), PROBS)
            rows.append(
                {
                    "model": model + (f" signed {cand}" if cand else ""),
                    "seed": k,
                    "cov50": m["coverage_50"],
                    "crps_log": m["mean_crps_log"],
                }
            )
    table = pd.DataFrame(rows)
    print("\nLlama 3 raw, budget < 3e21 (12 runs), over predictive seeds:")
    print(
        table.pivot(index="model", columns="seed", values="cov50")
        .assign(mean=lambda t: t.mean(axis=1))
        .to_string(float_format=lambda x: f"{x:.3f}")
    )
    crps = table.pivot(index="model", columns="seed", values="crps_log")
    print(
        (100 * crps)
        .assign(mean=lambda t: t.mean(axis=1))
        .to_string(float_format=lambda x: f"{x:.3f}")
    )


#: Data-adaptive drift medians (issue 10 study): ``e`` is the in-sample pseudo-forecast error
#: per √decade beyond noise (``_pseudo.pseudo_forecast``: MAP fit below the top slice of an
#: axis, predict the slice), over every scale axis (``max``/``rms``) or compute only (``C``).
ADAPTIVE = ("pf_max", "pf_rms", "pfC_max", "pfC_rms")


def _adaptive_median(rule: str, fit, law) -> float:
    from _pseudo import pseudo_forecast

    axes: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        best = pseudo_forecast(law, fit.data, per_axis=axes)
    e = axes["C"].drift if rule.startswith("pfC") and "C" in axes else best.drift
    base = bs.structure.DRIFT_SCALE
    return max(base, e) if rule.endswith("max") else float(np.hypot(base, e))


def _cache_path(cache, split, variant, draws, seed):
    if cache is None:
        return None
    name = f"{split['name']}_{variant}_{draws}_{seed}".replace(" ", "_").replace("<", "lt")
    return Path(cache) / f"{name}.pkl"


def _classical_log_loss(theta: np.ndarray, n: np.ndarray, d: np.ndarray) -> np.ndarray:
    """log L of the classical estimates ``theta`` (rows of [a, b, e, α, β]) through the
    project's one Chinchilla formula."""
    import classical

    names = ("A", "B", "E", "alpha", "beta")
    q = dict(zip(names, classical.natural_params(theta).T, strict=True))
    q = {k: np.asarray(v)[..., None] for k, v in q.items()}
    return np.log(bs.get_law("chinchilla").evaluate(q, N=n, D=d))


def run_classical(split: dict, n_boot: int, seed: int) -> tuple[dict, pd.DataFrame] | None:
    """Huber point fit + bootstrap: parameter draws from refits, noise from the residuals."""
    import classical

    if split["law"] != "chinchilla":
        return None
    t0 = time.perf_counter()
    data = split["data"]
    col = data[split["column"]] if split["column"] in data else 6 * data["N"] * data["D"]
    tables = []
    rng = np.random.default_rng(seed)
    for cutoff in split["cutoffs"]:
        train, test = data[(col < cutoff).to_numpy()], data[(col >= cutoff).to_numpy()]
        lN, lD, lL = (np.log(train[k].to_numpy(float)) for k in ("N", "D", "loss"))
        grid = classical.default_grid()[::9]  # every 9th of the 4500 starts: 500 starts
        best = classical.fit_grid(lN, lD, lL, grid=grid)
        thetas = classical.bootstrap(lN, lD, lL, n_boot=n_boot, seed=seed, start=best.theta)
        resid = lL - _classical_log_loss(best.theta[None, :], np.exp(lN), np.exp(lD))[0]
        test_n, test_d = test["N"].to_numpy(float), test["D"].to_numpy(float)
        mu = _classical_log_loss(thetas, test_n[None, :], test_d[None, :])
        noise = rng.choice(resid, size=mu.shape, replace=True)
        draws = np.exp(mu + noise)
        scored = _score(draws, test["loss"].to_numpy(float), PROBS)
        tables.append(pd.DataFrame(scored).assign(cutoff=cutoff))
    table = pd.concat(tables, ignore_index=True)
    return _rows(split["name"], "classical", table, time.perf_counter() - t0), table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--variants", nargs="*", default=[], help=f"further variants: {sorted(VARIANTS)}"
    )
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-boot", type=int, default=200)
    parser.add_argument("--no-classical", action="store_true")
    parser.add_argument(
        "--drift-scales",
        nargs="*",
        type=float,
        default=[],
        help="also score the drift prior's scale set to each of these",
    )
    parser.add_argument(
        "--drift-spreads",
        nargs="*",
        type=float,
        default=[],
        help="with --drift-scales: also vary the LogNormal prior's log-sd",
    )
    parser.add_argument(
        "--drift-powers",
        nargs="*",
        type=float,
        default=[],
        help="with --drift-scales: also vary the power of the distance in the drift's sd",
    )
    parser.add_argument(
        "--models",
        nargs="*",
        default=None,
        help="run only these variants (default: independent, default, ...)",
    )
    parser.add_argument(
        "--drift-adaptive",
        nargs="*",
        default=[],
        help=f"also score data-adaptive drift medians: {list(ADAPTIVE)}",
    )
    parser.add_argument(
        "--drift-shapes",
        nargs="*",
        default=[],
        help="also score each fit's LogNormal drift prior with another log-sd, keeping its "
        "median or its root mean square: e.g. 0.25:rms 0.25:median",
    )
    parser.add_argument(
        "--scatter",
        nargs="*",
        default=[],
        help=f"also score the fits with the extrapolation scatter: {list(SCATTER)}",
    )
    parser.add_argument(
        "--signed",
        nargs="*",
        default=[],
        help=f"also score the fits with the signed drift: {sorted([*SIGNED, *SIGNED_SCATTER])}",
    )
    parser.add_argument(
        "--llama-seeds",
        type=int,
        default=0,
        help="with --cache: issue 10's Llama 3 split over this many predictive seeds",
    )
    parser.add_argument(
        "--cache", default=None, help="folder of pickled backtests (reused when present)"
    )
    parser.add_argument("--only", default=None, help="run the splits whose name contains this")
    parser.add_argument("--out", default=None, help="CSV of the per-split table")
    parser.add_argument("--points", default=None, help="CSV of every held-out prediction")
    args = parser.parse_args(argv)
    if args.cache:
        Path(args.cache).mkdir(parents=True, exist_ok=True)
    variants = ["independent", "default", *[v for v in args.variants if v not in ("default",)]]
    if args.models:
        variants = list(args.models)
    rows, points = [], []
    for split in splits():
        if args.only and args.only not in split["name"]:
            continue
        for variant in variants:
            results = run_bayes(
                split,
                variant,
                args.draws,
                args.seed,
                args.drift_scales,
                args.drift_spreads,
                args.drift_powers,
                args.drift_adaptive,
                args.cache,
                args.drift_shapes,
                args.scatter,
                args.signed,
            )
            for row, table in results:
                rows.append(row)
                points.append(table)
                print(_fmt_row(row), flush=True)
        if not args.no_classical:
            res = run_classical(split, args.n_boot, args.seed)
            if res is not None:
                rows.append(res[0])
                points.append(res[1].assign(split=split["name"], model="classical"))
                print(_fmt_row(res[0]), flush=True)
    result = pd.DataFrame(rows)
    # The CRPS on the loss scale is infinite when the predictive has no mean (Student-t noise
    # with nu <= 1 on log loss, e.g. datablations): the tables print CRPS(log) only; the CSV
    # keeps both. The last line is the model-selection rule's summary.
    hidden = ["crps"]
    print()
    print(result.drop(columns=hidden).to_string(index=False, float_format=lambda x: f"{x:.4f}"))
    print("\nmean CRPS(log) over the splits:")
    for model, value in result.groupby("model", sort=False)["crps_log"].mean().items():
        print(f"  {model:<12} {100 * value:.3f}%")
    pooled = pd.concat(points, ignore_index=True)
    print("\npooled over every held-out prediction:")
    summary = []
    for model, t in pooled.groupby("model", sort=False):
        row = _rows("all splits", model, t, 0.0)
        summary.append(row)
    print(
        pd.DataFrame(summary)
        .drop(columns=["seconds", *hidden])
        .to_string(index=False, float_format=lambda x: f"{x:.3f}")
    )
    if args.llama_seeds and args.cache:
        llama_seeds(args.cache, args.draws, args.seed, args.signed, args.llama_seeds)
    if args.out:
        atomic_write(args.out, lambda tmp: result.to_csv(tmp, index=False))
    if args.points:
        atomic_write(args.points, lambda tmp: pooled.to_csv(tmp, index=False))
    return 0


def _fmt_row(row: dict) -> str:
    return (
        f"{row['split']:<48} {row['model']:<20} n={row['n']:<4} "
        f"cov50={row['cov50']:.2f} cov80={row['cov80']:.2f} cov95={row['cov95']:.2f} "
        f"mdape={100 * row['mdape']:.2f}% width95={100 * row['width95']:.2f}% "
        f"crps(log)={100 * row['crps_log']:.3f}% ({row['seconds']:.0f}s)"
    )


if __name__ == "__main__":
    raise SystemExit(main())
