"""Test-session set-up shared by tests/ and the docstring examples in bayescale/."""

from __future__ import annotations

import os
from pathlib import Path

_SHARED_DATA = Path(__file__).resolve().parent.parent / "shared" / "data"

os.environ.setdefault("MPLBACKEND", "Agg")
if "BAYESCALE_DATA_DIR" not in os.environ and _SHARED_DATA.is_dir():
    os.environ["BAYESCALE_DATA_DIR"] = str(_SHARED_DATA)
