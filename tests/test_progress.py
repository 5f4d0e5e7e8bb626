"""One progress bar in the parent for all chains; ``progressbar=False`` writes nothing."""

from __future__ import annotations

import re
import sys
import types

import pytest

import bayescale as bs
from bayescale.progress import ChainProgress

RUNS = bs.testing.simulate_chinchilla(n=40, random_seed=3)
SMALL = dict(draws=60, tune=60, random_seed=2, warn=False)


@pytest.mark.parametrize("processes", [1, 2])
def test_progressbar_false_writes_nothing(capfd, processes):
    bs.fit("chinchilla", RUNS, chains=2, processes=processes, progressbar=False, **SMALL)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_one_bar_counts_every_chain_across_processes(capfd):
    bs.fit("chinchilla", RUNS, chains=3, processes=2, progressbar=True, **SMALL)
    out, err = capfd.readouterr()
    assert out == ""
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.strip()]
    assert lines and all(line.startswith("sampling [") for line in lines), lines[:3]
    final = lines[-1]
    # 3 chains × (60 warm-up + 60 draws), the chains of both worker processes
    assert re.search(r"\b360/360 iterations, 3/3 chains done\b", final), final
    counts = [int(m.group(1)) for m in map(re.compile(r"\] (\d+)/360").search, lines) if m]
    assert counts == sorted(counts)  # one bar, never going back


def test_notebook_progress_is_one_updating_display(monkeypatch, capsys):
    """In a Jupyter kernel the bar is an HTML display updated in place, nothing on stderr."""
    shown, updates = [], []

    class ZMQInteractiveShell:  # the class name is how a kernel is recognised
        pass

    class Handle:
        def update(self, obj):
            updates.append(obj.data)

    def display(obj, display_id=False):
        shown.append(obj.data)
        return Handle()

    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: ZMQInteractiveShell()
    display_mod = types.ModuleType("IPython.display")
    display_mod.HTML = type(
        "HTML", (), {"__init__": lambda self, data: setattr(self, "data", data)}
    )
    display_mod.display = display
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display_mod)

    bar = ChainProgress(chains=2, per_chain=50, interval=0.0)
    bar.update(0, 50, 0)
    bar.update(1, 20, 2)
    bar.close()
    out, err = capsys.readouterr()
    assert out == "" and err == ""
    assert len(shown) == 1 and len(updates) == 3
    assert 'value="70" max="100"' in updates[-1] and "1/2 chains done" in updates[-1]
    assert "2 divergences" in updates[-1]
