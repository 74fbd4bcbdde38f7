"""An in-process store with DynamoDBStore's semantics, for unit tests of code that uses the core.

It serves every mode, effect mode's transactions included: the entries of a
``TransactWriteItems`` (what :mod:`lambda_dedup.effects` builds, or written by hand) are
applied to in-memory tables, atomically with the marker, with DynamoDB's condition and
update expressions (:mod:`lambda_dedup.store.expressions`). A test reads them back with
:meth:`InMemoryStore.items` and :meth:`InMemoryStore.item`.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import Binary, TypeDeserializer
from botocore.exceptions import ClientError

from lambda_dedup.effects import deserialize, serialize
from lambda_dedup.exceptions import (
    ConfigurationError,
    EffectConditionFailedError,
    UnstorableValueError,
    UnsupportedOperationError,
)
from lambda_dedup.records import DedupRecord, Status
from lambda_dedup.storable import check_item, check_value
from lambda_dedup.store.base import DedupStore
from lambda_dedup.store.dynamodb import (
    KEY,
    MAX_TRANSACTION_ITEMS,
    RESERVED_ATTRIBUTES,
    record_to_item,
)
from lambda_dedup.store.expressions import (
    Condition,
    ExpressionError,
    ItemError,
    Update,
    check_unused,
    compile_condition,
    compile_update,
    type_of,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

__all__ = ["CONDITION_FAILED_MESSAGE", "DEFAULT_TABLE_NAME", "InMemoryStore"]

DEFAULT_TABLE_NAME = "dedup"
"""The name :class:`InMemoryStore` gives its own table of records, unless told another."""

CONDITION_FAILED_MESSAGE = "The conditional request failed"
"""DynamoDB's message for a failed condition, in a transaction's cancellation reasons."""

_deserializer = TypeDeserializer()
_OPERATIONS = {
    "Put": frozenset({"TableName", "Item"}),
    "Update": frozenset({"TableName", "Key", "UpdateExpression"}),
    "Delete": frozenset({"TableName", "Key"}),
    "ConditionCheck": frozenset({"TableName", "Key", "ConditionExpression"}),
}
_OPTIONAL = frozenset(
    {
        "ConditionExpression",
        "ExpressionAttributeNames",
        "ExpressionAttributeValues",
        "ReturnValuesOnConditionCheckFailure",
    }
)

Key = tuple[Any, ...]


def _validation(message: str) -> ClientError:
    """The ``ValidationException`` DynamoDB answers a request it refuses."""
    return ClientError(
        {"Error": {"Code": "ValidationException", "Message": message}}, "TransactWriteItems"
    )


def _low_level(values: Mapping[str, Any], what: str) -> dict[str, Any]:
    """Low-level attribute values as plain Python values, checked as DynamoDB checks them."""
    plain: dict[str, Any] = {}
    for name, value in values.items():
        try:
            plain[name] = _deserializer.deserialize(value)
        except Exception as error:
            raise _validation(
                f"One or more parameter values were invalid: {what} {name!r} is not a valid"
                f" attribute value ({error})"
            ) from error
        try:
            check_value(plain[name], name)
        except UnstorableValueError as error:
            raise _validation(str(error)) from error
    return plain


@dataclass
class _Write:
    """One transaction entry, validated and compiled, not yet applied."""

    index: int
    operation: str
    table: str
    key: Key
    condition: Condition | None
    item: dict[str, Any] | None = None  # Put
    update: Update | None = None  # Update

    def result(self, current: dict[str, Any] | None, key: Mapping[str, Any]) -> Any:
        """The item after this write (``None``: deleted; ``...``: unchanged)."""
        if self.operation == "Put":
            return copy.deepcopy(self.item)
        if self.operation == "Delete":
            return None
        if self.operation == "ConditionCheck":
            return ...
        assert self.update is not None
        return self.update.apply(current if current is not None else dict(key))


class InMemoryStore(DedupStore):
    """Deduplication records and effect tables in dictionaries behind a lock.

    Every operation behaves as :class:`~lambda_dedup.store.dynamodb.DynamoDBStore`'s
    does against DynamoDB, in one process (nothing is shared between processes). It is
    thread-safe: a batch's records run on threads.

    Transactions (:meth:`transact_if_absent`, used by
    :meth:`Deduplicator.transact_once
    <lambda_dedup.deduplicator.Deduplicator.transact_once>`) apply ``Put``, ``Update``,
    ``Delete`` and ``ConditionCheck`` entries to in-memory tables, atomically with the
    marker, honouring their conditions as DynamoDB does:

    * the marker's key already taken (and not expired): nothing is applied and the
      existing record comes back, as a duplicate;
    * an effect's condition fails: nothing is applied and
      :class:`~lambda_dedup.exceptions.EffectConditionFailedError` names the effect;
    * what DynamoDB refuses raises the ``botocore`` ``ClientError`` it would answer: a
      ``ValidationException`` for a malformed request (a syntax error, an undefined or
      unused placeholder, a reserved word, two entries on one item, a key attribute
      updated, a value DynamoDB cannot store), a ``TransactionCanceledException`` whose
      reason is ``ValidationError`` when the item makes an update impossible (``ADD`` to
      a string, an item grown over 400 KB).

    Items are validated with :func:`lambda_dedup.storable.check_item` as DynamoDB would
    validate them.

    Args:
        table_name: the name of the deduplication table. Effects may write other items
            into it (key ``id``), as they may into DynamoDB's.
        key_schemas: the key attribute names of the tables effects write to, the
            partition key first, e.g. ``{"counters": ("user_id", "type")}``. A ``Put``
            needs its table's; an ``Update``, ``Delete`` or ``ConditionCheck`` carries its
            key, so an undeclared table is keyed by the attributes of its first ``Key``.

    Raises:
        ConfigurationError: a ``Put`` targets a table whose key is not declared.

    Examples:
        >>> from lambda_dedup import Deduplicator, InMemoryStore, effects
        >>> store = InMemoryStore(key_schemas={"profiles": ("user_id",)})
        >>> dedup = Deduplicator(store, "signups")
        >>> profile = {"user_id": "ada", "email": "ada@example.com"}
        >>> dedup.transact_once("req-1", [effects.put("profiles", profile)]).duplicate
        False
        >>> dedup.transact_once("req-1", [effects.put("profiles", profile)]).duplicate
        True
        >>> store.item("profiles", user_id="ada")
        {'user_id': 'ada', 'email': 'ada@example.com'}
    """

    def __init__(
        self,
        *,
        table_name: str = DEFAULT_TABLE_NAME,
        key_schemas: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self.table_name = table_name
        self.records: dict[str, DedupRecord] = {}
        """The deduplication records, by record id (markers and claims)."""
        self.attributes: dict[str, dict[str, Any]] = {}
        """The attributes :meth:`put_if_absent` stored with each record, by record id."""
        self._schemas: dict[str, tuple[str, ...]] = {table_name: (KEY,)}
        self._inferred: dict[str, tuple[str, ...]] = {}
        self._tables: dict[str, dict[Key, dict[str, Any]]] = {}
        for name, keys in (key_schemas or {}).items():
            self.declare_table(name, *keys)

    # -- tables -------------------------------------------------------------------------

    def declare_table(self, table_name: str, *keys: str) -> None:
        """Declare the key attributes of ``table_name``: the partition key, then the sort
        key if it has one.

        Raises:
            ConfigurationError: not one or two names, or another key declared before.

        Examples:
            >>> store = InMemoryStore()
            >>> store.declare_table("counters", "user_id", "type")
            >>> store.key_schema("counters")
            ('user_id', 'type')
        """
        if not 1 <= len(keys) <= 2 or not all(isinstance(k, str) and k for k in keys):
            raise ConfigurationError(
                f"table {table_name!r} needs a partition key and at most a sort key, got {keys!r}"
            )
        with self._lock:
            known = self._schemas.get(table_name)
            if known is not None and known != tuple(keys):
                raise ConfigurationError(
                    f"table {table_name!r} is already declared with the key {known!r}"
                )
            self._schemas[table_name] = tuple(keys)

    def key_schema(self, table_name: str) -> tuple[str, ...] | None:
        """The declared key attributes of ``table_name``, or ``None``.

        Examples:
            >>> InMemoryStore(table_name="dedup-idempotency").key_schema("dedup-idempotency")
            ('id',)
        """
        with self._lock:
            return self._schemas.get(table_name)

    def items(self, table_name: str) -> list[dict[str, Any]]:
        """Every item of ``table_name``, in the order they were first written, as plain
        Python values (numbers as ``Decimal``, as boto3 reads them); copies.

        The deduplication records are in :attr:`records`, not here.

        Examples:
            >>> from lambda_dedup import effects
            >>> from lambda_dedup.records import DedupRecord, Status
            >>> store = InMemoryStore()
            >>> marker = DedupRecord("clicks#e-1", Status.COMPLETED, expires_at=2_000_000_000)
            >>> add = effects.increment("counters", {"page": "/"}, "clicks", by=2)
            >>> _ = store.transact_if_absent(marker, [add], now_ms=0)
            >>> store.items("counters")
            [{'page': '/', 'clicks': Decimal('2')}]
        """
        with self._lock:
            return copy.deepcopy(list(self._tables.get(table_name, {}).values()))

    def item(self, table_name: str, /, **key: Any) -> dict[str, Any] | None:
        """The item of ``table_name`` at ``key`` (plain values), or ``None``; a copy.

        Examples:
            >>> store = InMemoryStore(key_schemas={"profiles": ("user_id",)})
            >>> store.put_item("profiles", {"user_id": "ada", "visits": 3})
            >>> store.item("profiles", user_id="ada")
            {'user_id': 'ada', 'visits': Decimal('3')}
            >>> store.item("profiles", user_id="bob") is None
            True
        """
        with self._lock:
            names = self._schemas.get(table_name) or self._inferred.get(table_name)
            if names is None:
                return None
            if set(key) != set(names):
                raise ValueError(f"the key of {table_name!r} is {names!r}, not {tuple(key)!r}")
            found = self._tables.get(table_name, {}).get(self._key_of(names, key))
            return copy.deepcopy(found)

    def put_item(self, table_name: str, item: Mapping[str, Any]) -> None:
        """Write ``item`` (plain Python values) into ``table_name`` unconditionally: to
        prepare a test (a counter that already exists, a profile to overwrite).

        Raises:
            ConfigurationError: the table's key is not declared.
            UnstorableValueError: DynamoDB could not store the item.
        """
        plain = deserialize(serialize(item))
        check_item(plain)
        with self._lock:
            names = self._require_schema(table_name)
            self._check_key_values(names, plain, "Item")
            self._tables.setdefault(table_name, {})[self._key_of(names, plain)] = plain

    # -- claim mode ---------------------------------------------------------------------

    def _free(self, record_id: str, now_ms: int) -> DedupRecord | None:
        """The live record under ``record_id``; expired ones count as absent."""
        existing = self.records.get(record_id)
        if existing is None or existing.is_expired(now_ms // 1000):
            return None
        return existing

    def try_claim(self, record: DedupRecord, *, now_ms: int) -> DedupRecord | None:
        with self._lock:
            existing = self._free(record.record_id, now_ms)
            takeover = (
                existing is not None
                and existing.status is Status.IN_PROGRESS
                and existing.lease_expired(now_ms)
                and not existing.conflicts_with(record.fingerprint)
            )
            if existing is not None and not takeover:
                return existing
            self.records[record.record_id] = record
            self.attributes.pop(record.record_id, None)
            return None

    def complete(self, record_id: str, *, token: str, result: str | None, expires_at: int) -> bool:
        with self._lock:
            current = self.records.get(record_id)
            if current is None or current.token != token:
                return False
            if current.status is not Status.IN_PROGRESS:
                return False
            self.records[record_id] = replace(
                current,
                status=Status.COMPLETED,
                expires_at=expires_at,
                lease_expires_at_ms=None,
                result=result if result is not None else current.result,
            )
            return True

    def release(self, record_id: str, *, token: str) -> bool:
        with self._lock:
            current = self.records.get(record_id)
            if (
                current is None
                or current.token != token
                or current.status is not Status.IN_PROGRESS
            ):
                return False
            del self.records[record_id]
            return True

    # -- effect mode --------------------------------------------------------------------

    def put_if_absent(
        self,
        record: DedupRecord,
        *,
        now_ms: int,
        attributes: Mapping[str, Any] | None = None,
    ) -> DedupRecord | None:
        # What DynamoDBStore refuses before writing, refused here too.
        if attributes:
            clash = RESERVED_ATTRIBUTES.intersection(attributes)
            if clash:
                raise ValueError(f"attributes {sorted(clash)} are reserved for the marker")
            check_item(
                {**attributes, **deserialize(record_to_item(record))}, what="the marker item"
            )
        with self._lock:
            existing = self._free(record.record_id, now_ms)
            if existing is not None:
                return existing
            self.records[record.record_id] = record
            self.attributes[record.record_id] = copy.deepcopy(dict(attributes or {}))
            return None

    def transact_if_absent(
        self,
        record: DedupRecord,
        effects: Sequence[TransactWriteItemTypeDef],
        *,
        now_ms: int,
    ) -> DedupRecord | None:
        """Write the COMPLETED marker and apply ``effects``, atomically, as
        :meth:`DynamoDBStore.transact_if_absent
        <lambda_dedup.store.dynamodb.DynamoDBStore.transact_if_absent>` does in DynamoDB.

        Returns ``None`` when applied, otherwise the existing marker (nothing applied).

        Raises:
            EffectConditionFailedError: an effect's condition failed; nothing applied.
            botocore.exceptions.ClientError: what DynamoDB would answer (see the class).
            ConfigurationError: a ``Put`` into a table whose key is not declared.
            UnsupportedOperationError: an effect on a deduplication record of this store.
            ValueError: no effects, or more than a transaction holds.
        """
        if not effects:
            raise ValueError("a transaction needs at least one effect besides the marker")
        if len(effects) >= MAX_TRANSACTION_ITEMS:
            raise ValueError(f"at most {MAX_TRANSACTION_ITEMS - 1} effects fit in one transaction")
        with self._lock:
            writes = [self._compile(index, entry) for index, entry in enumerate(effects)]
            targets = [(self.table_name, (record.record_id,))]
            targets += [(write.table, write.key) for write in writes]
            if len(set(targets)) != len(targets):
                raise _validation(
                    "Transaction request cannot include multiple operations on one item"
                )
            for write in writes:
                if write.table == self.table_name and write.key[0] in self.records:
                    raise UnsupportedOperationError(
                        f"effect #{write.index} writes the deduplication record"
                        f" {write.key[0]!r}; InMemoryStore keeps records apart from effects"
                    )
            existing = self._free(record.record_id, now_ms)
            codes = ["None" if existing is None else "ConditionalCheckFailed"]
            messages: list[str | None] = [None]
            results: list[Any] = []
            for write in writes:
                names = self._schemas.get(write.table) or self._inferred[write.table]
                current = self._tables.get(write.table, {}).get(write.key)
                code, message, result = "None", None, ...
                if write.condition is not None and not write.condition(current or {}):
                    code, message = "ConditionalCheckFailed", CONDITION_FAILED_MESSAGE
                else:
                    try:
                        result = write.result(current, dict(zip(names, write.key, strict=True)))
                        if isinstance(result, dict):
                            check_item(result)
                    except (ItemError, UnstorableValueError) as error:
                        code, message = "ValidationError", str(error)
                codes.append(code)
                messages.append(message)
                results.append(result)
            if existing is not None:
                return existing
            if "ConditionalCheckFailed" in codes:
                index = codes.index("ConditionalCheckFailed") - 1
                raise EffectConditionFailedError(
                    record.record_id, index, CONDITION_FAILED_MESSAGE
                ) from _cancelled(codes, messages)
            if "ValidationError" in codes:
                raise _cancelled(codes, messages)
            self.records[record.record_id] = record
            self.attributes.pop(record.record_id, None)
            for write, result in zip(writes, results, strict=True):
                table = self._tables.setdefault(write.table, {})
                if result is None:
                    table.pop(write.key, None)
                elif result is not ...:
                    table[write.key] = result
            return None

    # -- compiling transaction entries ----------------------------------------------------

    def _compile(self, index: int, entry: Mapping[str, Any]) -> _Write:
        """Validate one entry as DynamoDB validates a request; compile its expressions."""
        if not isinstance(entry, Mapping) or len(entry) != 1:
            raise _validation("TransactItems can only contain one of Check, Put, Update or Delete")
        ((operation, body),) = entry.items()
        required = _OPERATIONS.get(operation)
        if required is None:
            raise _validation(f"unknown transaction operation {operation!r}")
        missing = required - set(body)
        unknown = set(body) - required - _OPTIONAL
        if missing:
            raise _validation(f"{operation} is missing {sorted(missing)}")
        if unknown:
            raise UnsupportedOperationError(
                f"InMemoryStore does not support {sorted(unknown)} in a transaction's {operation}"
            )
        table = str(body["TableName"])
        names: Mapping[str, str] | None = body.get("ExpressionAttributeNames")
        raw_values = body.get("ExpressionAttributeValues")
        values = None if raw_values is None else _low_level(raw_values, "the value")
        used_names: set[str] = set()
        used_values: set[str] = set()
        try:
            condition = None
            if "ConditionExpression" in body:
                condition = compile_condition(
                    str(body["ConditionExpression"]),
                    names,
                    values,
                    used_names=used_names,
                    used_values=used_values,
                )
            update = None
            if operation == "Update":
                update = compile_update(
                    str(body["UpdateExpression"]),
                    names,
                    values,
                    used_names=used_names,
                    used_values=used_values,
                )
            check_unused(names, values, used_names, used_values)
        except ExpressionError as error:
            raise _validation(str(error)) from error
        if operation == "Put":
            item = _low_level(body["Item"], "the item's attribute")
            try:
                check_item(item)
            except UnstorableValueError as error:
                raise _validation(str(error)) from error
            key_names = self._require_schema(table)
            self._check_key_values(key_names, item, "Item")
            return _Write(index, operation, table, self._key_of(key_names, item), condition, item)
        key = _low_level(body["Key"], "the key attribute")
        key_names = self._schemas.get(table) or self._inferred.setdefault(table, tuple(sorted(key)))
        if set(key) != set(key_names):
            raise _validation("The provided key element does not match the schema")
        self._check_key_values(key_names, key, "Key")
        if update is not None:
            for path in update.paths:
                if path[0] in key_names:
                    raise _validation(
                        f"One or more parameter values were invalid: Cannot update attribute"
                        f" {path[0]}. This attribute is part of the key"
                    )
        return _Write(
            index, operation, table, self._key_of(key_names, key), condition, update=update
        )

    def _require_schema(self, table_name: str) -> tuple[str, ...]:
        names = self._schemas.get(table_name)
        if names is None:
            raise ConfigurationError(
                f"InMemoryStore does not know the key of table {table_name!r}, so it cannot"
                f" put an item there: declare it, e.g. InMemoryStore(key_schemas="
                f"{{{table_name!r}: ('pk',)}}) or store.declare_table({table_name!r}, 'pk')"
            )
        return names

    @staticmethod
    def _check_key_values(names: Sequence[str], item: Mapping[str, Any], what: str) -> None:
        for name in names:
            if name not in item:
                raise _validation(
                    "One or more parameter values were invalid: Missing the key"
                    f" {name} in the {what.lower()}"
                )
            if type_of(item[name]) not in ("S", "N", "B"):
                raise _validation(
                    f"One or more parameter values were invalid: Type mismatch for key {name}"
                )

    @staticmethod
    def _key_of(names: Sequence[str], item: Mapping[str, Any]) -> Key:
        return tuple(_hashable(item[name]) for name in names)


def _hashable(value: Any) -> Any:
    return value.__bytes__() if isinstance(value, Binary) else value


def _cancelled(codes: Sequence[str], messages: Sequence[str | None]) -> ClientError:
    """The ``TransactionCanceledException`` DynamoDB answers, with its reasons."""
    reasons: list[dict[str, Any]] = []
    for code, message in zip(codes, messages, strict=True):
        reason: dict[str, Any] = {"Code": code}
        if message is not None:
            reason["Message"] = message
        reasons.append(reason)
    return ClientError(
        {
            "Error": {
                "Code": "TransactionCanceledException",
                "Message": "Transaction cancelled, please refer cancellation reasons for"
                f" specific reasons [{', '.join(codes)}]",
            },
            "CancellationReasons": reasons,  # type: ignore[typeddict-item]
        },
        "TransactWriteItems",
    )
