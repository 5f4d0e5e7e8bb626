"""Structured noise and extrapolation drift: what a law's residuals share beyond independent noise.

Real scaling runs are not independent draws around a law. Runs of one model size, or of one
isoFLOP budget, share an offset (one architecture's quirks, one learning-rate schedule, one
digitised curve); and a law fitted on small runs drifts away from the truth the further it is
extrapolated. Treating such runs as independent evidence makes intervals far too narrow out of
sample. A :class:`Structure` adds two terms to the law's log output:

* **Group offsets.** For each grouping column (``"N"``: runs of one model size; ``"C"``: runs of
  one compute budget; or any column of the data, e.g. ``"experiment"``), each group ``g`` gets an
  offset ``u_g = group_sd_<col> · group_z_<col>[g]`` with ``group_z ~ Normal(0, 1)`` (non-centred,
  so NUTS sees a round posterior) and ``group_sd_<col> ~ HalfNormal(0.02)``: a relative offset of
  about 2% of the loss at most, a priori. A run of a group seen in the fit is predicted with its
  group's offset; a run of a new group gets a new draw from ``Normal(0, group_sd)``.
* **Extrapolation drift.** A prediction at distance ``d`` (in decades) beyond the fitted runs
  gets ``δ = drift · √d · ζ`` on the log output, with ``ζ ~ Normal(0, 1)`` shared by every point
  of a draw. ``d`` is the largest distance outside the fitted range along the law's scale axes:
  compute ``C = 6ND``, ``N`` and ``D`` for laws of N and D (a run of a size or a token count never
  fitted is an extrapolation even at a fitted compute), otherwise the law's positive inputs.
  The variance grows linearly with the distance, as for a random walk in log scale: each
  decade of extrapolation adds its own, independent surprise. Inside the data ``d = 0`` and the
  term vanishes, so the runs cannot inform ``drift``: its prior *is* the model.
  ``drift ~ LogNormal(log 0.02, 0.5)``: a median of 2% of the loss at one decade out.

  How the form and the prior were chosen (``benchmarks/bench_calibration.py --models default
  --no-classical --drift-scales 0.01 0.015 0.02 0.03 0.05 --drift-spreads 0.5 1.0
  --drift-powers 0.5 1.0``: 10 real splits, 387 held-out runs; the drift is prior-only, so each
  setting re-scores the same fits exactly). With sd ∝ d (a random trend per decade, the first
  form) no single prior suited every split: Llama 3's isoFLOP runs wanted ≈ 1% per decade and
  Marin's ≈ 5%, because a law's errors just beyond its data are nearly as large as a decade
  further out. With sd ∝ √d one prior serves both: among the settings whose 95% intervals
  cover ≥ 85% of the held-out runs on every split, LogNormal(log 0.02, 0.5) has the best mean
  CRPS(log) over splits, 1.660% (sd ∝ d at its best under the same rule: 1.684%; the model
  without drift: 1.686%), and on Llama 3 (fit budgets < 3e21) it covers (50%: 0.67, 95%: 1.00)
  and scores better than no drift. A weaker dependence (sd ∝ d^0.25) scored within 0.5% of √d
  in a separate scan: the splits, which reach at most about one decade out, cannot tell them
  apart, and the random walk is the principled one. Past one decade √d widens less than d did:
  a 6-run fit at 1e19 FLOPs (``examples/small_data.py``) covers 17 of 19 runs 1.5 to 3 decades
  out with its 95% intervals.

  **The median from the law's own pseudo-forecast** (issue 10). Where a law's error beyond its
  data is systematic (Marin's isoFLOP runs: every held-out error of one sign; datablations: the
  larger models 7% below the law) a 2% median made the middle of the intervals too narrow
  (50% intervals covering 6–16%). So each fit first asks how well the law extrapolates inside
  its own data (:meth:`Structure.adapt_drift`): the runs within
  :data:`PSEUDO_SLICE_DECADES` (0.2) of the largest fitted compute (at least
  :data:`PSEUDO_MIN_HELD` of them) are predicted by a mode fit of the others (L-BFGS, the mode
  finder of the fit: ≈ 1–2% of a fit's time), and their mean log error ``ē`` at mean
  distance ``d̄`` gives ``e = sqrt(max(ē² − σ²/n, 0) / d̄)`` per √decade; the drift's prior
  median is ``max(0.02, e)``. The drift is still drawn exactly from its prior (now a function
  of the fitted runs, which it does not enter), so SBC stays exact (``sbc`` moves each
  simulation's true drift to the prior its fit used). Decided by a rule fixed before the
  results (``bench_calibration.py --drift-adaptive``): mean CRPS(log) over the 10 splits no
  worse than 1.662%, every split's 95% coverage ≥ 0.85, pooled 50% coverage toward 0.5. Of
  four candidates, the two that took the largest pseudo-forecast error over C, N and D
  widened the well-extrapolating splits (mean CRPS 1.774%, 1.805%); ``max(0.02, e)`` on compute
  passed: mean CRPS 1.611%, 95% coverage ≥ 0.91 everywhere, pooled 50% coverage 0.25 → 0.30
  (datablations 0.06 → 0.22, CRPS 8.81% → 8.37%; misfitting's isoFLOP runs 80% coverage
  0.40 → 1.00), unchanged on Chinchilla, Llama 3, Epoch's and ml_scalefit's runs, where the law
  extrapolates its own top budget within the default. The pseudo-forecast does not *rank* the
  out-of-sample errors (Spearman 0.15 over the 17 cutoffs, ``benchmarks/study_pseudo_forecast.py``)
  and Marin's middle stays narrow (50%: 0.16): its law misses its top fitted budget by less than
  it misses the budgets beyond, so the adaptation sets a floor, not a forecast.

  **The drift's shape, measured and kept** (stop 20): a less dispersed scale with the same
  root mean square passed the study's own rule but widened the middle where it was right
  (Llama 3: 50% intervals covering 12 of 12, CRPS worse than the independent model's), so the
  prior stays; the numbers and the diagnosis are in ``benchmarks/diagnose_calibration.py``.

* **Extrapolation scatter** (off by default: ``bs.fit(..., scatter=True)``). The drift is the
  part of the law's error beyond its data that the runs *share*; the scatter is the part each
  run has of its own: ``η_i = scatter · d_i^drift_power · ξ_i``, ``ξ_i ~ Normal(0, 1)``
  independent per run and draw, zero inside the data (prior-only, drawn exactly like the
  drift, on its own stream). ``scatter ~ LogNormal(log max(0.005, s), 0.5)`` with ``s`` the
  same pseudo-forecast's spread beyond noise per √decade: ``sqrt(max(r² − σ², 0) / d̄)``,
  ``r = 1.4826 · median|e − median(e)|`` (robust, the shared bias removed). Measured under a
  rule fixed before the results (commit "Extrapolation scatter study rule"; ``bench_calibration.py
  --scatter S1``) and not adopted: mean CRPS(log) 1.616% against 1.618% and pooled 50/80/95%
  coverage 0.48/0.81/0.97 against 0.30/0.77/0.96, but 4 splits of 10 better, no better without
  Marin comma (1.671% against 1.670%), and Llama 3 below 3e21 too wide (50% covering 9 of 12).
  The in-sample spread at the top fitted budget is small where the held-out one is large
  (Marin: 0.006–0.025 per √decade), so the term widened datablations (50%: 0.23 → 0.64 at the
  same CRPS) more than it mended Marin (0.13–0.16 → 0.18–0.22).

Group offsets are asked for with ``bs.fit(..., groups=...)``; ``groups="auto"`` takes model size
``N`` when its values repeat (values within :data:`TOLERANCE_DECADES` of each other in log10 are
one value) with on average at least two runs per distinct value. The default is no groups: on
the real splits of ``benchmarks/bench_calibration.py`` the drift alone gave the same coverage
(Chinchilla: 95% covers 0.91 either way) at a fifth of the sampling time, and group offsets
sampled badly on outlier-heavy isoFLOP data (see :func:`bayescale.fit`). The drift is on by
default for loss-type outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .grouping import (  # noqa: F401  (moved; old import paths kept)
    _LABEL_TYPES,
    FLOPS_PER_PARAM_TOKEN,
    TOLERANCE_DECADES,
    Grouping,
    _column_values,
    _missing,
    _six_nd,
    cluster_log_values,
    warn_groups,
)
from .priors import Prior
from .pseudo_forecast import PseudoForecast

__all__ = [
    "DRIFT_POWER",
    "DRIFT_SCALE",
    "DRIFT_SPREAD",
    "GROUP_SD_SCALE",
    "PSEUDO_MIN_HELD",
    "PSEUDO_SLICE_DECADES",
    "SCATTER_SCALE",
    "SCATTER_SPREAD",
    "TOLERANCE_DECADES",
    "Grouping",
    "Structure",
    "cluster_log_values",
    "resolve_structure",
]

#: Scale of the HalfNormal prior of each grouping's offset sd (relative error on the loss).
GROUP_SD_SCALE = 0.02
#: Median of the LogNormal prior of the drift (relative sd of the log output one decade beyond
#: the fitted runs), the prior's log-scale spread, and the power of the distance in the drift's
#: sd (chosen by the calibration benchmark; see the module docstring).
DRIFT_SCALE = 0.02
DRIFT_SPREAD = 0.5
DRIFT_POWER = 0.5
#: The pseudo-forecast holds out the fitted runs within this many decades of the largest
#: fitted value of the first scale axis (compute for laws of N and D: the top budget of an
#: isoFLOP grid) and predicts them from a mode fit of the others (see ``adapt_drift``).
PSEUDO_SLICE_DECADES = 0.2
#: Fewer held-out runs than this cannot separate the law's error from noise: no adaptation.
PSEUDO_MIN_HELD = 3
#: Spawn key of the drift's own random stream (``SeedSequence(random_seed, spawn_key=(key,))``).
DRIFT_STREAM = 0x64726674
#: The extrapolation scatter (an independent normal term per predicted run, sd
#: ``scatter · d ** drift_power``): floor of its LogNormal prior's median (a quarter of the
#: drift's: without evidence of per-run misfit beyond noise, a negligible term), the prior's
#: log-scale spread, and its own random stream. See ``Structure.adapt_drift``.
SCATTER_SCALE = 0.005
SCATTER_SPREAD = 0.5
SCATTER_STREAM = 0x73637472
#: Columns considered by ``groups="auto"``. Compute budgets (``C``) are not among them: with
#: the 7-10 budgets of an isoFLOP experiment, one free offset per budget is confounded with the
#: law's own trend in C (on Llama 3 the offsets took a 4.8% sd and pulled α from 0.32 to 0.23,
#: R-hat 1.12); ask for ``groups="C"`` explicitly to accept that.
AUTO_COLUMNS = ("N",)


def _scale_axes(inputs: Sequence[str], positive: Sequence[str]) -> tuple[str, ...]:
    if {"N", "D"} <= set(inputs):
        return ("C", "N", "D")
    return tuple(positive)


@dataclass(frozen=True)
class Structure:
    """Group offsets and extrapolation drift of a fit (see the module docstring).

    Attributes
    ----------
    groupings : tuple of Grouping
    axes : tuple of str
        Scale axes along which extrapolation distance is measured (``("C",)`` for laws of N, D).
    ranges : dict
        ``axis -> (log10 min, log10 max)`` of the fitted runs.
    drift : bool
        Whether the extrapolation drift term is part of the model.
    drift_power : float
        The drift's sd grows as ``d ** drift_power`` (0.5: a random walk in log scale; fits
        saved before the power was recorded used 1.0, and keep it when loaded).
    drift_scale : float
        Median of the drift's LogNormal prior: :data:`DRIFT_SCALE`, or more where the law's
        in-sample pseudo-forecast missed by more (:meth:`adapt_drift`).
    pseudo : PseudoForecast or None
        That pseudo-forecast, when one was made.
    scatter : bool
        Whether the extrapolation scatter is part of the model: an independent normal term per
        predicted run with sd ``scatter · d ** drift_power`` (0 inside the fitted range; prior-only
        like the drift). The drift is the part of the law's error its runs share, the scatter
        the part each run has of its own.
    scatter_scale : float
        Median of the scatter's LogNormal prior: ``max(SCATTER_SCALE, pseudo.scatter)``.
    """

    groupings: tuple[Grouping, ...] = ()
    axes: tuple[str, ...] = ()
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    drift: bool = False
    drift_power: float = DRIFT_POWER
    drift_scale: float = DRIFT_SCALE
    pseudo: PseudoForecast | None = None
    scatter: bool = False
    scatter_scale: float = SCATTER_SCALE

    @property
    def empty(self) -> bool:
        return not self.groupings and not self.drift and not self.scatter

    def default_priors(self) -> dict[str, Prior]:
        """Priors of the structure's own parameters, by name."""
        out = {g.sd_name: Prior("HalfNormal", sigma=GROUP_SD_SCALE) for g in self.groupings}
        if self.drift:
            out["drift"] = Prior(
                "LogNormal", mu=float(np.log(self.drift_scale)), sigma=DRIFT_SPREAD
            )
        if self.scatter:
            out["scatter"] = Prior(
                "LogNormal", mu=float(np.log(self.scatter_scale)), sigma=SCATTER_SPREAD
            )
        return out

    def parameter_names(self) -> list[str]:
        """Every sampled parameter the structure adds (sds, standardised offsets, drift)."""
        names = []
        for g in self.groupings:
            names += [g.sd_name, g.z_name]
        return names + (["drift"] if self.drift else []) + (["scatter"] if self.scatter else [])

    # ------------------------------------------------------------------ data
    def codes(self, frame: pd.DataFrame, *, strict: bool = True) -> dict[str, np.ndarray]:
        """Group code of each run of ``frame`` per grouping (``-1``: a group not in the fit)."""
        out = {}
        for g in self.groupings:
            values = _column_values(frame, g.column).to_numpy()
            codes = g.assign(values)
            if strict and (codes < 0).any():
                raise ValueError(f"runs of groups not in the fit for {g.column!r}")
            out[g.index_name] = codes
        return out

    def adapt_drift(
        self,
        inputs: Mapping[str, Any],
        log_y: Any,
        mode_fit: Callable[[np.ndarray], tuple[Callable[..., Any], float]],
        n_free: int,
    ) -> Structure:
        """This structure with the drift's prior median set by an in-sample pseudo-forecast.

        The fitted runs within :data:`PSEUDO_SLICE_DECADES` of the largest value of the first
        scale axis (compute 6ND for laws of N and D) are held out; ``mode_fit(mask)`` fits the
        law's mode to the runs where ``mask`` is True and returns ``(log_mean, sigma)``: the
        law's log output as a function of inputs, and the noise scale. The held-out runs' mean
        log error ``ē`` at mean distance ``d̄`` (decades beyond the other runs, as
        :meth:`distance` measures it) gives the law's own error per √decade beyond noise,
        ``e = sqrt(max(ē² − σ²/n, 0) / d̄)``, and the prior's median becomes
        ``max(DRIFT_SCALE, e)``: a law that already misses the top of its own data by more than
        the default allows is not trusted to do better beyond it. Nothing changes without a
        drift, with fewer than :data:`PSEUDO_MIN_HELD` runs in the slice or fewer than
        ``n_free`` left, or when the fit fails.

        Examples
        --------
        >>> import numpy as np
        >>> c = np.logspace(18, 21, 31)
        >>> log_y = 0.2 - 0.05 * np.log(c / 1e18)
        >>> log_y[c > 6e20] += 0.03  # the law misses its 3 largest runs by 3%
        >>> s = Structure(axes=("C",), ranges={"C": (18.0, 21.0)}, drift=True)
        >>> def mode_fit(mask):  # a least-squares line in log C, noise sd 0.001
        ...     slope, icpt = np.polyfit(np.log(c[mask]), log_y[mask], 1)
        ...     return (lambda C: icpt + slope * np.log(C)), 0.001
        >>> a = s.adapt_drift({"C": c}, log_y, mode_fit, n_free=4)
        >>> a.pseudo.n_held, round(a.pseudo.error, 4), round(a.drift_scale, 4)
        (3, 0.03, 0.0671)
        """
        if not (self.drift or self.scatter) or not self.axes:
            return self
        axis = self.axes[0]
        lx = _log10_axis(inputs, axis)
        held = lx >= lx.max() - PSEUDO_SLICE_DECADES
        if held.sum() < PSEUDO_MIN_HELD or (~held).sum() < n_free:
            return self
        rest_inputs = {k: np.asarray(v)[~held] for k, v in inputs.items()}
        held_inputs = {k: np.asarray(v)[held] for k, v in inputs.items()}
        ranges = {a: _log_range(_log10_axis(rest_inputs, a)) for a in self.axes}
        d = replace(self, ranges=ranges).distance(held_inputs)
        try:
            log_mean, sigma = mode_fit(~held)
            predicted = np.asarray(log_mean(**held_inputs), dtype=float)
        except (RuntimeError, ArithmeticError, ValueError, np.linalg.LinAlgError):
            return self  # no mode on the subset: the default stands
        errors = np.asarray(log_y, dtype=float)[held] - predicted
        if not np.all(np.isfinite(errors)) or not d.mean() > 0:
            return self
        pseudo = PseudoForecast.from_errors(errors, float(d.mean()), sigma)
        scatter = max(SCATTER_SCALE, pseudo.scatter) if self.scatter else self.scatter_scale
        return replace(
            self, drift_scale=max(DRIFT_SCALE, pseudo.drift), pseudo=pseudo, scatter_scale=scatter
        )

    def drift_factor(self, inputs: Mapping[str, Any]) -> np.ndarray:
        """What multiplies ``drift · ζ`` (and ``scatter · ξ``) at each point:
        ``distance ** drift_power``."""
        return self.distance(inputs) ** self.drift_power

    def distance(self, inputs: Mapping[str, Any]) -> np.ndarray:
        """Decades beyond the fitted runs along the scale axes (0 inside), per point."""
        dist = None
        for axis in self.axes:
            lx = _log10_axis(inputs, axis)
            lo, hi = self.ranges[axis]
            d = np.maximum(lx - hi, 0.0) + np.maximum(lo - lx, 0.0)
            dist = d if dist is None else np.maximum(dist, d)
        return np.zeros(0) if dist is None else np.atleast_1d(dist)

    # ------------------------------------------------------------------ model terms
    def build(self, priors: Mapping[str, Prior], values: Mapping[str, Any]) -> Any:
        """Inside a PyMC model: create the structure's parameters; return the offset per run."""
        import pymc as pm

        total = 0.0
        for g in self.groupings:
            sd = priors[g.sd_name].create(g.sd_name)
            z = pm.Normal(g.z_name, 0.0, 1.0, shape=g.size)
            idx = pm.Data(g.index_name, values[g.index_name], dims="run")
            total = total + sd * z[idx]
        # the drift is not in the model: no run informs it, so its posterior is its prior and
        # is drawn exactly by ``prior_only_draws`` (NUTS would only add autocorrelated draws of
        # a known distribution and a dimension for its step size to suit)
        return total

    def prior_only_draws(
        self, priors: Mapping[str, Prior], shape: tuple[int, int], random_seed: int
    ) -> dict[str, np.ndarray]:
        """Draws ``(chain, draw)`` of the parameters no run informs (drift, scatter), from their
        prior.

        Seeded by ``random_seed`` on a stream of its own, so they depend on the seed only.

        Examples
        --------
        >>> s = Structure(drift=True)
        >>> d = s.prior_only_draws(s.default_priors(), (2, 500), 0)["drift"]
        >>> d.shape, bool(0.015 < float(np.median(d)) < 0.025)
        ((2, 500), True)
        """
        out = {}
        # a fixed value is a constant (added with the fixed parameters); each term its own stream
        for name, on, stream in (
            ("drift", self.drift, DRIFT_STREAM),
            ("scatter", self.scatter, SCATTER_STREAM),
        ):
            if on and not priors[name].is_fixed:
                seq = np.random.SeedSequence(int(random_seed), spawn_key=(stream,))
                out[name] = prior_draws(priors[name], shape, np.random.default_rng(seq))
        return out

    def with_prior_only(self, dataset: Any, priors: Mapping[str, Prior], random_seed: int) -> Any:
        """``dataset`` (an ``xarray.Dataset`` over chain, draw) with :meth:`prior_only_draws`
        added; what it holds already is kept."""
        shape = (dataset.sizes["chain"], dataset.sizes["draw"])
        out = dataset.copy()
        for name, value in self.prior_only_draws(priors, shape, random_seed).items():
            if name not in out:
                out[name] = (("chain", "draw"), value)
        return out

    def offsets(
        self,
        post: Mapping[str, np.ndarray],
        codes: Mapping[str, np.ndarray],
        rng: np.random.Generator | None = None,
    ) -> np.ndarray | float:
        """Sum of group offsets per draw and run, shape ``(chain, draw, run)``.

        ``post`` holds draws over ``(chain, draw[, group])``. A code of -1 (a new group) takes a
        new offset drawn from ``Normal(0, group_sd)`` with ``rng`` (required then); new values
        sharing a label share their draw.
        """
        total: np.ndarray | float = 0.0
        for g in self.groupings:
            sd = np.asarray(post[g.sd_name], dtype=float)
            z = np.asarray(post[g.z_name], dtype=float)
            code = np.asarray(codes[g.index_name])
            seen = code >= 0
            off = np.zeros((*sd.shape, len(code)))
            off[..., seen] = sd[..., None] * z[..., code[seen]]
            if (~seen).any():
                if rng is None:
                    raise ValueError("new groups need a random generator for their offsets")
                # each distinct negative code is one new group (see ``new_codes``)
                uniq, inv = np.unique(code[~seen], return_inverse=True)
                fresh = rng.standard_normal((*sd.shape, len(uniq)))
                off[..., ~seen] = sd[..., None] * fresh[..., inv]
            total = total + off
        return total

    def new_codes(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        """Codes of new runs: a group of the fit, or a distinct negative code per new group."""
        out = {}
        for g in self.groupings:
            raw = _column_values(frame, g.column)
            if g.numeric and not pd.api.types.is_numeric_dtype(raw):
                out[g.index_name] = np.full(len(raw), -1, dtype=np.int64)  # one new group
                continue
            codes = g.assign(raw.to_numpy())
            if (codes < 0).any():
                new = codes < 0
                if g.numeric:
                    sub, _ = cluster_log_values(raw.to_numpy(dtype=float)[new])
                else:
                    _, sub = np.unique(raw.astype(str).to_numpy()[new], return_inverse=True)
                codes = codes.copy()
                codes[new] = -1 - np.asarray(sub, dtype=np.int64)
            out[g.index_name] = codes
        return out

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        return {
            "groupings": [g.to_dict() for g in self.groupings],
            "axes": list(self.axes),
            "ranges": {k: list(v) for k, v in self.ranges.items()},
            "drift": self.drift,
            "drift_power": self.drift_power,
            "drift_scale": self.drift_scale,
            "pseudo": None if self.pseudo is None else self.pseudo.to_dict(),
            "scatter": self.scatter,
            "scatter_scale": self.scatter_scale,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Structure:
        return cls(
            tuple(Grouping.from_dict(g) for g in data.get("groupings", ())),
            tuple(data.get("axes", ())),
            {k: (float(v[0]), float(v[1])) for k, v in data.get("ranges", {}).items()},
            bool(data.get("drift", False)),
            # fits saved before the power was recorded used a drift linear in the distance
            float(data.get("drift_power", 1.0)),
            # fits saved before the pseudo-forecast had the default median
            float(data.get("drift_scale", DRIFT_SCALE)),
            PseudoForecast.from_dict(data["pseudo"]) if data.get("pseudo") else None,
            # fits saved before the scatter existed have none
            bool(data.get("scatter", False)),
            float(data.get("scatter_scale", SCATTER_SCALE)),
        )

    def describe(self) -> str:
        """One line for people: which groupings and whether drift is on."""
        parts = [f"{g.column} ({g.size} groups)" for g in self.groupings]
        text = "group offsets by " + ", ".join(parts) if parts else "no group offsets"
        if self.drift and self.drift_scale != DRIFT_SCALE:
            text += f"; extrapolation drift (median {self.drift_scale:.3g} per √decade)"
        elif self.drift:
            text += "; extrapolation drift"
        if self.scatter:
            text += f"; extrapolation scatter (median {self.scatter_scale:.3g} per √decade)"
        return text


def _log10_axis(inputs: Mapping[str, Any], axis: str) -> np.ndarray:
    """log10 of a scale axis at ``inputs``; compute, when not given, as log10 6 + log10 N +
    log10 D, which stays finite where 6ND itself would overflow (N·D > 3e307)."""
    if axis == "C" and "C" not in inputs:
        n, d = (np.asarray(inputs[k], dtype=float) for k in ("N", "D"))
        return np.log10(FLOPS_PER_PARAM_TOKEN) + np.log10(n) + np.log10(d)
    return np.log10(np.asarray(inputs[axis], dtype=float))


def _log_range(lx: Any) -> tuple[float, float]:
    lx = np.asarray(lx, dtype=float)
    return float(lx.min()), float(lx.max())


def prior_draws(prior: Prior, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Draws of ``prior``: in numpy for the usual families (the drift's in every fit, a new
    group's independent parameters; ``pm.draw`` compiles a function each call: 0.09–0.75 s),
    through PyMC otherwise."""
    q = prior.params
    if prior.dist == "Normal" and set(q) == {"mu", "sigma"}:
        return q["mu"] + q["sigma"] * rng.standard_normal(shape)
    if prior.dist == "LogNormal" and set(q) == {"mu", "sigma"}:
        return np.exp(q["mu"] + q["sigma"] * rng.standard_normal(shape))
    if prior.dist == "HalfNormal" and set(q) == {"sigma"}:
        return np.abs(q["sigma"] * rng.standard_normal(shape))
    import pymc as pm

    rv = getattr(pm, prior.dist).dist(**q)
    values = pm.draw(rv, draws=int(np.prod(shape)), random_seed=rng)
    return np.asarray(values, dtype=float).reshape(shape)


def _auto_columns(frame: pd.DataFrame, inputs: Sequence[str]) -> list[str]:
    out = []
    for column in AUTO_COLUMNS:
        if column == "C" and not {"N", "D"} <= set(inputs):
            continue
        if column != "C" and column not in inputs:
            continue
        _, centres = cluster_log_values(_column_values(frame, column).to_numpy(dtype=float))
        if 2 <= len(centres) <= len(frame) / 2:
            out.append(column)
    return out


def resolve_structure(
    groups: Any,
    drift: bool,
    frame: pd.DataFrame,
    inputs: Sequence[str],
    positive: Sequence[str],
    *,
    scatter: bool = False,
) -> tuple[Structure, dict[str, np.ndarray]]:
    """The :class:`Structure` of a fit and its group codes per run.

    ``groups`` is ``"auto"`` (repeated N or C values), ``None``/``False``/``()`` (no groups), a
    column name or a sequence of column names. ``frame`` holds the runs (canonical columns and
    any grouping column).

    Examples
    --------
    >>> import pandas as pd
    >>> runs = pd.DataFrame({"N": [1e8, 1e8, 2e8, 2e8], "D": [1e9, 2e9, 1e9, 2e9]})
    >>> s, codes = resolve_structure("auto", True, runs, ("N", "D"), ("N", "D"))
    >>> s.describe()
    'group offsets by N (2 groups); extrapolation drift'
    >>> codes["group_N"].tolist()
    [0, 0, 1, 1]
    """
    if groups is None or groups is False:
        columns: list[str] = []
    elif isinstance(groups, str):
        columns = _auto_columns(frame, inputs) if groups == "auto" else [groups]
    else:
        columns = [str(c) for c in groups]
    if len(set(columns)) != len(columns):
        raise ValueError(f"groups names a column twice: {columns}")
    groupings, codes = [], {}
    for column in columns:
        g, c = Grouping.from_frame(frame, column)
        warn_groups(g, c, f"groups={column!r}")
        groupings.append(g)
        codes[g.index_name] = c
    axes = _scale_axes(inputs, positive) if drift or scatter else ()
    ranges = {}
    for axis in axes:  # C as 6ND when not a column, as the predictions measure it
        ranges[axis] = _log_range(_log10_axis(frame, axis))
    structure = Structure(tuple(groupings), axes, ranges, bool(drift), scatter=bool(scatter))
    return structure, codes
