"""DynamoDB helpers for tests: the tables, request counting, write counting and faults.

They work on any boto3 DynamoDB client: moto's (the ``dynamodb`` fixture), a local
emulator's, or a real one. Only :class:`FaultInjector` needs moto in-process.

Examples:
    A test of a handler that must write exactly once per event, however often it runs::

        def test_one_write_per_event(dynamodb):
            create_dedup_table(dynamodb, "dedup")
            create_keyed_table(dynamodb, "orders", "order_id")
            writes = WriteLog(dynamodb, {"orders": ("order_id",)})
            ...  # run the handler twice on the same event, with this client
            assert writes.count("orders") == {("o-1",): 1}
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.awsrequest import AWSResponse

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import KeySchemaElementTypeDef

__all__ = [
    "DEDUP_KEY",
    "DEDUP_TTL_ATTRIBUTE",
    "WRITE_OPERATIONS",
    "FaultInjector",
    "ItemReader",
    "RequestCounter",
    "WriteLog",
    "create_dedup_table",
    "create_keyed_table",
]

DEDUP_KEY = "id"
"""The idempotency table's partition key (a string), as ``modules/idempotency-table``
creates it."""

DEDUP_TTL_ATTRIBUTE = "expires_at"
"""The idempotency table's TTL attribute (epoch seconds)."""

ItemReader = Callable[..., dict[str, Any] | None]
"""``read_item(table, **key)`` -> the item with plain Python values, or None."""

WRITE_OPERATIONS = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
)


def create_dedup_table(client: DynamoDBClient, name: str) -> str:
    """Create the idempotency table ``name`` as ``modules/idempotency-table`` does:
    partition key ``id`` (S), on-demand, TTL on ``expires_at``. Returns ``name``.

    Examples:
        >>> import boto3, moto
        >>> with moto.mock_aws():
        ...     client = boto3.client("dynamodb", region_name="us-east-1")
        ...     create_dedup_table(client, "dedup")
        'dedup'
    """
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
    )
    return name


def create_keyed_table(client: DynamoDBClient, name: str, *keys: str) -> str:
    """Create table ``name`` with string keys: the first is the partition key, a second
    one the sort key; on-demand. Returns ``name``.

    Examples:
        >>> import boto3, moto
        >>> with moto.mock_aws():
        ...     client = boto3.client("dynamodb", region_name="us-east-1")
        ...     create_keyed_table(client, "counters", "user_id", "type")
        'counters'
    """
    if not 1 <= len(keys) <= 2:
        raise ValueError("a table has one hash key and at most one range key")
    schema: list[KeySchemaElementTypeDef] = [{"AttributeName": keys[0], "KeyType": "HASH"}]
    if len(keys) == 2:
        schema.append({"AttributeName": keys[1], "KeyType": "RANGE"})
    client.create_table(
        TableName=name,
        KeySchema=schema,
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in keys],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def _operation(request: Any) -> str:
    target = request.headers.get("X-Amz-Target", b"")
    if isinstance(target, bytes):
        target = target.decode()
    return str(target).rsplit(".", 1)[-1]


