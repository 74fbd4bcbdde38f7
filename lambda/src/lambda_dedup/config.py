"""Settings read from the function's environment (set by ``modules/function``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from lambda_dedup.deduplicator import DEFAULT_LEASE_SECONDS, DEFAULT_TTL_SECONDS
from lambda_dedup.exceptions import ConfigurationError

# Deprecated aliases: the reference handlers' table variables live in
# lambda_dedup.reference.tables, with the rest of the reference domain.
from lambda_dedup.reference.tables import (  # noqa: F401
    AUDIT_TABLE_ENV,
    COUNTERS_TABLE_ENV,
    INSTANCE_STATES_TABLE_ENV,
    PROFILES_TABLE_ENV,
)

TABLE_NAME_ENV = "DEDUP_TABLE_NAME"
TTL_SECONDS_ENV = "DEDUP_TTL_SECONDS"
LEASE_SECONDS_ENV = "DEDUP_LEASE_SECONDS"

BATCH_WORKERS_ENV = "BATCH_MAX_WORKERS"


@dataclass(frozen=True, slots=True)
class Settings:
    """Where the deduplication records live and how long they are kept."""

    table_name: str
    ttl_seconds: int = DEFAULT_TTL_SECONDS
    lease_seconds: float = DEFAULT_LEASE_SECONDS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read ``DEDUP_TABLE_NAME`` (required), ``DEDUP_TTL_SECONDS``, ``DEDUP_LEASE_SECONDS``."""
        env = os.environ if environ is None else environ
        table = required(TABLE_NAME_ENV, env)
        try:
            ttl = int(env.get(TTL_SECONDS_ENV, DEFAULT_TTL_SECONDS))
            lease = float(env.get(LEASE_SECONDS_ENV, DEFAULT_LEASE_SECONDS))
        except ValueError as error:
            raise ConfigurationError(
                f"{TTL_SECONDS_ENV} and {LEASE_SECONDS_ENV} must be numbers: {error}"
            ) from error
        return cls(table_name=table, ttl_seconds=ttl, lease_seconds=lease)


def required(name: str, environ: Mapping[str, str] | None = None) -> str:
    """The non-empty value of environment variable ``name``; ConfigurationError if unset."""
    value = (os.environ if environ is None else environ).get(name, "").strip()
    if not value:
        raise ConfigurationError(f"{name} is not set")
    return value


def batch_workers(default: int, environ: Mapping[str, str] | None = None) -> int:
    """Threads per batch from ``BATCH_MAX_WORKERS`` (1-10, the size of botocore's connection
    pool), else ``default``."""
    text = (os.environ if environ is None else environ).get(BATCH_WORKERS_ENV, "").strip()
    if not text:
        return default
    try:
        workers = int(text)
    except ValueError as error:
        raise ConfigurationError(f"{BATCH_WORKERS_ENV} must be a whole number") from error
    if not 1 <= workers <= 10:
        raise ConfigurationError(f"{BATCH_WORKERS_ENV} must be between 1 and 10")
    return workers
