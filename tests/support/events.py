"""Realistic events, one JSON file per source in tests/events/, loaded by one helper."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parents[1] / "events"


@functools.cache
def _read(name: str) -> Any:
    return json.loads((EVENTS / f"{name}.json").read_text())


def load_event(name: str) -> Any:
    """A fresh copy of ``tests/events/<name>.json``; tests may change it freely."""
    return copy.deepcopy(_read(name))
