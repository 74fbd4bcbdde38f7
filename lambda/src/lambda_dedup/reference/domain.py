"""The reference domain every handler works on: user profiles and activity events.

* A **profile** is a JSON object with ``user_id`` (a string of 1-128 characters), ``email``
  (a string containing ``@``) and an optional ``name`` (a string); any other field is
  kept as it is. Profiles live in the profiles table, keyed by ``user_id``.
* An **activity event** is a JSON object with ``user_id`` and ``type`` (strings of 1-128
  characters) and, usually, ``event_id`` (a string of 1-256 characters), its idempotency
  key. Each one adds 1 to the counter of its ``(user_id, type)``.

Validation raises :class:`~lambda_dedup.exceptions.InvalidEventError` naming the field, so
that a handler can log why a record was rejected.
"""

from __future__ import annotations

import json
from typing import Any

from lambda_dedup.exceptions import InvalidEventError
from lambda_dedup.keys import canonical_json
from lambda_dedup.storable import check_item

__all__ = [
    "MAX_PROFILE_BYTES",
    "parse_activity",
    "parse_json",
    "parse_profile",
]

MAX_PROFILE_BYTES = 64 * 1024
"""A profile larger than this (as JSON) is rejected; DynamoDB's item limit is 400 KB."""


def parse_json(text: str | bytes, what: str, field: str | None = None) -> Any:
    """Decode JSON text; anything else is an :class:`InvalidEventError` about ``what``
    (naming ``field``, if given)."""
    try:
        return json.loads(text)
    except (TypeError, ValueError, RecursionError) as error:  # RecursionError: nested too deep
        raise InvalidEventError(f"{what} is not valid JSON: {error}", field) from error


def _string(value: dict[str, Any], field: str, limit: int, *, required: bool = True) -> str | None:
    item = value.get(field)
    if item is None and not required and field not in value:
        return None
    if not isinstance(item, str) or not 1 <= len(item) <= limit:
        raise InvalidEventError(f"{field!r} must be a string of 1-{limit} characters", field)
    return item


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidEventError(f"{what} must be a JSON object")
    return value


def parse_profile(value: Any) -> dict[str, Any]:
    """Validate a profile and return it (a copy); other fields are kept unchanged."""
    profile = dict(_object(value, "a profile"))
    _string(profile, "user_id", 128)
    email = profile.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise InvalidEventError("'email' must be a string containing '@'", "email")
    if "name" in profile and not isinstance(profile["name"], str):
        raise InvalidEventError("'name' must be a string when present", "name")
    check_item(profile, what="the profile")  # before the size: it refuses lone surrogates
    size = len(canonical_json(profile).encode("utf-8"))
    if size > MAX_PROFILE_BYTES:
        raise InvalidEventError(f"the profile is {size} bytes; at most {MAX_PROFILE_BYTES}")
    return profile


def parse_activity(value: Any) -> dict[str, Any]:
    """Validate an activity event; ``event_id`` may be absent (the caller has a fallback)."""
    event = _object(value, "an activity event")
    _string(event, "event_id", 256, required=False)
    _string(event, "user_id", 128)
    _string(event, "type", 128)
    return dict(event)
