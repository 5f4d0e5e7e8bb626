"""Does the mode finder miss the best mode? (stop 21b, follow-up of the signed-drift study)

For every training set of ``bench_calibration.py`` (17 fits, read from its ``--cache`` of the
default model) this compares, on the full training set and on the pseudo-forecast's subset
(the runs below the top 0.2 decades of compute, :meth:`Structure.adapt_drift`):

* ``x0``: :func:`bayescale.sampling.find_mode` from the model's initial point — what ``bs.fit``
  starts NUTS from and what :func:`bayescale.pseudo_forecast.law_mode_fit` uses;
* ``refined``: ``x0``'s end point restarted until a restart gains < 0.01 nats
  (:func:`bayescale.pseudo_forecast.refined_mode`, what ``law_mode_fit`` now does);
* ``ms``: a multi-start search, the same finder from ``x0`` and from ``--starts`` points drawn
  from the model's prior (:func:`bayescale.multistart.prior_starts`);
* ``nuts``: the same finder started from the NUTS draw of highest log density (the fit's own
  posterior; on the subset, that draw too — a point of the full-data posterior).

Printed per fit and start: the log density (unconstrained, the finder's objective) at the end
point, E there, the posterior median of E, and on the subset the pseudo-forecast's mean error
ē and drift median ``max(0.02, e)``. Usage::

    python benchmarks/study_mode_finder.py --cache /tmp/calib21/cache [--starts 32]
"""

from __future__ import annotations

import argparse
import pickle
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_calibration as bc

import bayescale as bs
from bayescale.data import prepare_data
from bayescale.model import data_values, observed_name
from bayescale.multistart import _forward, _layout, prior_starts
from bayescale.pseudo_forecast import PseudoForecast, refined_mode
from bayescale.sampling import compile_model, find_mode
from bayescale.structure import DRIFT_SCALE, PSEUDO_SLICE_DECADES, _log10_axis


def _unpack(compiled, flat):
    sizes = [int(np.prod(s)) for s in compiled.rv_shapes]
    parts = np.split(np.asarray(flat), np.cumsum(sizes)[:-1])
    return {
        n: p.reshape(s)
        for n, p, s in zip(compiled.rv_names, parts, compiled.rv_shapes, strict=True)
    }


def _draws_unconstrained(f, model, compiled):
    """The fit's posterior draws as rows of the flat unconstrained vector."""
    layout = _layout(model, compiled)
    post = f.idata["posterior"].to_dataset()
    n = post.sizes["chain"] * post.sizes["draw"]
    x = np.empty((n, compiled.ndim))
    for name, (where, transform, _shape) in layout.items():
        v = post[name].transpose("chain", "draw", ...).to_numpy().reshape(n, -1)
        x[:, where] = _forward(transform, v, name).reshape(n, -1)
    return x


def study(f, n_starts: int) -> list[dict]:
    law, lik = f.law, f.likelihood
    model = f.model
    compiled = compile_model(model, cache=True)
    prepared = prepare_data(law, f.data, likelihood=lik)
    values = data_values(law, prepared, f.reference, lik, f.group_codes())
    fixed = {k: v.params["value"] for k, v in f.priors.items() if v.is_fixed}
    obs_log = np.asarray(values[f"{observed_name(law, lik)}_data"], dtype=float)
    s = f.structure
    lx = _log10_axis(prepared.inputs, s.axes[0])
    held = lx >= lx.max() - PSEUDO_SLICE_DECADES
    n = int(values["run"])
    sub = {
        k: np.asarray(v)[~held] if np.ndim(v) == 1 and len(v) == n else v for k, v in values.items()
    }
    sub["run"] = np.asarray(int((~held).sum()), dtype=np.int64)
    rest = {k: np.asarray(v)[~held] for k, v in prepared.inputs.items()}
    held_in = {k: np.asarray(v)[held] for k, v in prepared.inputs.items()}
    from dataclasses import replace

    ranges = {a: (lambda z: (float(z.min()), float(z.max())))(_log10_axis(rest, a)) for a in s.axes}
    d = replace(s, ranges=ranges).distance(held_in)

    xs = _draws_unconstrained(f, model, compiled)
    args_full = compiled.data_args(values, compiled.data_names)
    lp_draws = np.array([compiled.logp_fn(x, *args_full)[0] for x in xs])
    best_draw = xs[int(np.argmax(lp_draws))]
    starts = prior_starts(model, compiled, n_starts, f.random_seed or 0)
    e_post = (
        float(np.median(f.idata["posterior"]["E"].to_numpy()))
        if "E" in law.natural_names
        else np.nan
    )

    rows = []
    for where, data in (("full", values), ("subset", sub)):
        args = compiled.data_args(data, compiled.data_names)
        for label, st in (
            ("x0", None),
            ("refined", None),
            ("ms", starts),
            ("nuts", best_draw[None, :]),
        ):
            x, scale = find_mode(compiled, data, compiled.x0, st)
            if label == "refined":
                x, _ = refined_mode(compiled, data, x, scale)
            lp, _, flat = compiled.logp_fn(x, *args)
            p = {**fixed, **_unpack(compiled, flat)}
            q = law.natural_params({k: p[k] for k in law.parameter_names}, f.reference)
            row = dict(
                where=where, start=label, logp=float(lp), E=float(q.get("E", np.nan)), E_post=e_post
            )
            if where == "full":
                row["logp_best_draw"] = float(lp_draws.max())
            else:
                pred = np.asarray(law.log_mean(q, **held_in), dtype=float)
                sigma = float(p["sigma"]) if "sigma" in p else float("nan")
                pf = PseudoForecast.from_errors(obs_log[held] - pred, float(d.mean()), sigma)
                row.update(
                    ebar=pf.error,
                    e=pf.drift,
                    median=max(DRIFT_SCALE, pf.drift),
                    saved_ebar=s.pseudo.error if s.pseudo else np.nan,
                )
            rows.append(row)
    return rows


