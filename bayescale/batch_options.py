"""What :func:`bayescale.fit_many` checks before any job runs: the options given to every job.

* :func:`check_shared_options`: an option given to ``fit_many`` for every job (``draws=``,
  ``target_accept=``, ...) that is misspelt or has a bad value would fail every job with the
  same error; it is refused here, once, with an error naming it, before a job is dispatched.
  Names are checked against :func:`bayescale.fit`'s parameters and the chosen sampler's options
  (for nutpie: :func:`bayescale.sampling.sample_nutpie`'s, ``nutpie.sample``'s and nutpie's
  settings, :func:`bayescale.sampling._internals.check_nutpie_settings`); values of the options
  every fit checks the same way (counts, seed, sampler, likelihood, flags) are checked as
  ``fit`` checks them.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Mapping
from typing import Any

__all__ = ["check_shared_options"]

# options fit_many sets itself for every job (a batch shows one bar; a fit runs in one process)
_SET_BY_BATCH = ("progressbar", "processes")

# keywords nutpie.sample takes out of its **kwargs itself (older spellings of adaptation=)
_NUTPIE_OLD_KEYWORDS = (
    "low_rank_modified_mass_matrix",
    "transform_adapt",
    "use_grad_based_mass_matrix",
)

# nutpie's settings object for each adaptation= (as nutpie.sample makes it)
_SETTINGS_KIND = {"low_rank": "LowRank", "diag": "Diag", "draw_diag": "Diag", "flow": "Flow"}


def _check_settings(settings: Mapping[str, Any], adaptation: Any) -> tuple[str, str] | None:
    """``None`` if nutpie's settings for ``adaptation`` take every one of ``settings``, else
    ``(name, reason)`` of the first refused (reason ``"unknown"`` for no such setting), through
    :func:`bayescale.sampling._internals.check_nutpie_settings` with the settings object of that
    adaptation: ``use_grad_based_mass_matrix`` is a setting of ``"diag"``, not of
    ``"low_rank"``."""
    from .sampling import _internals

    kind = _SETTINGS_KIND.get(adaptation) if isinstance(adaptation, str) else None
    if kind is None:
        return None  # nutpie names an unknown adaptation itself
    return _internals.check_nutpie_settings(dict(settings), kind=kind)


def _fit_parameters() -> set[str]:
    from .fit import fit

    params = inspect.signature(fit).parameters.values()
    return {p.name for p in params if p.kind == p.KEYWORD_ONLY}


def _sampler_parameters(sampler: str) -> set[str]:
    """Keyword options the sampler takes besides nutpie's settings."""
    names: set[str] = set()
    if sampler == "nutpie":
        from .sampling import sample_nutpie

        names |= set(inspect.signature(sample_nutpie).parameters)
        names -= {"compiled", "data", "x0", "kwargs"}
    if sampler.startswith("nutpie"):
        from .sampling import _internals

        nutpie = _internals.import_nutpie()
        names |= set(inspect.signature(nutpie.sample).parameters) - {"compiled_model", "kwargs"}
        names.add("processes")
        names.update(_NUTPIE_OLD_KEYWORDS)
    return names


def check_shared_options(
    options: Mapping[str, Any], *, caller: str = "fit_many", scope: str = "given to every job"
) -> None:
    """Refuse, naming it, an option of :func:`bayescale.fit_many` (given to every job) that
    every fit would refuse: an unknown name (with the closest known one) or a bad value.
    ``caller`` and ``scope`` name the function and the options in the message (``bs.fit``
    checks its sampler keywords here too, ``fit_many`` each job's own).

    Examples
    --------
    >>> check_shared_options({"draws": 100, "target_accept": 0.95})
    >>> try:
    ...     check_shared_options({"drawz": 100})
    ... except TypeError as err:
    ...     print(str(err).split(";")[-1])
     did you mean 'draws'?
    """
    from ._api import check_count, check_flag, check_seed
    from .likelihoods import get_likelihood
    from .sampling import BACKENDS
    from .sampling.nuts import check_target_accept

    tail = f" ({scope})" if scope else ""
    sampler = options.get("sampler")
    if sampler is not None and (not isinstance(sampler, str) or sampler.lower() not in BACKENDS):
        names = ", ".join(repr(n) for n in BACKENDS)
        raise ValueError(f"{caller}(sampler=...) must be one of {names}, got {sampler!r}")
    sampler = (sampler or "nutpie").lower()
    known = _fit_parameters()
    extra = {k: v for k, v in options.items() if k not in known}
    if sampler.startswith("nutpie"):
        own = _sampler_parameters(sampler)
        settings = {k: v for k, v in extra.items() if k not in own}
        if "target_accept" in options:  # an option of ours that nutpie's settings take
            settings["target_accept"] = options["target_accept"]
        if settings:
            from .sampling import _internals

            bad = _check_settings(settings, options.get("adaptation", "low_rank"))
            if bad is not None:
                name, reason = bad
                if reason == "unknown":
                    candidates = sorted(known | own | set(_internals.nutpie_setting_names()))
                    close = difflib.get_close_matches(name, candidates, n=1)
                    hint = f"; did you mean {close[0]!r}?" if close else ""
                    if close == [name]:  # a nested field (gamma) is no keyword of nutpie.sample
                        adaptation = options.get("adaptation", "low_rank")
                        hint = f"; not a keyword nutpie takes with adaptation={adaptation!r}"
                    if sampler != "nutpie" and name in _sampler_parameters("nutpie"):
                        hint = "; an option of sampler='nutpie' only"  # init, jitter, starts
                    raise TypeError(
                        f"{caller}({name}=...): not an option of bs.fit or of the {sampler!r} "
                        f"sampler{tail}{hint}"
                    )
                raise ValueError(
                    f"{caller}({name}={settings[name]!r}): the {sampler!r} sampler refuses this "
                    f"value{tail}: {reason}"
                )
    try:
        if "target_accept" in options:
            check_target_accept(options["target_accept"])
        for name in ("draws", "chains"):
            if name in options:
                check_count(options[name], name)
        if options.get("tune") is not None:
            check_count(options["tune"], "tune", 1 if sampler.startswith("nutpie") else 0)
        if "random_seed" in options:
            check_seed(options["random_seed"])
        if options.get("likelihood") is not None:
            get_likelihood(options["likelihood"])
        for name in ("warn", "drift"):
            if name in options:
                check_flag(options[name], name)
    except (TypeError, ValueError) as err:
        raise type(err)(f"{caller}{tail}: {err}") from None
    priors = options.get("priors")
    if priors is not None and not isinstance(priors, Mapping):
        raise TypeError(
            f"{caller}(priors=...) must map parameter names to bs.Prior, "
            f"got {type(priors).__name__}"
        )
