"""InMemoryStore serves effect mode's transactions as DynamoDBStore does in DynamoDB.

The entries of a transaction are applied to in-memory tables with DynamoDB's expression
semantics; the same scenarios give the same outcomes on moto (with the test kit's fixes),
which stands for DynamoDB here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from lambda_dedup import (
    ConfigurationError,
    Deduplicator,
    DedupStore,
    DynamoDBStore,
    EffectConditionFailedError,
    InMemoryStore,
    PayloadMismatchError,
    UnstorableValueError,
    UnsupportedOperationError,
    effects,
)
from lambda_dedup.records import DedupRecord, Status
from lambda_dedup.testing.aws import create_keyed_table
from lambda_dedup.testing.clock import FakeClock

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

    from lambda_dedup.testing.aws import ItemReader

SCHEMAS = {"counters": ("user_id", "type"), "profiles": ("user_id",)}


def marker(record_id: str = "h#e-1") -> DedupRecord:
    return DedupRecord(record_id, Status.COMPLETED, expires_at=2_000_000_000, token="t")


def seeded(**items: dict[str, Any]) -> InMemoryStore:
    store = InMemoryStore(key_schemas=SCHEMAS)
    for table, item in items.items():
        store.put_item(table, item)
    return store


def update(expression: str, **options: Any) -> effects.TransactItem:
    return effects.update("profiles", {"user_id": "ada"}, expression, **options)


# -- capabilities ----------------------------------------------------------------------


def test_both_stores_declare_transactions_and_the_base_refuses_them() -> None:
    assert InMemoryStore().supports_transactions
    assert DynamoDBStore("t", client=object()).supports_transactions  # type: ignore[arg-type]

    class ClaimsOnly(InMemoryStore):
        transact_if_absent = DedupStore.transact_if_absent

    assert not ClaimsOnly().supports_transactions
    with pytest.raises(UnsupportedOperationError, match="does not support transactions"):
        ClaimsOnly().transact_if_absent(marker(), [], now_ms=0)


# -- the marker gates everything ---------------------------------------------------------


def test_a_new_key_applies_the_effects_and_a_duplicate_applies_nothing() -> None:
    store = InMemoryStore(key_schemas=SCHEMAS)
    add = effects.increment("counters", {"user_id": "ada", "type": "click"}, "count")
    assert store.transact_if_absent(marker(), [add], now_ms=0) is None
    existing = store.transact_if_absent(marker(), [add], now_ms=0)
    assert existing == marker()
    assert store.items("counters") == [{"user_id": "ada", "type": "click", "count": 1}]
    assert store.records["h#e-1"] == marker()


def test_an_expired_marker_counts_as_absent() -> None:
    store = InMemoryStore(key_schemas=SCHEMAS)
    add = effects.increment("counters", {"user_id": "ada", "type": "click"}, "count")
    store.transact_if_absent(marker(), [add], now_ms=0)
    later = (marker().expires_at + 1) * 1000
    assert store.transact_if_absent(marker(), [add], now_ms=later) is None
    assert store.item("counters", user_id="ada", type="click") == {
        "user_id": "ada",
        "type": "click",
        "count": 2,
    }


def test_a_failed_effect_condition_cancels_everything_and_names_the_effect() -> None:
    store = seeded(profiles={"user_id": "ada", "version": 3})
    first = effects.increment("counters", {"user_id": "ada", "type": "click"}, "count")
    guarded = effects.put(
        "profiles",
        {"user_id": "ada", "version": 2},
        condition="attribute_not_exists(user_id) OR version < :v",
        values={":v": 2},
    )
    with pytest.raises(EffectConditionFailedError) as raised:
        store.transact_if_absent(marker(), [first, guarded], now_ms=0)
    assert raised.value.index == 1
    assert raised.value.record_id == "h#e-1"
    assert store.items("counters") == []
    assert store.item("profiles", user_id="ada") == {"user_id": "ada", "version": 3}
    assert store.records == {}


def test_the_marker_failing_wins_over_an_effect_failing() -> None:
    store = InMemoryStore(key_schemas=SCHEMAS)
    store.transact_if_absent(marker(), [effects.put("profiles", {"user_id": "ada"})], now_ms=0)
    check: Any = {
        "ConditionCheck": {
            "TableName": "profiles",
            "Key": {"user_id": {"S": "bob"}},
            "ConditionExpression": "attribute_exists(user_id)",
        }
    }
    assert store.transact_if_absent(marker(), [check], now_ms=0) == marker()


def test_put_needs_a_declared_key_schema() -> None:
    store = InMemoryStore()
    with pytest.raises(ConfigurationError, match="declare_table\\('orders'"):
        store.transact_if_absent(marker(), [effects.put("orders", {"id": "o-1"})], now_ms=0)
    store.declare_table("orders", "id")
    store.transact_if_absent(marker(), [effects.put("orders", {"id": "o-1"})], now_ms=0)
    assert store.item("orders", id="o-1") == {"id": "o-1"}
    with pytest.raises(ConfigurationError, match="already declared"):
        store.declare_table("orders", "order_id")


def test_update_delete_and_condition_check_take_their_key_from_the_entry() -> None:
    store = InMemoryStore()
    key = {"pk": "a", "sk": Decimal(1)}
    store.transact_if_absent(marker("h#1"), [effects.increment("t", key, "n")], now_ms=0)
    check: Any = {
        "ConditionCheck": {
            "TableName": "t",
            "Key": effects.serialize(key),
            "ConditionExpression": "n = :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }
    delete: Any = {"Delete": {"TableName": "t", "Key": effects.serialize(key)}}
    store.transact_if_absent(marker("h#2"), [check, {"Delete": {**delete["Delete"]}}][:1], now_ms=0)
    assert store.items("t") == [{"pk": "a", "sk": 1, "n": 1}]
    store.transact_if_absent(marker("h#3"), [delete], now_ms=0)
    assert store.items("t") == []
    wrong: Any = {"Delete": {"TableName": "t", "Key": {"pk": {"S": "a"}}}}
    with pytest.raises(ClientError, match="does not match the schema"):
        store.transact_if_absent(marker("h#4"), [wrong], now_ms=0)


# -- what DynamoDB refuses ---------------------------------------------------------------


def _validation(store: InMemoryStore, entry: Any) -> str:
    with pytest.raises(ClientError) as raised:
        store.transact_if_absent(marker(), [entry], now_ms=0)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert store.records == {}
    return str(raised.value.response["Error"]["Message"])


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (update("SET count = :n", values={":n": 1}), "reserved keyword; reserved keyword: count"),
        (update("SET #n = :n", values={":n": 1}), "attribute name: #n"),
        (update("SET a = :n"), "attribute value: :n"),
        (update("SET a = :n", values={":n": 1, ":x": 2}), "unused in expressions: keys: {:x}"),
        (update("SET a = :n,", values={":n": 1}), "Syntax error"),
        (update("SET a = :n SET b = :n", values={":n": 1}), "can only be used once"),
        (update("SET a = :n REMOVE a", values={":n": 1}), "Two document paths overlap"),
        (update("SET user_id = :n", values={":n": "x"}), "part of the key"),
        (update("ADD a :s", values={":s": "x"}), "operator: ADD, operand type: STRING"),
        (update("SET a = :n", values={":n": 1}, condition="foo(a)"), "function: foo"),
        (update("SET a = :n", values={":n": 1}, condition="a < :m"), "attribute value: :m"),
        (effects.put("profiles", {"name": "ada"}), "Missing the key user_id"),
    ],
    ids=[
        "reserved-word",
        "undefined-name",
        "undefined-value",
        "unused-value",
        "syntax",
        "clause-twice",
        "overlap",
        "key-attribute",
        "add-string",
        "unknown-function",
        "undefined-in-condition",
        "put-without-key",
    ],
)
def test_malformed_requests_are_validation_exceptions(entry: Any, message: str) -> None:
    assert message in _validation(seeded(), entry)


def test_two_entries_on_one_item_are_refused() -> None:
    store = InMemoryStore(table_name="dedup", key_schemas=SCHEMAS)
    twice = [effects.put("profiles", {"user_id": "a"}), update("SET n = :n", values={":n": 1})]
    twice[1]["Update"]["Key"] = {"user_id": {"S": "a"}}
    with pytest.raises(ClientError, match="multiple operations on one item"):
        store.transact_if_absent(marker(), twice, now_ms=0)
    on_marker = effects.put("dedup", {"id": "h#e-1"})
    with pytest.raises(ClientError, match="multiple operations on one item"):
        store.transact_if_absent(marker(), [on_marker], now_ms=0)


def test_unstorable_values_are_refused_as_dynamodb_refuses_them() -> None:
    store = seeded()
    deep: Any = {"Put": {"TableName": "profiles", "Item": {"user_id": {"S": "a"}}}}
    value: Any = {"S": "x"}
    for _ in range(32):
        value = {"M": {"m": value}}
    deep["Put"]["Item"]["deep"] = value
    assert "nested 33 levels deep" in _validation(store, deep)
    with pytest.raises(UnstorableValueError):
        store.put_item("profiles", {"user_id": "a", "n": float("nan")})


def test_an_update_the_item_makes_impossible_cancels_with_a_validation_error() -> None:
    store = seeded(profiles={"user_id": "ada", "name": "Ada"})
    with pytest.raises(ClientError) as raised:
        store.transact_if_absent(
            marker(), [update("ADD #n :one", names={"#n": "name"}, values={":one": 1})], now_ms=0
        )
    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = raised.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ValidationError"]
    big = update("SET payload = :b", values={":b": "x" * 409_590})
    with pytest.raises(ClientError, match="ValidationError"):
        store.transact_if_absent(marker(), [big], now_ms=0)
    assert store.item("profiles", user_id="ada") == {"user_id": "ada", "name": "Ada"}


def test_effects_on_deduplication_records_are_refused_clearly() -> None:
    store = InMemoryStore(table_name="dedup")
    store.transact_if_absent(marker("h#other"), [effects.increment("c", {"k": "a"}, "n")], now_ms=0)
    on_record = effects.update("dedup", {"id": "h#other"}, "SET x = :x", values={":x": 1})
    with pytest.raises(UnsupportedOperationError, match="h#other"):
        store.transact_if_absent(marker(), [on_record], now_ms=0)


def test_effects_may_write_other_items_of_the_deduplication_table() -> None:
    store = InMemoryStore(table_name="dedup")
    position: Any = effects.put(
        "dedup",
        {"id": "s3:objects#b/k", "sequencer": "0002"},
        condition="attribute_not_exists(#id) OR #s < :s",
        names={"#id": "id", "#s": "sequencer"},
        values={":s": "0002"},
    )
    assert store.transact_if_absent(marker("h#1"), [position], now_ms=0) is None
    position["Put"]["ExpressionAttributeValues"][":s"] = {"S": "0001"}
    with pytest.raises(EffectConditionFailedError):
        store.transact_if_absent(marker("h#2"), [position], now_ms=0)


# -- expressions ---------------------------------------------------------------------------

ITEM = {
    "user_id": "ada",
    "name": "Ada Lovelace",
    "visits": 3,
    "tags": {"math", "poetry"},
    "scores": [1, 2, 3],
    "address": {"city": "London", "zip": "N1"},
    "active": True,
    "nothing": None,
}


@pytest.mark.parametrize(
    ("condition", "values", "holds"),
    [
        ("attribute_exists(visits) AND attribute_not_exists(absent)", {}, True),
        ("visits = :n", {":n": 3}, True),
        ("visits = :n", {":n": "3"}, False),
        ("visits <> :n", {":n": 4}, True),
        ("absent <> :n", {":n": 4}, True),
        ("visits < :n OR visits > :m", {":n": 3, ":m": 3}, False),
        ("visits <= :n AND visits >= :n", {":n": 3}, True),
        ("absent < :n", {":n": 3}, False),
        ("#name > :s", {":s": "Ada"}, True),
        ("visits BETWEEN :a AND :b", {":a": 1, ":b": 3}, True),
        ("visits IN (:a, :b)", {":a": 1, ":b": 2}, False),
        ("NOT visits IN (:a, :b)", {":a": 1, ":b": 2}, True),
        ("NOT (visits = :n OR active = :t) AND visits = :n", {":n": 3, ":t": True}, False),
        ("(visits = :n OR active = :f) AND active = :t", {":n": 3, ":f": False, ":t": True}, True),
        ("begins_with(#name, :p)", {":p": "Ada "}, True),
        ("begins_with(visits, :p)", {":p": "3"}, False),
        ("contains(tags, :t) AND contains(#name, :s)", {":t": "math", ":s": "Love"}, True),
        ("contains(scores, :n)", {":n": 2}, True),
        ("size(scores) = :n AND size(#name) > :m", {":n": 3, ":m": 10}, True),
        (
            "attribute_type(tags, :t) AND attribute_type(nothing, :u)",
            {":t": "SS", ":u": "NULL"},
            True,
        ),
        ("address.city = :c AND scores[1] = :n", {":c": "London", ":n": 2}, True),
        ("address.country = :c", {":c": "UK"}, False),
        ("active = :t and visits = :n", {":t": True, ":n": 3}, True),
    ],
)
def test_conditions_evaluate_as_dynamodb_evaluates_them(
    condition: str, values: dict[str, Any], holds: bool
) -> None:
    store = seeded(profiles=ITEM)
    names = {"#name": "name"} if "#name" in condition else None
    entry = update(
        "SET seen = :seen", condition=condition, names=names, values={**values, ":seen": True}
    )
    if holds:
        assert store.transact_if_absent(marker(), [entry], now_ms=0) is None
        assert (store.item("profiles", user_id="ada") or {})["seen"] is True
    else:
        with pytest.raises(EffectConditionFailedError):
            store.transact_if_absent(marker(), [entry], now_ms=0)


@pytest.mark.parametrize(
    ("expression", "values", "changes"),
    [
        ("SET visits = visits + :one", {":one": 1}, {"visits": 4}),
        (
            "SET visits = visits - :n, fresh = :n",
            {":n": Decimal("0.5")},
            {"visits": Decimal("2.5"), "fresh": Decimal("0.5")},
        ),
        (
            "SET since = if_not_exists(since, :now), visits = if_not_exists(visits, :z)",
            {":now": 7, ":z": 0},
            {"since": 7},
        ),
        ("SET n = if_not_exists(n, :z) + :one", {":z": 0, ":one": 1}, {"n": 1}),
        ("SET scores = list_append(scores, :more)", {":more": [4]}, {"scores": [1, 2, 3, 4]}),
        (
            "SET address.city = :c, scores[1] = :n, scores[9] = :n",
            {":c": "Paris", ":n": 9},
            {"address": {"city": "Paris", "zip": "N1"}, "scores": [1, 9, 3, 9]},
        ),
        (
            "REMOVE nothing, scores[0], scores[2], address.zip",
            {},
            {"nothing": ..., "scores": [2], "address": {"city": "London"}},
        ),
        (
            "ADD visits :n, tags :t, fresh :n",
            {":n": 2, ":t": {"code"}},
            {"visits": 5, "tags": {"math", "poetry", "code"}, "fresh": 2},
        ),
        ("DELETE tags :t", {":t": {"math"}}, {"tags": {"poetry"}}),
        ("DELETE tags :t", {":t": {"math", "poetry"}}, {"tags": ...}),
        ("set a = :n remove nothing", {":n": 1}, {"a": 1, "nothing": ...}),
    ],
)
def test_updates_apply_as_dynamodb_applies_them(
    expression: str, values: dict[str, Any], changes: dict[str, Any]
) -> None:
    store = seeded(profiles=ITEM)
    store.transact_if_absent(marker(), [update(expression, values=values or None)], now_ms=0)
    expected = {**ITEM, **changes}
    assert store.item("profiles", user_id="ada") == {
        k: v for k, v in expected.items() if v is not ...
    }


def test_update_creates_a_missing_item_from_its_key() -> None:
    store = seeded()
    store.transact_if_absent(marker(), [update("SET n = :n", values={":n": 1})], now_ms=0)
    assert store.items("profiles") == [{"user_id": "ada", "n": 1}]


def test_an_operand_missing_from_the_item_is_a_validation_error() -> None:
    store = seeded()
    with pytest.raises(ClientError, match="ValidationError"):
        store.transact_if_absent(
            marker(), [update("SET n = n + :one", values={":one": 1})], now_ms=0
        )
    with pytest.raises(ClientError, match="ValidationError"):
        store.transact_if_absent(marker(), [update("SET a.b = :one", values={":one": 1})], now_ms=0)


def test_reads_are_copies() -> None:
    store = seeded(profiles={"user_id": "ada", "tags": ["a"]})
    store.items("profiles")[0]["tags"].append("b")
    (store.item("profiles", user_id="ada") or {})["tags"].append("c")
    assert store.item("profiles", user_id="ada") == {"user_id": "ada", "tags": ["a"]}


# -- threads -------------------------------------------------------------------------------


def test_concurrent_transactions_apply_exactly_once_per_key() -> None:
    store = InMemoryStore(key_schemas=SCHEMAS)
    dedup = Deduplicator(store, "clicks")
    barrier = threading.Barrier(8)

    def deliver(event: int) -> bool:
        barrier.wait()
        add = effects.increment("counters", {"user_id": "ada", "type": "click"}, "count")
        return dedup.transact_once(f"e-{event % 4}", [add]).duplicate

    with ThreadPoolExecutor(8) as pool:
        duplicates = list(pool.map(deliver, range(8)))
    assert sorted(duplicates) == [False] * 4 + [True] * 4
    assert store.item("counters", user_id="ada", type="click") == {
        "user_id": "ada",
        "type": "click",
        "count": 4,
    }


# -- the same outcomes as DynamoDBStore ------------------------------------------------------


@pytest.fixture(params=["dynamodb", "memory"])
def parity(
    request: pytest.FixtureRequest, fake_clock: FakeClock
) -> tuple[Deduplicator, Callable[..., dict[str, Any] | None]]:
    """A deduplicator on each store, with the counters and profiles tables, and a reader."""
    if request.param == "memory":
        memory = InMemoryStore(key_schemas=SCHEMAS)
        return Deduplicator(memory, "h", clock=fake_clock), memory.item
    dynamodb: DynamoDBClient = request.getfixturevalue("dynamodb")
    for name, keys in SCHEMAS.items():
        create_keyed_table(dynamodb, name, *keys)
    store: DynamoDBStore = request.getfixturevalue("dedup_store")
    read_item: ItemReader = request.getfixturevalue("read_item")
    return Deduplicator(store, "h", clock=fake_clock), read_item


def test_effect_mode_gives_the_same_outcomes_on_both_stores(
    parity: tuple[Deduplicator, Callable[..., dict[str, Any] | None]],
) -> None:
    dedup, read = parity
    add = [effects.increment("counters", {"user_id": "ada", "type": "click"}, "count")]
    # a new key applies; a duplicate applies nothing and gets the original's result
    first = dedup.transact_once("e-1", add, payload={"n": 1}, result={"ok": 1})
    again = dedup.transact_once("e-1", add, payload={"n": 1}, result={"ok": 2})
    assert (first.duplicate, first.result) == (False, {"ok": 1})
    assert (again.duplicate, again.result) == (True, {"ok": 1})
    # the same key with another payload is refused
    with pytest.raises(PayloadMismatchError):
        dedup.transact_once("e-1", add, payload={"n": 2})
    # an effect whose condition fails cancels the transaction: no marker, no effect
    guarded = effects.put(
        "profiles",
        {"user_id": "ada", "version": 1},
        condition="attribute_not_exists(user_id) OR version < :v",
        values={":v": 1},
    )
    assert not dedup.transact_once("e-2", [*add, guarded]).duplicate
    with pytest.raises(EffectConditionFailedError) as raised:
        dedup.transact_once("e-3", [*add, guarded])
    assert raised.value.index == 1
    assert not dedup.transact_once("e-3", add).duplicate  # e-3 was not marked done
    assert read("counters", user_id="ada", type="click") == {
        "user_id": "ada",
        "type": "click",
        "count": 3,
    }
    assert read("profiles", user_id="ada") == {"user_id": "ada", "version": 1}
    # a hand-written update with the usual syntax
    bump = effects.update(
        "profiles",
        {"user_id": "ada"},
        "SET #v = #v + :one, seen = if_not_exists(seen, :t) ADD logins :one",
        condition="attribute_exists(user_id) AND (#v < :max OR NOT begins_with(user_id, :p))",
        names={"#v": "version"},
        values={":one": 1, ":t": True, ":max": 5, ":p": "ad"},
    )
    assert not dedup.transact_once("e-4", [bump]).duplicate
    assert read("profiles", user_id="ada") == {
        "user_id": "ada",
        "version": 2,
        "seen": True,
        "logins": 1,
    }
