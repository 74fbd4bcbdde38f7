"""Namespaced keys, payload fingerprints and settings from the environment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from support.batches import profile, sqs_batch
from support.clock import FakeClock
from support.lambda_context import FakeLambdaContext

from lambda_dedup import (
    ConfigurationError,
    Deduplicator,
    DynamoDBStore,
    InvalidKeyError,
    Settings,
    config,
    fingerprint,
    record_id,
)
from lambda_dedup.handlers import sqs
from lambda_dedup.keys import MAX_RAW_ID_BYTES


def test_two_handlers_never_collide_on_the_same_key(store: DynamoDBStore, clock: FakeClock) -> None:
    # GIVEN two handlers sharing one table
    orders = Deduplicator(store, "orders", clock=clock)
    emails = Deduplicator(store, "emails", clock=clock)
    # WHEN both see an event with the same key
    first = orders.put_once("evt-1")
    second = emails.put_once("evt-1")
    # THEN each applies it: the keys live in different namespaces
    assert not first.duplicate
    assert not second.duplicate
    assert first.record_id != second.record_id


def test_record_id_is_namespace_and_key() -> None:
    assert record_id("sqs-profiles", "u-1:r-9") == "sqs-profiles#u-1:r-9"


def test_oversized_key_is_replaced_by_its_digest() -> None:
    long_key = "k" * 5000
    rid = record_id("ns", long_key)
    assert rid.startswith("ns#sha256:")
    assert len(rid.encode()) <= MAX_RAW_ID_BYTES
    assert rid == record_id("ns", long_key)
    assert rid != record_id("ns", long_key + "x")


@pytest.mark.parametrize("namespace", ["", "has#hash", "x" * 129, "spa ce"])
def test_invalid_namespace_is_rejected(namespace: str) -> None:
    with pytest.raises(InvalidKeyError):
        record_id(namespace, "k")


def test_empty_key_is_rejected() -> None:
    with pytest.raises(InvalidKeyError):
        record_id("ns", "")


def test_fingerprint_ignores_key_order_and_number_representation() -> None:
    assert fingerprint({"a": 1, "b": [1, 2]}) == fingerprint({"b": [1, 2], "a": Decimal("1")})
    assert fingerprint({"a": 1}) != fingerprint({"a": 2})
    assert fingerprint(None) is None


def test_fingerprint_accepts_common_non_json_types() -> None:
    value = {"at": dt.datetime(2026, 11, 26, 12, 0), "raw": b"\x00\x01", "tags": {"b", "a"}}
    assert fingerprint(value) == fingerprint(dict(value))


def test_fingerprint_refuses_unknown_types() -> None:
    with pytest.raises(TypeError):
        fingerprint({"x": object()})


def test_settings_come_from_the_environment() -> None:
    env = {"DEDUP_TABLE_NAME": "t", "DEDUP_TTL_SECONDS": "600", "DEDUP_LEASE_SECONDS": "12.5"}
    assert Settings.from_env(env) == Settings("t", 600, 12.5)


def test_settings_name_what_is_missing_or_malformed() -> None:
    with pytest.raises(ConfigurationError, match="DEDUP_TABLE_NAME"):
        Settings.from_env({})
    with pytest.raises(ConfigurationError, match="must be numbers"):
        Settings.from_env({"DEDUP_TABLE_NAME": "t", "DEDUP_TTL_SECONDS": "a day"})


@pytest.mark.parametrize(("ttl", "lease"), [(0, 10.0), (400 * 86400, 10.0), (60, 0.0)])
def test_deduplicator_rejects_out_of_range_settings(
    store: DynamoDBStore, ttl: int, lease: float
) -> None:
    with pytest.raises(ValueError, match="must be"):
        Deduplicator(store, "ns", ttl_seconds=ttl, lease_seconds=lease)


@pytest.mark.parametrize(("value", "workers"), [(None, 10), ("1", 1), ("4", 4), (" 10 ", 10)])
def test_batch_workers_come_from_the_environment(value: str | None, workers: int) -> None:
    environ = {} if value is None else {"BATCH_MAX_WORKERS": value}
    assert config.batch_workers(10, environ) == workers


@pytest.mark.parametrize("value", ["0", "11", "many"])
def test_batch_workers_out_of_range_are_refused(value: str) -> None:
    with pytest.raises(ConfigurationError, match="BATCH_MAX_WORKERS"):
        config.batch_workers(10, {"BATCH_MAX_WORKERS": value})


# Powertools warns that the failed invocation published no metric; that is expected here.
@pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")
def test_a_batch_handler_without_its_table_fails_the_whole_batch(
    handler_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the SQS handler's effect table is not configured
    monkeypatch.delenv("PROFILES_TABLE_NAME", raising=False)
    # WHEN a batch arrives
    # THEN the invocation fails, so that no message is acknowledged (they are retried)
    with pytest.raises(ConfigurationError, match="PROFILES_TABLE_NAME"):
        sqs.handler(sqs_batch([profile(1)]), FakeLambdaContext())
