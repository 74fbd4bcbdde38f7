"""Fixtures for tests of the package against moto in-process."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.retries.standard import ExponentialBackoff
from support.logs import LogLines

from lambda_dedup import Deduplicator, DynamoDBStore, InMemoryStore, runtime
from lambda_dedup.local.functions import write_function_output_to
from lambda_dedup.testing.aws import FaultInjector, RequestCounter, WriteLog, create_keyed_table
from lambda_dedup.testing.clock import FakeClock
from lambda_dedup.testing.plugin import DEDUP_TABLE

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

TABLE = DEDUP_TABLE
PROFILES = "profiles-test"
COUNTERS = "counters-test"
AUDIT = "audit-test"
INSTANCE_STATES = "instance-states-test"
DOMAIN_TABLES = {
    PROFILES: ("user_id",),
    COUNTERS: ("user_id", "type"),
    AUDIT: ("id",),
    INSTANCE_STATES: ("instance_id", "changed_at"),
}
"""The reference domain's tables and their keys, as the root module creates them."""


# The test kit's fixtures (lambda_dedup.testing.plugin) under the names these tests use:
# `dynamodb` (moto in-process, behaving like DynamoDB) and `read_item` are the kit's own.


@pytest.fixture
def table(dedup_table: str) -> str:
    return dedup_table


@pytest.fixture
def requests(dynamodb_requests: RequestCounter) -> RequestCounter:
    return dynamodb_requests


@pytest.fixture
def faults(dynamodb_faults: FaultInjector) -> FaultInjector:
    """Injects DynamoDB errors; botocore's retry backoff is made instant."""
    return dynamodb_faults


@pytest.fixture
def clock(fake_clock: FakeClock) -> FakeClock:
    return fake_clock


@pytest.fixture
def store(dedup_store: DynamoDBStore) -> DynamoDBStore:
    return dedup_store


@pytest.fixture
def dedup(store: DynamoDBStore, clock: FakeClock) -> Deduplicator:
    return Deduplicator(store, "test-handler", ttl_seconds=3600, lease_seconds=30, clock=clock)


@pytest.fixture(params=["dynamodb", "memory"])
def any_store(request: pytest.FixtureRequest) -> DynamoDBStore | InMemoryStore:
    """Each store implementation in turn: claim mode must behave the same on both."""
    if request.param == "memory":
        return InMemoryStore()
    store: DynamoDBStore = request.getfixturevalue("store")
    return store


@pytest.fixture
def any_dedup(any_store: DynamoDBStore | InMemoryStore, clock: FakeClock) -> Deduplicator:
    return Deduplicator(any_store, "test-handler", ttl_seconds=3600, lease_seconds=30, clock=clock)


@pytest.fixture(autouse=True)
def _fresh_metrics() -> Iterator[None]:
    """Powertools' metric set is shared by every ``Metrics``: a test that adds metrics
    without flushing them (the function forms) leaves none behind."""
    from lambda_dedup.runtime import metrics

    metrics.clear_metrics()
    yield
    metrics.clear_metrics()


@pytest.fixture
def log_lines() -> Iterator[LogLines]:
    stream = io.StringIO()
    previous = write_function_output_to(stream)
    yield LogLines(stream)
    write_function_output_to(previous)


@pytest.fixture
def handler_env(table: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The environment modules/function gives a handler, with its cached clients reset."""
    monkeypatch.setenv("DEDUP_TABLE_NAME", table)
    runtime.reset()
    yield table
    runtime.reset()


@pytest.fixture
def domain_env(handler_env: str, dynamodb: DynamoDBClient, monkeypatch: pytest.MonkeyPatch) -> str:
    """The batch handlers' environment: the domain tables exist and are named."""
    for name, keys in DOMAIN_TABLES.items():
        create_keyed_table(dynamodb, name, *keys)
    monkeypatch.setenv("PROFILES_TABLE_NAME", PROFILES)
    monkeypatch.setenv("COUNTERS_TABLE_NAME", COUNTERS)
    monkeypatch.setenv("AUDIT_TABLE_NAME", AUDIT)
    monkeypatch.setenv("INSTANCE_STATES_TABLE_NAME", INSTANCE_STATES)
    return handler_env


@pytest.fixture
def failures(domain_env: str) -> tuple[Any, str, str]:
    """An SQS queue to be a function's on-failure destination: (client, url, ARN)."""
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="failures")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return sqs, url, arn["Attributes"]["QueueArn"]


@pytest.fixture
def write_log(domain_env: str) -> WriteLog:
    """The writes the handlers' own DynamoDB client got accepted, per domain table."""
    return WriteLog(runtime.store().client, dict(DOMAIN_TABLES))


@pytest.fixture
def handler_faults(domain_env: str, monkeypatch: pytest.MonkeyPatch) -> FaultInjector:
    """Injects DynamoDB errors into the handlers' own client; retries are instant."""
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)
    return FaultInjector(runtime.store().client)
