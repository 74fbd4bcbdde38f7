"""The test kit's pytest fixtures, registered by ``pip install lambda-dedup[testing]``.

The package declares this module as a pytest plugin (entry point ``pytest11``:
``lambda_dedup``), so the fixtures are there in every test without an import. None is
``autouse``: a test gets what it names.

===================  ==================================================================
Fixture              What it gives
===================  ==================================================================
``lambda_context``   a :class:`~lambda_dedup.testing.context.LambdaContext`
``fake_clock``       a :class:`~lambda_dedup.testing.clock.FakeClock`
``memory_store``     an :class:`~lambda_dedup.store.memory.InMemoryStore`
``aws_credentials``  the environment of an isolated AWS SDK: fake credentials, region
                     ``us-east-1``, no profile, endpoint or shared files
``aws``              moto in-process (``mock_aws``) made to behave like DynamoDB
                     (:func:`~lambda_dedup.testing.moto.behave_like_dynamodb`), as an
                     :class:`AwsSandbox`
``dynamodb``         a DynamoDB client inside ``aws``, configured as
                     :class:`~lambda_dedup.store.dynamodb.DynamoDBStore` configures its own
``dedup_table``      the idempotency table (:data:`DEDUP_TABLE`), created as
                     ``modules/idempotency-table`` creates it
``dedup_store``      a :class:`~lambda_dedup.store.dynamodb.DynamoDBStore` on it
``dedup_env``        ``DEDUP_TABLE_NAME`` set to ``dedup_table``, and
                     :mod:`lambda_dedup.runtime`'s cached deduplicators and clients reset
                     around the test: a handler's ``runtime.deduplicator(...)`` uses moto
``read_item``        ``read_item(table, **key)``: an item as plain Python values
``dynamodb_requests``  a :class:`~lambda_dedup.testing.aws.RequestCounter` on ``dynamodb``
``dynamodb_faults``  a :class:`~lambda_dedup.testing.aws.FaultInjector` on ``dynamodb``,
                     botocore's retry backoff made instant
===================  ==================================================================

Examples:
    A test file of one's own project, with nothing to import but the code under test::

        from lambda_dedup import Deduplicator, effects

        def test_a_click_counts_once(dynamodb, dedup_store, aws, read_item):
            aws.create_table("counters", "page")
            dedup = Deduplicator(dedup_store, "clicks")
            for _ in range(2):
                dedup.transact_once("e-1", [effects.increment("counters", {"page": "/"}, "n")])
            assert read_item("counters", page="/")["n"] == 1
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from lambda_dedup.testing.clock import FakeClock
from lambda_dedup.testing.context import ACCOUNT_ID, REGION, LambdaContext

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

    from lambda_dedup.store.dynamodb import DynamoDBStore
    from lambda_dedup.store.memory import InMemoryStore
    from lambda_dedup.testing.aws import FaultInjector, ItemReader, RequestCounter

__all__ = [
    "DEDUP_TABLE",
    "FAKE_CREDENTIALS",
    "AwsSandbox",
    "aws",
    "aws_credentials",
    "dedup_env",
    "dedup_store",
    "dedup_table",
    "dynamodb",
    "dynamodb_faults",
    "dynamodb_requests",
    "fake_clock",
    "lambda_context",
    "memory_store",
    "read_item",
]

DEDUP_TABLE = "dedup-test"
"""The name of the ``dedup_table`` fixture's table."""

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
"""The credentials ``aws_credentials`` sets: never a real account's."""

_REMOVED = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
)


class AwsSandbox:
    """moto in-process, as the ``aws`` fixture yields it: clients and tables in it.

    Examples:
        In a test::

            def test_orders(aws):
                table = aws.create_table("orders", "order_id")
                sqs = aws.client("sqs")
    """

    region = REGION
    account_id = ACCOUNT_ID

    def client(self, service: str, **options: Any) -> Any:
        """A boto3 client of ``service`` in the sandbox's region."""
        import boto3

        return boto3.client(service, region_name=self.region, **options)  # type: ignore[call-overload]

    def resource(self, service: str, **options: Any) -> Any:
        """A boto3 resource of ``service`` in the sandbox's region."""
        import boto3

        return boto3.resource(service, region_name=self.region, **options)  # type: ignore[call-overload]

    def create_dedup_table(self, name: str = DEDUP_TABLE) -> str:
        """The idempotency table, as ``modules/idempotency-table`` creates it."""
        from lambda_dedup.testing.aws import create_dedup_table

        return create_dedup_table(self.client("dynamodb"), name)

    def create_table(self, name: str, *keys: str) -> str:
        """A table with string keys: the partition key, then the sort key if given."""
        from lambda_dedup.testing.aws import create_keyed_table

        return create_keyed_table(self.client("dynamodb"), name, *keys)