class RequestCounter:
    """Counts a client's DynamoDB API calls and HTTP attempts (retries included) by
    operation: ``calls["PutItem"]``, ``attempts["TransactWriteItems"]``, ``total``,
    ``writes``, ``reads``.

    Examples:
        >>> import boto3, moto
        >>> with moto.mock_aws():
        ...     client = boto3.client("dynamodb", region_name="us-east-1")
        ...     requests = RequestCounter(client)
        ...     _ = client.list_tables()
        >>> requests.total, requests.reads, dict(requests.calls)
        (1, 1, {'ListTables': 1})
    """

    def __init__(self, client: DynamoDBClient) -> None:
        self.calls: Counter[str] = Counter()
        self.attempts: Counter[str] = Counter()
        client.meta.events.register("before-call.dynamodb", self._on_call)
        client.meta.events.register("before-send.dynamodb", self._on_send)

    def _on_call(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def _on_send(self, request: Any, **_: Any) -> None:
        self.attempts[_operation(request)] += 1

    def reset(self) -> None:
        """Start counting from zero."""
        self.calls.clear()
        self.attempts.clear()

    @property
    def total(self) -> int:
        """Every API call (an attempt retried by botocore counts once)."""
        return sum(self.calls.values())

    @property
    def writes(self) -> int:
        """The calls of :data:`WRITE_OPERATIONS`."""
        return sum(n for op, n in self.calls.items() if op in WRITE_OPERATIONS)

    @property
    def reads(self) -> int:
        """Every other call."""
        return self.total - self.writes


class WriteLog:
    """Counts the item writes that DynamoDB accepted, by table and item key.

    It sees a client's requests: a ``PutItem``, ``UpdateItem`` or ``DeleteItem``, and each
    item of a ``TransactWriteItems``, counts once per item when the request succeeded
    (after botocore's retries). A failed or cancelled request counts nothing. This tells
    how many times an effect was really applied, whatever the code under test claims.

    Examples:
        >>> import boto3, moto
        >>> with moto.mock_aws():
        ...     client = boto3.client("dynamodb", region_name="us-east-1")
        ...     table = create_keyed_table(client, "orders", "order_id")
        ...     writes = WriteLog(client, {"orders": ("order_id",)})
        ...     for _ in range(2):
        ...         _ = client.put_item(TableName=table, Item={"order_id": {"S": "o-1"}})
        >>> writes.count("orders")
        Counter({('o-1',): 2})
    """

    def __init__(self, client: DynamoDBClient, keys: dict[str, tuple[str, ...]]) -> None:
        """``keys``: the key attribute names of each table to watch."""
        self._keys = keys
        self._lock = threading.Lock()
        self._writes: Counter[tuple[str, tuple[str, ...]]] = Counter()
        client.meta.events.register("before-parameter-build.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb", self._after)

    def _item_key(self, table: str, body: dict[str, Any]) -> tuple[str, ...] | None:
        names = self._keys.get(table)
        if names is None:
            return None
        values = body.get("Key") or body.get("Item") or {}
        return tuple(next(iter(values[name].values())) for name in names)

    def _before(
        self, model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        if model.name == "TransactWriteItems":
            bodies = [
                (body["TableName"], body)
                for item in params["TransactItems"]
                for operation, body in item.items()
                if operation != "ConditionCheck"
            ]
        elif model.name in WRITE_OPERATIONS:
            bodies = [(params["TableName"], params)]
        else:
            bodies = []
        targets = [(t, self._item_key(t, b)) for t, b in bodies]
        context["write_log"] = [(t, k) for t, k in targets if k is not None]

    def _after(self, http_response: Any, context: dict[str, Any], **_: Any) -> None:
        if http_response.status_code == 200:
            with self._lock:
                self._writes.update(context.get("write_log", []))

    def count(self, table: str) -> Counter[tuple[str, ...]]:
        """Accepted writes per item key of ``table``."""
        with self._lock:
            return Counter({key: n for (t, key), n in self._writes.items() if t == table})


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def read(self, *_: Any) -> bytes:
        return self._data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


class FaultInjector:
    """Answers chosen DynamoDB requests with an error, and keeps them from the emulator.

    Registered first on ``before-send``, so botocore's retry logic sees the error exactly
    as if DynamoDB had returned it. botocore calls *every* ``before-send`` handler, moto's
    in-process stub included, so an injected attempt's URL is pointed nowhere: otherwise
    moto would apply the write that the test says failed. It needs moto in-process
    (``mock_aws``, the ``aws`` fixture).

    Examples:
        >>> import boto3, moto
        >>> from botocore.config import Config
        >>> with moto.mock_aws():
        ...     client = boto3.client("dynamodb", region_name="us-east-1",
        ...                           config=Config(retries={"total_max_attempts": 1}))
        ...     faults = FaultInjector(client)
        ...     faults.fail("ListTables", 1, "InternalServerError")
        ...     try:
        ...         client.list_tables()
        ...     except client.exceptions.InternalServerError as error:
        ...         print(error.response["Error"]["Code"])
        InternalServerError
    """

    def __init__(self, client: DynamoDBClient | None = None, *, events: Any = None) -> None:
        """On ``client``, or on every client created later from the session whose event
        emitter is ``events`` (``boto3.DEFAULT_SESSION.events``)."""
        self._plan: list[_Fault] = []
        self._lock = threading.Lock()  # batch handlers send from several threads
        emitter = client.meta.events if client is not None else events
        emitter.register_first("before-send.dynamodb", self._on_send)  # type: ignore[arg-type]

    @property
    def pending(self) -> int:
        """Planned failures not injected yet."""
        return sum(fault.remaining for fault in self._plan)

    def fail(
        self,
        operation: str,
        times: int,
        code: str,
        message: str = "",
        *,
        matching: str | None = None,
        **extra: Any,
    ) -> None:
        """The next ``times`` attempts of ``operation`` get error ``code``, unapplied.

        With ``matching``, only attempts whose request body contains that text count.
        """
        body = {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message or code}
        body.update(extra)
        self._plan.append(_Fault(operation, times, body, 400, applied=False, matching=matching))

    def lose_response(self, operation: str, times: int = 1) -> None:
        """The next ``times`` attempts reach DynamoDB and are applied, but the caller gets
        a 500 InternalServerError instead of the response (botocore retries it)."""
        body = {"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError"}
        self._plan.append(_Fault(operation, times, body, 500, applied=True))

    def throttle(self, operation: str, times: int, *, matching: str | None = None) -> None:
        """The next ``times`` attempts of ``operation`` are throttled, unapplied."""
        self.fail(
            operation,
            times,
            "ThrottlingException",
            "Rate of requests exceeds the allowed throughput.",
            matching=matching,
        )

    def clear(self) -> None:
        """Forget the failures not injected yet."""
        self._plan.clear()

    def _next(self, operation: str, body: bytes) -> _Fault | None:
        with self._lock:
            for fault in self._plan:
                if fault.operation != operation or fault.remaining <= 0:
                    continue
                if fault.matching is not None and fault.matching.encode() not in body:
                    continue
                fault.remaining -= 1
                return fault
        return None

    def _on_send(self, event_name: str, request: Any, **_: Any) -> AWSResponse | None:
        body = request.body if isinstance(request.body, bytes) else str(request.body).encode()
        fault = self._next(_operation(request), body)
        if fault is None:
            return None
        if fault.applied:
            from moto.core.models import botocore_stubber

            botocore_stubber(event_name, request)  # moto applies it; its answer is dropped
        request.url = "http://fault-injected.invalid/"  # moto's stub ignores it
        return _error_response(request.url, fault)


@dataclass
class _Fault:
    operation: str
    remaining: int
    body: dict[str, Any]
    status: int
    applied: bool
    matching: str | None = None


def _error_response(url: str, fault: _Fault) -> AWSResponse:
    headers = {"x-amzn-RequestId": "injected", "Content-Type": "application/x-amz-json-1.0"}
    raw = _Body(json.dumps(fault.body).encode())
    return AWSResponse(url, fault.status, headers, raw)  # type: ignore[arg-type]