def mixing(n_seeds: int) -> None:
    """NUTS started from find_mode's end point (today) against refined_mode's, Llama 3 raw loss,
    budgets < 3e21, the default fit (4 chains x 1000 draws), seeds 0..n_seeds-1."""
    import time

    from bayescale.convergence import ess, rhat
    from bayescale.sampling import nuts

    original = nuts.find_mode

    def fixed(compiled, data, x0, starts=None):
        return refined_mode(compiled, data, *original(compiled, data, x0, starts))

    iso = bs.load_dataset("isoflops_openathena")
    keep = (iso["experiment"] == "llama_3__raw_loss") & (iso["C"] < 3e21)
    runs = iso.loc[keep, ["N", "D", "C", "loss"]].reset_index(drop=True)
    names = ["log_E", "log_A_ref", "log_B_ref", "alpha", "beta", "sigma", "nu"]
    try:
        for seed in range(n_seeds):
            for label, finder in (("find_mode", original), ("refined", fixed)):
                nuts.find_mode = finder
                t0 = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    f = bs.fit("chinchilla", runs, random_seed=seed, progressbar=False)
                seconds = time.perf_counter() - t0
                post, stats = f.idata["posterior"], f.idata["sample_stats"]
                r_hat = max(rhat(post[n].to_numpy()) for n in names)
                print(
                    f"seed {seed} {label:9s} R-hat max {r_hat:.4f} "
                    f"ESS min {min(ess(post[n].to_numpy()) for n in names):.0f} "
                    f"steps/draw {float(np.asarray(stats['n_steps']).mean()):.2f} "
                    f"divergent {int(np.asarray(stats['diverging']).sum())} "
                    f"E {float(np.median(post['E'])):.4f} {seconds:.1f} s",
                    flush=True,
                )
    finally:
        nuts.find_mode = original


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", required=True)
    parser.add_argument("--starts", type=int, default=32)
    parser.add_argument("--out", default=None)
    parser.add_argument(
        "--mixing",
        type=int,
        default=0,
        help="instead: refit Llama 3 raw < 3e21 on this many seeds, NUTS from find_mode's end "
        "point against from refined_mode's (R-hat, ESS, leapfrog steps per draw)",
    )
    args = parser.parse_args(argv)
    if args.mixing:
        mixing(args.mixing)
        return 0
    rows = []
    for split in bc.splits():
        path = bc._cache_path(args.cache, split, "default", 1000, 0)
        with open(path, "rb") as handle:
            bt, _ = pickle.load(handle)
        for cutoff, f in bt.fits.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = study(f, args.starts)
            for r in out:
                r["fit"] = f"{split['name'][:26]} {cutoff:.2g}"
            rows += out
            print(
                pd.DataFrame(out).to_string(index=False, float_format=lambda v: f"{v:.4f}"),
                flush=True,
            )
    table = pd.DataFrame(rows)
    if args.out:
        from bayescale.io import atomic_write

        atomic_write(args.out, lambda tmp: table.to_csv(tmp, index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