@pytest.fixture
def lambda_context() -> LambdaContext:
    """A Lambda context object: ``test-function``, 128 MB, 30 s to run."""
    return LambdaContext()


@pytest.fixture
def fake_clock() -> FakeClock:
    """A clock at a fixed instant, moved by ``fake_clock.advance(seconds)``."""
    return FakeClock()


@pytest.fixture
def memory_store() -> InMemoryStore:
    """An empty in-memory store (declare tables: ``memory_store.declare_table(...)``)."""
    from lambda_dedup.store.memory import InMemoryStore

    return InMemoryStore()


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """An AWS SDK environment that can reach no real account: fake credentials, region
    ``us-east-1``, and no profile, endpoint, role or shared credentials file."""
    for name in _REMOVED:
        monkeypatch.delenv(name, raising=False)
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


@pytest.fixture
def aws(aws_credentials: None) -> Iterator[AwsSandbox]:
    """moto in-process for the test, its DynamoDB behaving as DynamoDB does where moto
    does not (atomic conditional writes, transaction conflicts, item limits)."""
    from moto import mock_aws

    from lambda_dedup.testing.moto import behave_like_dynamodb

    behave_like_dynamodb()
    with mock_aws():
        yield AwsSandbox()


@pytest.fixture
def dynamodb(aws: AwsSandbox) -> DynamoDBClient:
    """A DynamoDB client on moto, configured as the package configures its own."""
    from lambda_dedup.store.dynamodb import DEFAULT_BOTO_CONFIG

    client: DynamoDBClient = aws.client("dynamodb", config=DEFAULT_BOTO_CONFIG)
    return client


@pytest.fixture
def dedup_table(dynamodb: DynamoDBClient) -> str:
    """The idempotency table :data:`DEDUP_TABLE`, created on moto."""
    from lambda_dedup.testing.aws import create_dedup_table

    return create_dedup_table(dynamodb, DEDUP_TABLE)


@pytest.fixture
def dedup_store(dynamodb: DynamoDBClient, dedup_table: str) -> DynamoDBStore:
    """A :class:`~lambda_dedup.store.dynamodb.DynamoDBStore` on ``dedup_table``."""
    from lambda_dedup.store.dynamodb import DynamoDBStore

    return DynamoDBStore(dedup_table, client=dynamodb)


@pytest.fixture
def dedup_env(dedup_table: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The environment ``modules/function`` gives a handler, on moto: ``DEDUP_TABLE_NAME``
    is ``dedup_table``, and :mod:`lambda_dedup.runtime` forgets its cached deduplicators,
    store and clients before and after the test, so that the code under test builds them
    inside ``aws``. Set the handler's own variables (its tables) with ``monkeypatch``.

    Examples:
        ::

            def test_an_order_is_recorded_once(dedup_env, aws, lambda_context, monkeypatch):
                monkeypatch.setenv("ORDERS_TABLE_NAME", aws.create_table("orders", "order_id"))
                event = events.sqs_event([{"order_id": "o-1"}] * 2)
                assert consumer.handler(event, lambda_context) == {"batchItemFailures": []}
    """
    from lambda_dedup import runtime

    monkeypatch.setenv("DEDUP_TABLE_NAME", dedup_table)
    runtime.reset()
    yield dedup_table
    runtime.reset()


@pytest.fixture
def read_item(aws: AwsSandbox) -> ItemReader:
    """``read_item(table, **key)``: the item with plain Python values, or ``None``, read
    consistently on a client of its own (so it never shows in ``dynamodb_requests``)."""
    resource = aws.resource("dynamodb")

    def read(table_name: str, **key: Any) -> dict[str, Any] | None:
        item: dict[str, Any] | None = (
            resource.Table(table_name).get_item(Key=key, ConsistentRead=True).get("Item")
        )
        return item

    return read


@pytest.fixture
def dynamodb_requests(dynamodb: DynamoDBClient) -> RequestCounter:
    """Counts the ``dynamodb`` client's calls and attempts by operation."""
    from lambda_dedup.testing.aws import RequestCounter

    return RequestCounter(dynamodb)


@pytest.fixture
def dynamodb_faults(dynamodb: DynamoDBClient, monkeypatch: pytest.MonkeyPatch) -> FaultInjector:
    """Injects DynamoDB errors into the ``dynamodb`` client; botocore's retries are instant."""
    from botocore.retries.standard import ExponentialBackoff

    from lambda_dedup.testing.aws import FaultInjector

    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)
    return FaultInjector(dynamodb)
