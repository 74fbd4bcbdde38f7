"""Reading what the handlers logged: Powertools writes one JSON object per line."""

from __future__ import annotations

import io
import json
from typing import Any


class LogLines:
    """The structured lines written to ``stream`` by the handlers' Powertools logger."""

    def __init__(self, stream: io.StringIO) -> None:
        self._stream = stream

    def all(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self._stream.getvalue().splitlines() if line]

    def with_message(self, message: str) -> list[dict[str, Any]]:
        return [line for line in self.all() if line.get("message") == message]
