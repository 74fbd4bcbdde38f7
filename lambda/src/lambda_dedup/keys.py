"""Namespaced record ids and payload fingerprints."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from lambda_dedup.exceptions import InvalidKeyError

NAMESPACE_PATTERN = re.compile(r"^[A-Za-z0-9_.:/-]{1,128}$")
"""A namespace names one handler; ``#`` is reserved as the separator."""

MAX_RAW_ID_BYTES = 1024
"""Longer ids are replaced by a digest. DynamoDB allows 2048 bytes for a partition key."""


def record_id(namespace: str, key: str) -> str:
    """Return the store id of ``key`` within ``namespace``: ``"<namespace>#<key>"``.

    Two handlers with different namespaces can never collide. Keys whose id would exceed
    :data:`MAX_RAW_ID_BYTES` are stored as ``"<namespace>#sha256:<hex digest>"``.
    """
    if not NAMESPACE_PATTERN.fullmatch(namespace):
        raise InvalidKeyError(
            f"namespace {namespace!r} must be 1-128 characters of letters, digits and _ . : / -"
        )
    if not isinstance(key, str) or not key:
        raise InvalidKeyError("the idempotency key must be a non-empty string")
    try:
        encoded = key.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidKeyError(
            "the idempotency key must be UTF-8 text (no lone surrogate)"
        ) from error
    rid = f"{namespace}#{key}"
    if len(namespace.encode("utf-8")) + 1 + len(encoded) > MAX_RAW_ID_BYTES:
        rid = f"{namespace}#sha256:{hashlib.sha256(encoded).hexdigest()}"
    return rid


def _canonical(value: Any) -> Any:
    if isinstance(value, Decimal):
        # DynamoDB hands numbers back as Decimal; 3 and Decimal("3") are the same payload.
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, set | frozenset):
        return sorted(value, key=canonical_json)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, Mapping):  # Powertools' event data classes, among others
        return dict(value)
    dump = getattr(value, "model_dump", None)  # pydantic models
    if callable(dump):
        return dump(mode="json")
    raise TypeError(f"cannot fingerprint a value of type {type(value).__name__}")


def canonical_json(value: Any) -> str:
    """Serialise ``value`` to JSON deterministically (sorted keys, no whitespace)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_canonical
    )


def fingerprint(payload: Any) -> str | None:
    """Return the SHA-256 of the payload's canonical JSON, or ``None`` for no payload.

    Any JSON value has one, even one that DynamoDB could not store (``NaN``, a lone
    surrogate, encoded as its code point): the fingerprint itself is always storable.
    """
    if payload is None:
        return None
    return hashlib.sha256(canonical_json(payload).encode("utf-8", "surrogatepass")).hexdigest()
