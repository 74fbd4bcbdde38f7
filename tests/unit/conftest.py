"""Fixtures for tests of the package against moto in-process."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.retries.standard import ExponentialBackoff
from moto import mock_aws
from support.aws import (
    FaultInjector,
    ItemReader,
    RequestCounter,
    WriteLog,
    create_dedup_table,
    create_keyed_table,
)
from support.clock import FakeClock
from support.logs import LogLines

from lambda_dedup import Deduplicator, DynamoDBStore, InMemoryStore
from lambda_dedup.handlers import _runtime
from lambda_dedup.local.functions import write_function_output_to
from lambda_dedup.store.dynamodb import DEFAULT_BOTO_CONFIG

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

TABLE = "dedup-test"
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


@pytest.fixture
def dynamodb() -> Iterator[DynamoDBClient]:
    """A DynamoDB client on moto in-process, configured as the package configures its own."""
    with mock_aws():
        yield boto3.client("dynamodb", config=DEFAULT_BOTO_CONFIG)


@pytest.fixture
def table(dynamodb: DynamoDBClient) -> str:
    return create_dedup_table(dynamodb, TABLE)


@pytest.fixture
def read_item(dynamodb: DynamoDBClient) -> ItemReader:
    """``read_item(table, **key)``: the item, with plain Python values, read on a separate
    client so that it never shows up in a :class:`RequestCounter`."""
    resource = boto3.resource("dynamodb")

    def read(table_name: str, **key: Any) -> dict[str, Any] | None:
        item: dict[str, Any] | None = (
            resource.Table(table_name).get_item(Key=key, ConsistentRead=True).get("Item")
        )
        return item

    return read


@pytest.fixture
def requests(dynamodb: DynamoDBClient) -> RequestCounter:
    return RequestCounter(dynamodb)


@pytest.fixture
def faults(dynamodb: DynamoDBClient, monkeypatch: pytest.MonkeyPatch) -> FaultInjector:
    """Injects DynamoDB errors; botocore's retry backoff is made instant."""
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)
    return FaultInjector(dynamodb)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(dynamodb: DynamoDBClient, table: str) -> DynamoDBStore:
    return DynamoDBStore(table, client=dynamodb)


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
    _runtime.reset()
    yield table
    _runtime.reset()


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
    return WriteLog(_runtime.store().client, dict(DOMAIN_TABLES))


@pytest.fixture
def handler_faults(domain_env: str, monkeypatch: pytest.MonkeyPatch) -> FaultInjector:
    """Injects DynamoDB errors into the handlers' own client; retries are instant."""
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)
    return FaultInjector(_runtime.store().client)
