"""DynamoDB helpers for tests: the table schema, request counting and fault injection."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.awsrequest import AWSResponse
from moto.core.models import botocore_stubber

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import KeySchemaElementTypeDef

ItemReader = Callable[..., dict[str, Any] | None]
"""``read_item(table, **key)`` -> the item with plain Python values, or None."""

WRITE_OPERATIONS = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
)


def create_dedup_table(client: DynamoDBClient, name: str) -> str:
    """The schema modules/idempotency-table creates: key `id` (S), TTL on `expires_at`."""
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
    """A table with string keys: the first is the hash key, a second one the range key."""
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
    """Counts DynamoDB API calls and HTTP attempts (retries included) by operation."""

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
        self.calls.clear()
        self.attempts.clear()

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    @property
    def writes(self) -> int:
        return sum(n for op, n in self.calls.items() if op in WRITE_OPERATIONS)

    @property
    def reads(self) -> int:
        return self.total - self.writes


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
    moto would apply the write that the test says failed.
    """

    def __init__(self, client: DynamoDBClient) -> None:
        self._plan: list[_Fault] = []
        client.meta.events.register_first("before-send.dynamodb", self._on_send)  # type: ignore[arg-type]

    def fail(self, operation: str, times: int, code: str, message: str = "", **extra: Any) -> None:
        """The next ``times`` attempts of ``operation`` get error ``code``, unapplied."""
        body = {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message or code}
        body.update(extra)
        self._plan.append(_Fault(operation, times, body, 400, applied=False))

    def lose_response(self, operation: str, times: int = 1) -> None:
        """The next ``times`` attempts reach DynamoDB and are applied, but the caller gets
        a 500 InternalServerError instead of the response (botocore retries it)."""
        body = {"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError"}
        self._plan.append(_Fault(operation, times, body, 500, applied=True))

    def throttle(self, operation: str, times: int) -> None:
        self.fail(
            operation,
            times,
            "ThrottlingException",
            "Rate of requests exceeds the allowed throughput.",
        )

    def clear(self) -> None:
        self._plan.clear()

    def _next(self, operation: str) -> _Fault | None:
        for fault in self._plan:
            if fault.operation == operation and fault.remaining > 0:
                fault.remaining -= 1
                return fault
        return None

    def _on_send(self, event_name: str, request: Any, **_: Any) -> AWSResponse | None:
        fault = self._next(_operation(request))
        if fault is None:
            return None
        if fault.applied:
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


def _error_response(url: str, fault: _Fault) -> AWSResponse:
    headers = {"x-amzn-RequestId": "injected", "Content-Type": "application/x-amz-json-1.0"}
    raw = _Body(json.dumps(fault.body).encode())
    return AWSResponse(url, fault.status, headers, raw)  # type: ignore[arg-type]
