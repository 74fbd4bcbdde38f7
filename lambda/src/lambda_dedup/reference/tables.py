"""The environment variables that name the reference handlers' tables (the root module
sets them for each handler)."""

from __future__ import annotations

__all__ = [
    "AUDIT_TABLE_ENV",
    "COUNTERS_TABLE_ENV",
    "INSTANCE_STATES_TABLE_ENV",
    "PROFILES_TABLE_ENV",
]

PROFILES_TABLE_ENV = "PROFILES_TABLE_NAME"
COUNTERS_TABLE_ENV = "COUNTERS_TABLE_NAME"
AUDIT_TABLE_ENV = "AUDIT_TABLE_NAME"
INSTANCE_STATES_TABLE_ENV = "INSTANCE_STATES_TABLE_NAME"
