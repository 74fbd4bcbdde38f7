"""Property-based fuzz tests: every handler, fed events of its source's real shape whose
payloads are arbitrary or hostile, against a healthy DynamoDB (moto in-process).

The events start from ``tests/events/*.json``; what varies is what a producer, a
misconfigured client or an attacker controls: bodies and messages that are arbitrary
JSON, JSON that DynamoDB cannot store (``NaN``, ``1e400``, ``1e-200``, 39 significant
digits, lone surrogates in strings and in keys, nesting beyond 32 levels, over 64 KB, and
over 400 KB in a fixed example), text that is not JSON, and wrongly typed fields where a
handler reads a string or an object. Valid records are mixed in, with producer retries
(the same key and payload) and reused keys (the same key, another payload).

The project's rule, checked on every example, with each event delivered twice:

* batch sources: each record ends as exactly one of ``record applied``, ``duplicate
  record``, ``rejected record`` or ``record skipped`` (an ordered source's later record of
  a key that failed). Each failure is reported with the id of a record of the batch, with
  one log line; never ``record failed`` nor an exception for the whole batch. Valid
  records are applied, or are duplicates or rejections exactly as a model of the batch
  says, and each applied record writes its effect once. The second delivery applies
  nothing and fails the same records for the same reasons;
* the API: a 2xx, or a 4xx whose body is JSON with an ``error`` object; never a 5xx nor
  a stack trace. The second delivery gets the same status;
* asynchronous handlers: a return, or a rejection (``_batch.REJECTED``: an
  ``InvalidEventError``, ``InvalidKeyError`` or ``PayloadMismatchError``) after exactly
  one ``rejected event`` line; never ``event failed``. The second delivery is a
  duplicate, or the same rejection.

Log lines are written to a stream that, like the Lambda runtime's standard output,
encodes UTF-8 strictly: a line that could not be written there would be lost. Every
return value must be one the runtime can send (JSON, UTF-8).

Each example is independent: the tables are recreated before it, and objects get keys of
their own. Hypothesis runs derandomized, so every run tries the same examples;
``pytest --hypothesis-show-statistics`` shows how many ran per test and the share of each
input class (the ``record:``/``request:``/``event:`` labels of ``hypothesis.event``).
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from support.aws import WriteLog, create_dedup_table, create_keyed_table
from support.batches import failed_ids
from support.events import load_event
from support.lambda_context import FakeLambdaContext
from support.push_events import http_request, instance_state_change, s3_event, sns_event
from unit.conftest import AUDIT, COUNTERS, DOMAIN_TABLES, INSTANCE_STATES, PROFILES

from lambda_dedup.exceptions import REJECTED
from lambda_dedup.handlers import (
    api,
    dynamodb_stream,
    eventbridge,
    inbox,
    kinesis,
    s3,
    sns,
    sqs,
)
from lambda_dedup.local.functions import write_function_output_to
from lambda_dedup.reference import senders

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

Handler = Callable[[Any, Any], Any]


def fuzz(max_examples: int) -> settings:
    """The same examples on every run, none stored between runs. The fixtures are
    function-scoped on purpose: each example resets the tables itself."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# -- the world the handlers run in ---------------------------------------------------------------

BUCKET = "fuzz-uploads"
OVER_400_KB = 410_000
"""A string this long puts any item over DynamoDB's 400 KB (409,600 bytes) limit."""


class LambdaStdout(io.StringIO):
    """Standard output as the Lambda runtime has it: strict UTF-8. Text with no UTF-8 form
    (a lone surrogate) cannot be written, and ``logging`` drops that line."""

    def write(self, text: str) -> int:
        text.encode("utf-8")
        return super().write(text)


@dataclass
class Delivery:
    """One invocation: what the handler returned or raised, and what it logged."""

    result: Any
    error: Exception | None
    lines: list[dict[str, Any]]

    def with_message(self, message: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if line.get("message") == message]


@dataclass
class World:
    """moto in-process with every table and a versioned bucket; reset for each example."""

    dynamodb: DynamoDBClient
    dedup_table: str
    writes: WriteLog
    s3: Any
    sender: senders.RecordingSender
    objects: Iterator[int] = field(default_factory=itertools.count)

    def reset(self) -> None:
        for name in (self.dedup_table, *DOMAIN_TABLES):
            self.dynamodb.delete_table(TableName=name)
        create_dedup_table(self.dynamodb, self.dedup_table)
        for name, keys in DOMAIN_TABLES.items():
            create_keyed_table(self.dynamodb, name, *keys)
        self.sender.clear()

    def deliver(self, handler: Handler, event_: Any) -> Delivery:
        stream = LambdaStdout()
        previous = write_function_output_to(stream)
        result: Any = None
        error: Exception | None = None
        try:
            result = handler(event_, FakeLambdaContext(function_name="dedup-fuzz"))
        except Exception as raised:
            error = raised
        finally:
            write_function_output_to(previous)
        # One line per "\n", as CloudWatch reads them (str.splitlines() would also split
        # at a U+0085 or U+2028 inside a string).
        lines = [json.loads(line) for line in stream.getvalue().split("\n") if line]
        if error is None:
            # The runtime sends the return value as JSON (ensure_ascii=False in python3.12)
            # encoded in UTF-8.
            json.dumps(result, ensure_ascii=False).encode("utf-8")
        return Delivery(result, error, lines)

    def written(self, table: str) -> int:
        """Accepted writes to ``table`` so far."""
        return sum(self.writes.count(table).values())


@pytest.fixture
def world(domain_env: str, dynamodb: DynamoDBClient, write_log: WriteLog) -> Iterator[World]:
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    recorder = senders.RecordingSender()
    previous = senders.use_sender(recorder)
    yield World(dynamodb, domain_env, write_log, client, recorder)
    senders.use_sender(previous)


# -- values: JSON, hostile JSON, wrongly typed fields --------------------------------------------

Labelled = tuple[str, Any]
"""An input class, for ``hypothesis.event``, and a value of that class."""

USERS = st.integers(0, 4)
TEXT = st.text(st.characters(codec="utf-8"), max_size=12)
NAMES = st.text(st.characters(codec="utf-8"), min_size=1, max_size=10).filter(
    lambda name: name not in {"user_id", "email", "name", "request_id", "event_id", "type"}
)
WITH_SURROGATE = st.tuples(TEXT, st.integers(0xD800, 0xDFFF).map(chr), TEXT).map("".join)
"""Text holding a lone surrogate, which has no UTF-8 form."""

JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), TEXT),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=10,
)
"""Any JSON value Python parses: floats include NaN, infinities and subnormals; integers
are unbounded."""

STORABLE_FIELDS = st.dictionaries(
    NAMES,
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(-(10**15), 10**15), TEXT),
        lambda children: (
            st.lists(children, max_size=3) | st.dictionaries(NAMES, children, max_size=3)
        ),
        max_leaves=6,
    ),
    max_size=3,
)
"""Extra fields of a valid record: values DynamoDB stores."""

WRONG_FOR_TEXT = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(TEXT, st.integers(), max_size=2),
)
"""Where a string is expected."""

WRONG_FOR_PRESENT_OBJECT = st.one_of(
    st.booleans(), st.integers(), st.floats(), TEXT, st.lists(st.integers(), max_size=2)
)
"""Where an object is expected, or may be absent (null)."""

WRONG_FOR_OBJECT = st.one_of(st.none(), WRONG_FOR_PRESENT_OBJECT)
"""Where an object is expected."""

NOT_AN_OBJECT = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    TEXT,
    st.lists(JSON_VALUES, max_size=3),
)
"""JSON values that are not objects."""


def _nested(levels: int, kind: str) -> str:
    if kind == "lists":
        return "[" * levels + "1" + "]" * levels
    return '{"a":' * levels + "1" + "}" * levels


def hostile_json() -> list[st.SearchStrategy[Labelled]]:
    """JSON text Python parses and DynamoDB may refuse: one strategy per class."""
    # 39 to 51 significant digits: the last one is never 0
    digits = st.tuples(st.integers(10**37, 10**49), st.integers(1, 9)).map(
        lambda s: s[0] * 10 + s[1]
    )
    return [
        st.sampled_from(["NaN", "Infinity", "-Infinity"]).map(lambda t: ("NaN/Infinity", t)),
        st.sampled_from(["1e400", "-1e400", "1E+309"]).map(lambda t: ("1e400 (overflow)", t)),
        st.sampled_from(["1e-200", "-2.5e-131", "5e-324"]).map(lambda t: ("1e-200 (underflow)", t)),
        st.tuples(st.sampled_from(["", "-"]), digits).map(
            lambda s: (">38 digits", f"{s[0]}{s[1]}")
        ),
        WITH_SURROGATE.map(lambda s: ("lone surrogate in a string", json.dumps(s))),
        WITH_SURROGATE.map(lambda s: ("lone surrogate in a key", json.dumps({s: 1}))),
        st.tuples(st.integers(31, 120), st.sampled_from(["lists", "objects"])).map(
            lambda s: ("nesting > 32 levels" if s[0] > 32 else "nesting at 31-32", _nested(*s))
        ),
        st.integers(65_600, 70_000).map(lambda n: ("string > 64 KB", json.dumps("x" * n))),
        JSON_VALUES.map(lambda v: ("arbitrary JSON", json.dumps(v))),
    ]


def profile_of(user_id: str, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"user_id": user_id, "email": f"{user_id}@example.com", "name": "Fuzz", **(extra or {})}


def bad_documents(
    head: Callable[[int], dict[str, Any]], fields: Sequence[str]
) -> list[st.SearchStrategy[Labelled]]:
    """JSON text that is not a valid, storable document (or may not be), one strategy per
    class: ``head(user)`` is a valid document, ``fields`` the strings it must have."""

    def extra(user: int, extra_json: str) -> str:
        return json.dumps(head(user))[:-1] + f', "extra": {extra_json}}}'

    def wrong(user: int, name: str, value: Any) -> str:
        return json.dumps({**head(user), name: value})

    return [
        *(
            st.tuples(USERS, kind).map(lambda s: (f"document with {s[1][0]}", extra(s[0], s[1][1])))
            for kind in hostile_json()
        ),
        st.tuples(USERS, WITH_SURROGATE).map(
            lambda s: (
                "lone surrogate in a top-level key",
                json.dumps(head(s[0]))[:-1] + f", {json.dumps(s[1])}: 1}}",
            )
        ),
        st.tuples(USERS, st.sampled_from(fields), WRONG_FOR_TEXT).map(
            lambda s: ("field of the wrong type", wrong(*s))
        ),
        st.tuples(USERS, st.sampled_from(fields), WITH_SURROGATE).map(
            lambda s: ("field with a lone surrogate", wrong(*s))
        ),
        NOT_AN_OBJECT.map(lambda v: ("JSON that is not an object", json.dumps(v))),
        TEXT.map(lambda t: ("not JSON", "{" + t)),
    ]


def bad_profiles() -> list[st.SearchStrategy[Labelled]]:
    return bad_documents(lambda user: profile_of(f"u-{user}"), ["user_id", "email", "name"])


OVER_400_KB_PROFILE = json.dumps(profile_of("u-big", {"bio": "x" * OVER_400_KB}))


# -- specs: what to build ------------------------------------------------------------------------

Kind = Literal["fresh", "retry", "reuse", "hostile"]


@dataclass(frozen=True)
class Spec:
    """One record, request or event to build.

    * ``fresh``: valid, with a key of its own, and storable ``extra`` fields;
    * ``retry``: a producer's retry of an earlier valid one (``ref``): same key and payload;
    * ``reuse``: an earlier valid one's key with another payload (``extra``);
    * ``hostile``: built like a fresh one, then ``fields`` (dotted paths) set over it.
    """

    label: str
    kind: Kind
    user: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)
    ref: int = 0
    fields: Mapping[str, Any] = field(default_factory=dict)


VALID = st.one_of(
    st.builds(Spec, st.just("valid"), st.just("fresh"), user=USERS, extra=STORABLE_FIELDS),
    st.builds(Spec, st.just("retry (same key and payload)"), st.just("retry"), ref=USERS),
    st.builds(
        Spec,
        st.just("reused key, other payload"),
        st.just("reuse"),
        ref=USERS,
        extra=st.fixed_dictionaries({"changed": st.integers(1, 9)}),
    ),
)


def hostile(label: str, path: str, values: st.SearchStrategy[Any]) -> st.SearchStrategy[Spec]:
    """A hostile spec that sets ``path`` to one of ``values``."""
    return st.builds(
        lambda user, value: Spec(label, "hostile", user, fields={path: value}), USERS, values
    )


def hostile_classes(
    prefix: str, path: str, classes: Sequence[st.SearchStrategy[Labelled]]
) -> list[st.SearchStrategy[Spec]]:
    """One hostile spec strategy per class, setting ``path`` to a value of that class."""
    return [
        st.builds(
            lambda user, labelled: Spec(
                prefix + labelled[0], "hostile", user, fields={path: labelled[1]}
            ),
            USERS,
            kind,
        )
        for kind in classes
    ]


def mixed(
    hostiles: Sequence[st.SearchStrategy[Spec]], valid: st.SearchStrategy[Spec] = VALID
) -> st.SearchStrategy[Spec]:
    """Valid and hostile specs, half and half; each hostile class as likely as another.
    (``one_of`` alone would weigh each of the valid and hostile branches alike: it
    flattens nested ``one_of``, mapped or not.)"""
    hostile_specs = st.one_of(*hostiles)
    return st.booleans().flatmap(lambda is_valid: valid if is_valid else hostile_specs)


def put_path(target: dict[str, Any], path: str, value: Any) -> None:
    """Set ``a.b.c`` in nested objects (an intermediate that is not one is replaced)."""
    *parents, last = path.split(".")
    for name in parents:
        child = target.get(name)
        if not isinstance(child, dict):
            child = target[name] = {}
        target = child
    target[last] = value


def set_fields(target: dict[str, Any], fields: Mapping[str, Any]) -> None:
    for path, value in fields.items():
        put_path(target, path, value)


def label(noun: str, spec: Spec, known: bool) -> None:
    """Count ``spec``'s class (a retry or reuse without an earlier valid one to repeat is
    built as a fresh valid one)."""
    event(f"{noun}: {spec.label if known or spec.kind in ('fresh', 'hostile') else 'valid'}")


def label_mix(specs: Sequence[Spec]) -> None:
    kinds = {spec.kind for spec in specs}
    if "hostile" in kinds and kinds - {"hostile"}:
        event("valid and hostile mixed")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# -- batch sources -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """What the model expects of one valid record."""

    record_id: str
    outcome: Literal["applied", "duplicate", "rejected"]


class Model:
    """The deduplication a batch's valid records must get, in batch order: the first of a
    key is applied, a later one with the same payload is a duplicate, and one with
    another payload is a rejection. Records reported as skipped are left out."""

    def __init__(self, skipped: set[str]) -> None:
        self.skipped = skipped
        self.seen: dict[str, Any] = {}
        self.expected: list[Expected] = []

    def add(self, record_id: str, key: str, payload: Any) -> None:
        if record_id in self.skipped:
            return
        if key not in self.seen:
            self.seen[key] = payload
            self.expected.append(Expected(record_id, "applied"))
        elif self.seen[key] == payload:
            self.expected.append(Expected(record_id, "duplicate"))
        else:
            self.expected.append(Expected(record_id, "rejected"))


@dataclass
class Batch:
    """A batch event, its records' raw ids, and its valid records: (id, key, payload)."""

    event: dict[str, Any]
    ids: list[Any]
    valid: list[tuple[str, str, Any]] = field(default_factory=list)

    def model(self, skipped: set[str]) -> Model:
        made = Model(skipped)
        for record_id, key, payload in self.valid:
            made.add(record_id, key, payload)
        return made


OUTCOMES = ("record applied", "duplicate record", "rejected record", "record skipped")


def check_batch(world: World, handler: Handler, batch: Batch, table: str, *, ordered: bool) -> None:
    """Deliver ``batch`` twice and check the batch rules (see the module's docstring);
    each applied record writes one item of ``table``."""
    names = [str(raw) for raw in batch.ids]
    before = world.written(table)
    first = world.deliver(handler, batch.event)
    # THEN the batch gets a partial batch response: no exception, no "record failed"
    assert first.error is None, f"the batch raised {first.error!r}"
    assert first.with_message("record failed") == []
    failures = failed_ids(first.result)
    # AND every failure is the id of a record of the batch
    for failure in failures:
        assert failure in batch.ids, f"{failure!r} is not the id of a record of the batch"
    # AND each record has exactly one outcome line; each failure is a rejection (one
    # "rejected record" line each) or, in an ordered source, a record skipped after one
    lines = {message: first.with_message(message) for message in OUTCOMES}
    assert sum(len(found) for found in lines.values()) == len(names), lines
    rejected = [line["record_id"] for line in lines["rejected record"]]
    skipped = [line["record_id"] for line in lines["record skipped"]]
    assert Counter(map(str, failures)) == Counter(rejected + skipped)
    if not ordered:
        assert skipped == []
        assert len(rejected) == len(failures)
    for record_id in skipped:
        assert any(name in rejected for name in names[: names.index(record_id)]), record_id
    # AND the valid records were applied, or were duplicates or rejections as modelled
    applied = [line["record_id"] for line in lines["record applied"]]
    found = {
        "applied": applied,
        "duplicate": [line["record_id"] for line in lines["duplicate record"]],
        "rejected": rejected,
    }
    for expected in batch.model(set(skipped)).expected:
        assert expected.record_id in found[expected.outcome], (expected, lines)
    # AND each applied record wrote its effect once
    assert world.written(table) - before == len(applied)
    for message, found_lines in lines.items():
        if found_lines:
            event(f"outcome: {message}")

    # WHEN the batch is delivered again
    again = world.deliver(handler, batch.event)
    # THEN nothing is applied twice, and the same records fail for the same reasons
    assert again.error is None, f"the batch raised {again.error!r}"
    assert again.with_message("record failed") == []
    assert again.with_message("record applied") == []
    assert world.written(table) - before == len(applied)
    assert Counter(map(str, failed_ids(again.result))) == Counter(map(str, failures))

    def reasons(delivery: Delivery) -> Counter[tuple[str, Any]]:
        found = delivery.with_message("rejected record")
        return Counter((line["record_id"], line.get("field")) for line in found)

    assert reasons(again) == reasons(first)


def batches(hostiles: Sequence[st.SearchStrategy[Spec]]) -> st.SearchStrategy[list[Spec]]:
    return st.lists(mixed(hostiles), min_size=1, max_size=8)


# SQS --------------------------------------------------------------------------------------------


def sqs_hostile() -> list[st.SearchStrategy[Spec]]:
    def request_id(attribute: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return attribute.map(lambda value: {"request_id": value})

    return [
        *hostile_classes("body: ", "body", bad_profiles()),
        hostile(
            "body: request_id malformed",
            "body",
            st.tuples(USERS, st.one_of(WRONG_FOR_TEXT, WITH_SURROGATE, st.just("r" * 257))).map(
                lambda s: json.dumps({**profile_of(f"u-{s[0]}"), "request_id": s[1]})
            ),
        ),
        hostile("body: not a string", "body", WRONG_FOR_TEXT),
        hostile("messageAttributes: not an object", "messageAttributes", WRONG_FOR_OBJECT),
        hostile(
            "messageAttributes.request_id: not an attribute",
            "messageAttributes",
            request_id(WRONG_FOR_OBJECT),
        ),
        hostile(
            "messageAttributes.request_id: a Number or Binary",
            "messageAttributes",
            request_id(
                st.fixed_dictionaries(
                    {"dataType": st.sampled_from(["Number", "Binary"]), "stringValue": TEXT}
                )
            ),
        ),
        hostile(
            "messageAttributes.request_id: stringValue of the wrong type",
            "messageAttributes",
            request_id(
                st.fixed_dictionaries(
                    {"dataType": st.just("String"), "stringValue": WRONG_FOR_TEXT}
                )
            ),
        ),
        hostile(
            "messageAttributes.request_id: a lone surrogate",
            "messageAttributes",
            request_id(
                st.fixed_dictionaries(
                    {"dataType": st.just("String"), "stringValue": WITH_SURROGATE}
                )
            ),
        ),
        hostile(
            "messageAttributes.request_id: dataType of the wrong type",
            "messageAttributes",
            request_id(st.fixed_dictionaries({"dataType": WRONG_FOR_TEXT, "stringValue": TEXT})),
        ),
        hostile(
            "messageId: wrong type or empty", "messageId", st.one_of(WRONG_FOR_TEXT, st.just(""))
        ),
        hostile("attributes: not an object", "attributes", WRONG_FOR_OBJECT),
    ]


def build_sqs(specs: Sequence[Spec], fifo: bool) -> Batch:
    """Messages keyed by user and request id (in the body or as an attribute)."""
    batch = Batch({"Records": []}, [])
    keyed: list[tuple[str, dict[str, Any]]] = []  # valid (request_id, profile)
    for index, spec in enumerate(specs):
        record: dict[str, Any] = load_event("sqs")["Records"][0]
        record["messageId"] = str(uuid.uuid4())
        record["messageAttributes"] = {}
        known = spec.kind in ("retry", "reuse") and bool(keyed)
        label("record", spec, known)
        if known:
            request_id, profile = keyed[spec.ref % len(keyed)]
            profile = {**profile, **spec.extra}
        else:
            request_id, profile = f"r-{index}", profile_of(f"u-{spec.user}", spec.extra)
            if spec.kind != "hostile":
                keyed.append((request_id, profile))
        if index % 2:
            record["body"] = json.dumps({**profile, "request_id": request_id})
        else:
            record["body"] = json.dumps(profile)
            record["messageAttributes"]["request_id"] = {
                "stringValue": request_id,
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "String",
            }
        if fifo:
            record["attributes"]["MessageGroupId"] = f"g-{profile['user_id']}"
            record["attributes"]["MessageDeduplicationId"] = uuid.uuid4().hex
            record["eventSourceARN"] += ".fifo"
        if spec.kind == "hostile":
            set_fields(record, spec.fields)
        else:
            key = f"{profile['user_id']}/{request_id}"
            batch.valid.append((record["messageId"], key, profile))
        batch.event["Records"].append(record)
        batch.ids.append(record.get("messageId"))
    return batch


OVER_400_KB_MESSAGE = Spec("body: over 400 KB", "hostile", 2, fields={"body": OVER_400_KB_PROFILE})


@fuzz(max_examples=150)
@given(
    # One wrongly typed messageId at most: the ids of a batch are distinct, or its
    # response could not tell its records apart.
    specs=batches(sqs_hostile()).filter(
        lambda specs: sum("messageId" in spec.fields for spec in specs) <= 1
    ),
    fifo=st.booleans(),
)
@example(specs=[Spec("valid", "fresh", 1), OVER_400_KB_MESSAGE], fifo=False)
def test_sqs_batches(world: World, specs: list[Spec], fifo: bool) -> None:
    # GIVEN an empty world and an SQS batch of valid and hostile messages
    world.reset()
    label_mix(specs)
    event(f"queue: {'FIFO' if fifo else 'standard'}")
    # WHEN it is delivered twice / THEN the batch rules hold
    check_batch(world, sqs.handler, build_sqs(specs, fifo), PROFILES, ordered=fifo)


# Kinesis ----------------------------------------------------------------------------------------


def bad_activities() -> list[st.SearchStrategy[Labelled]]:
    def activity(user: int) -> dict[str, Any]:
        return {"event_id": f"evt-hostile-{user}", "user_id": f"u-{user}", "type": "t"}

    return bad_documents(activity, ["event_id", "user_id", "type"])


def kinesis_hostile() -> list[st.SearchStrategy[Spec]]:
    encoded = [
        kind.map(lambda lt: (lt[0], b64(lt[1].encode("utf-8", "surrogatepass"))))
        for kind in bad_activities()
    ]
    return [
        *hostile_classes("data: ", "kinesis.data", encoded),
        hostile("data: base64 of random bytes", "kinesis.data", st.binary(min_size=1).map(b64)),
        hostile("data: base64 of non-UTF-8", "kinesis.data", st.just(b64(b'{"a": "\xff"}'))),
        hostile("data: not base64", "kinesis.data", TEXT.map(lambda t: "!" + t)),
        hostile("data: not a string", "kinesis.data", WRONG_FOR_TEXT),
        hostile("partitionKey: wrong type", "kinesis.partitionKey", WRONG_FOR_TEXT),
        hostile("eventID: wrong type", "eventID", WRONG_FOR_TEXT),
    ]


SEQUENCES = itertools.count(49657362910298310393802245412307148532911018563719233538)


def build_kinesis(specs: Sequence[Spec]) -> Batch:
    """Activity events partitioned by user; two in three carry an event_id."""
    batch = Batch({"Records": []}, [])
    keyed: list[dict[str, Any]] = []
    for index, spec in enumerate(specs):
        record: dict[str, Any] = load_event("kinesis")["Records"][0]
        sequence = str(next(SEQUENCES))
        record["eventID"] = f"shardId-000000000000:{sequence}"
        known = spec.kind in ("retry", "reuse") and bool(keyed)
        label("record", spec, known)
        if known:
            activity = {**keyed[spec.ref % len(keyed)], **spec.extra}
        else:
            activity = {"user_id": f"u-{spec.user}", "type": "page_view", **spec.extra}
            if index % 3:
                activity["event_id"] = f"evt-{index}"
                if spec.kind != "hostile":
                    keyed.append(activity)
        data = b64(json.dumps(activity).encode())
        record["kinesis"].update(
            partitionKey=activity["user_id"], sequenceNumber=sequence, data=data
        )
        if spec.kind == "hostile":
            set_fields(record, spec.fields)
        else:
            key = activity.get("event_id") or record["eventID"]
            batch.valid.append((sequence, key, activity))
        batch.event["Records"].append(record)
        batch.ids.append(sequence)
    return batch


OVER_400_KB_ACTIVITY = b64(
    json.dumps({"user_id": "u-2", "type": "t", "bio": "x" * OVER_400_KB}).encode()
)


@fuzz(max_examples=120)
@given(specs=batches(kinesis_hostile()))
@example(
    specs=[
        Spec("valid", "fresh", 1),
        Spec("data: over 400 KB", "hostile", 2, fields={"kinesis.data": OVER_400_KB_ACTIVITY}),
    ]
)
def test_kinesis_batches(world: World, specs: list[Spec]) -> None:
    # GIVEN an empty world and a Kinesis batch of valid and hostile records
    world.reset()
    label_mix(specs)
    # WHEN it is delivered twice / THEN the batch rules hold
    check_batch(world, kinesis.handler, build_kinesis(specs), COUNTERS, ordered=True)


# DynamoDB Streams -------------------------------------------------------------------------------

_serializer = TypeSerializer()


def image(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in values.items()}


def _deep(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"N": "1"}
    for _ in range(levels):
        value = {"L": [value]}
    return {"deep": value}


def malformed_images() -> list[st.SearchStrategy[Labelled]]:
    """An item image that is not a storable DynamoDB item (or may not be)."""
    numbers = ["abc", "NaN", "Infinity", "1e400", "1e-200", "1" * 39, "", "0x10"]
    return [
        WRONG_FOR_OBJECT.map(lambda v: ("not an object", v)),
        JSON_VALUES.map(lambda v: ("a value without a type", {"a": v})),
        st.tuples(st.sampled_from(["X", "s", "", "NN"]), JSON_VALUES).map(
            lambda s: ("unknown type", {"a": {s[0]: s[1]}})
        ),
        st.sampled_from(numbers).map(lambda n: ("bad number", {"a": {"N": n}})),
        st.tuples(st.sampled_from(["S", "N", "M", "L", "BOOL", "SS", "NS"]), WRONG_FOR_TEXT).map(
            lambda s: ("typed value of the wrong type", {"a": {s[0]: s[1]}})
        ),
        WITH_SURROGATE.map(lambda s: ("lone surrogate in a string", {"a": {"S": s}})),
        WITH_SURROGATE.map(lambda s: ("lone surrogate in a key", {s: {"S": "x"}})),
        st.just(("empty set", {"a": {"SS": []}})),
        st.integers(29, 60).map(
            lambda n: ("nesting > 32 levels" if n > 30 else "nesting at 30-31", _deep(n))
        ),
    ]


def dynamodb_hostile() -> list[st.SearchStrategy[Spec]]:
    return [
        *hostile_classes("NewImage: ", "dynamodb.NewImage", malformed_images()),
        *hostile_classes("OldImage: ", "dynamodb.OldImage", malformed_images()),
        *hostile_classes("Keys: ", "dynamodb.Keys", malformed_images()),
        hostile(
            "eventName: not INSERT/MODIFY/REMOVE", "eventName", st.one_of(WRONG_FOR_TEXT, TEXT)
        ),
        hostile("eventID: wrong type or empty", "eventID", st.one_of(WRONG_FOR_TEXT, st.just(""))),
        hostile(
            "ApproximateCreationDateTime: not a number",
            "dynamodb.ApproximateCreationDateTime",
            st.one_of(WRONG_FOR_TEXT, TEXT),
        ),
    ]


def build_dynamodb_stream(specs: Sequence[Spec]) -> Batch:
    """Changes of profiles, each keyed by its eventID."""
    batch = Batch({"Records": []}, [])
    keyed: list[tuple[str, dict[str, Any]]] = []  # valid (eventID, new image)
    for spec in specs:
        record: dict[str, Any] = load_event("dynamodb_stream")["Records"][0]
        sequence = str(next(SEQUENCES))
        known = spec.kind in ("retry", "reuse") and bool(keyed)
        label("record", spec, known)
        if known:
            event_id, profile = keyed[spec.ref % len(keyed)]
            profile = {**profile, **spec.extra}
        else:
            event_id, profile = uuid.uuid4().hex, profile_of(f"u-{spec.user}", spec.extra)
            if spec.kind != "hostile":
                keyed.append((event_id, profile))
        record["eventID"] = event_id
        record["dynamodb"].update(
            Keys=image({"user_id": profile["user_id"]}),
            OldImage=image(profile_of(profile["user_id"])),
            NewImage=image(profile),
            SequenceNumber=sequence,
        )
        if spec.kind == "hostile":
            set_fields(record, spec.fields)
        else:
            batch.valid.append((sequence, event_id, profile))
        batch.event["Records"].append(record)
        batch.ids.append(sequence)
    return batch


OVER_400_KB_IMAGE = image(profile_of("u-2", {"bio": "x" * OVER_400_KB}))


@fuzz(max_examples=120)
@given(specs=batches(dynamodb_hostile()))
@example(
    specs=[
        Spec("valid", "fresh", 1),
        Spec(
            "NewImage: over 400 KB", "hostile", 2, fields={"dynamodb.NewImage": OVER_400_KB_IMAGE}
        ),
    ]
)
def test_dynamodb_stream_batches(world: World, specs: list[Spec]) -> None:
    # GIVEN an empty world and a DynamoDB Streams batch of valid and malformed changes
    world.reset()
    label_mix(specs)
    # WHEN it is delivered twice / THEN the batch rules hold
    check_batch(world, dynamodb_stream.handler, build_dynamodb_stream(specs), AUDIT, ordered=True)


# API Gateway (HTTP API, payload 2.0) ------------------------------------------------------------


def api_hostile() -> list[st.SearchStrategy[Spec]]:
    keys = "headers.idempotency-key"
    authorizer = "requestContext.authorizer"
    claims = st.dictionaries(TEXT, JSON_VALUES, max_size=3)
    return [
        *hostile_classes("body: ", "body", bad_profiles()),
        hostile("body: not a string", "body", WRONG_FOR_TEXT),
        st.builds(
            lambda body: Spec(
                "body: base64 flag, not base64 or not UTF-8",
                "hostile",
                fields={"body": body, "isBase64Encoded": True},
            ),
            st.one_of(TEXT.map(lambda t: "!" + t), st.binary().map(lambda b: b64(b"\xff" + b))),
        ),
        st.builds(
            lambda body: Spec(
                "body: base64 flag, not a string",
                "hostile",
                fields={"body": body, "isBase64Encoded": True},
            ),
            WRONG_FOR_TEXT,
        ),
        hostile("isBase64Encoded: wrong type", "isBase64Encoded", WRONG_FOR_TEXT),
        hostile("headers: not an object", "headers", WRONG_FOR_OBJECT),
        hostile("headers: a value of the wrong type", "headers.content-type", WRONG_FOR_TEXT),
        hostile("Idempotency-Key: wrong type", keys, WRONG_FOR_TEXT),
        hostile("Idempotency-Key: a lone surrogate", keys, WITH_SURROGATE),
        hostile(
            "Idempotency-Key: malformed",
            keys,
            st.one_of(st.sampled_from(["", " ", '"', '""', "a,b", "k" * 256, "é"]), TEXT),
        ),
        hostile("authorizer: not an object", authorizer, WRONG_FOR_OBJECT),
        hostile("authorizer: arbitrary JSON", authorizer, st.dictionaries(TEXT, JSON_VALUES)),
        hostile(
            "authorizer: JWT claims arbitrary",
            authorizer,
            st.one_of(claims, WRONG_FOR_OBJECT).map(lambda c: {"jwt": {"claims": c}}),
        ),
        hostile(
            "authorizer: a lone surrogate in the principal",
            authorizer,
            st.one_of(
                WITH_SURROGATE.map(lambda s: {"jwt": {"claims": {"iss": "i", "sub": s}}}),
                WITH_SURROGATE.map(lambda s: {"jwt": {"claims": {"x": s}}}),
                WITH_SURROGATE.map(lambda s: {"iam": {"userArn": s}}),
                WITH_SURROGATE.map(lambda s: {"lambda": {"tenant": s}}),
            ),
        ),
        hostile(
            "authorizer: IAM malformed",
            authorizer,
            st.one_of(
                WRONG_FOR_OBJECT.map(lambda v: {"iam": v}),
                WRONG_FOR_TEXT.map(lambda v: {"iam": {"userArn": v}}),
            ),
        ),
        hostile("requestContext: not an object", "requestContext", WRONG_FOR_OBJECT),
        st.builds(
            lambda user_id: Spec(
                "GET: user_id malformed",
                "hostile",
                fields={"GET": True, "pathParameters.user_id": user_id},
            ),
            st.one_of(WITH_SURROGATE, st.just("u" * 129), st.just(""), WRONG_FOR_TEXT, TEXT),
        ),
    ]


GET = st.builds(Spec, st.just("GET"), st.just("fresh"), user=USERS, fields=st.just({"GET": True}))


def api_request(
    spec: Spec, index: int, made: list[tuple[str, dict[str, Any]]]
) -> tuple[dict[str, Any], str | None]:
    """The request of ``spec``, and what is expected of it: ``created`` for a valid POST
    with a new key, ``replayed`` or ``reused`` for a retry or reuse of one."""
    fields = dict(spec.fields)
    known = spec.kind in ("retry", "reuse") and bool(made)
    label("request", spec, known)
    if fields.pop("GET", False):
        request = http_request("GET", f"/profiles/u-{spec.user}")
        set_fields(request, fields)
        return request, None
    expected: str | None = None
    if known:
        key, profile = made[spec.ref % len(made)]
        profile = {**profile, **spec.extra}
        expected = "replayed" if spec.kind == "retry" else "reused"
    else:
        # Users of their own: a hostile body may create u-0...u-4
        key, profile = f"k-{index}", profile_of(f"api-{index}", spec.extra)
        if spec.kind == "fresh":
            made.append((key, profile))
            expected = "created"
    request = http_request("POST", "/profiles", profile, key=key)
    set_fields(request, fields)
    return request, expected


@fuzz(max_examples=150)
@given(specs=st.lists(mixed(api_hostile(), st.one_of(VALID, GET)), min_size=1, max_size=6))
@example(specs=[Spec("body: over 400 KB", "hostile", fields={"body": OVER_400_KB_PROFILE})])
def test_api_requests(world: World, specs: list[Spec]) -> None:
    # GIVEN an empty world and requests, valid and hostile
    world.reset()
    label_mix(specs)
    made: list[tuple[str, dict[str, Any]]] = []
    before = world.written(PROFILES)
    for index, spec in enumerate(specs):
        request, expected = api_request(spec, index, made)
        # WHEN each is delivered twice
        first, again = (world.deliver(api.handler, request) for _ in range(2))
        for delivery in (first, again):
            # THEN it is answered: a 2xx, or a 4xx whose body is a JSON error; never a
            # 5xx, a crash or a stack trace
            assert delivery.error is None, f"the handler raised {delivery.error!r}"
            assert delivery.with_message("request crashed") == []
            assert delivery.with_message("request failed") == []
            response = delivery.result
            status = response["statusCode"]
            assert 200 <= status < 300 or 400 <= status < 500, response
            assert "Traceback" not in response["body"]
            body = json.loads(response["body"])
            if status >= 400:
                assert isinstance(body.get("error"), dict), response
                assert isinstance(body["error"].get("code"), str), response
        # AND the second delivery gets the same status: the stored response, or the same
        # error; a valid request was created once and replayed
        status = first.result["statusCode"]
        assert again.result["statusCode"] == status
        if expected in ("created", "replayed"):
            assert status == 201, first.result
            assert again.result["headers"].get(api.REPLAYED_HEADER) == "true"
        if expected == "reused":
            assert status in (201, 422), first.result  # 201: the same payload after all
        event(f"status: {status}")
    # AND no profile was written more than once per request
    assert world.written(PROFILES) - before <= len(specs)


# Asynchronous handlers: SNS, EventBridge, the inbox, S3 -------------------------------------------


def check_async(
    world: World, handler: Handler, event_: Any, expected: str | None
) -> tuple[Delivery, Delivery]:
    """Deliver an event twice and check the asynchronous rules (see the module's
    docstring). ``expected``: ``applied``, ``duplicate`` or ``rejected``; ``None`` when
    any is right."""
    first, again = world.deliver(handler, event_), world.deliver(handler, event_)
    for delivery in (first, again):
        # THEN it returns, or raises a rejection after exactly one "rejected event" line;
        # never "event failed"
        assert delivery.with_message("event failed") == []
        assert delivery.with_message("event in progress") == []
        rejected = delivery.with_message("rejected event")
        if delivery.error is None:
            assert rejected == []
        else:
            assert isinstance(delivery.error, REJECTED), repr(delivery.error)
            assert len(rejected) == 1, delivery.lines
    # AND the second delivery is a duplicate, or the same rejection
    if first.error is None:
        assert again.error is None, repr(again.error)
        assert again.with_message("event applied") == []
    else:
        assert type(again.error) is type(first.error)
        fields = [line.get("field") for line in first.with_message("rejected event")]
        assert [line.get("field") for line in again.with_message("rejected event")] == fields
    outcome = (
        "rejected"
        if first.error is not None
        else "applied"
        if first.with_message("event applied")
        else "duplicate"
        if first.with_message("duplicate event")
        else "superseded or ignored"
    )
    if expected is not None:
        assert outcome == expected, (expected, first.lines, first.error)
    event(f"outcome: {outcome}")
    return first, again


def expected_of(spec: Spec, known: bool) -> str | None:
    """A fresh valid event is applied, a retry a duplicate, and a reuse rejected (unless
    its payload turned out equal); ``known``: the spec found an earlier one to repeat."""
    if spec.kind == "hostile":
        return None
    if spec.kind == "fresh" or not known:
        return "applied"
    return "duplicate" if spec.kind == "retry" else None


def events(hostiles: Sequence[st.SearchStrategy[Spec]]) -> st.SearchStrategy[list[Spec]]:
    return st.lists(mixed(hostiles), min_size=1, max_size=6)


# SNS --------------------------------------------------------------------------------------------


def sns_hostile() -> list[st.SearchStrategy[Spec]]:
    key = "Sns.MessageAttributes.idempotency_key"
    return [
        *hostile_classes("Message: ", "Sns.Message", bad_profiles()),
        hostile("Message: not a string", "Sns.Message", WRONG_FOR_TEXT),
        hostile(
            "MessageAttributes: not an object",
            "Sns.MessageAttributes",
            WRONG_FOR_PRESENT_OBJECT,
        ),
        hostile(
            "idempotency_key: not an attribute",
            key,
            WRONG_FOR_PRESENT_OBJECT,
        ),
        hostile(
            "idempotency_key: not a String",
            key,
            st.fixed_dictionaries(
                {"Type": st.sampled_from(["Number", "Binary", "String.Array"]), "Value": TEXT}
            ),
        ),
        hostile(
            "idempotency_key: a Value malformed",
            key,
            st.fixed_dictionaries(
                {
                    "Type": st.just("String"),
                    "Value": st.one_of(WRONG_FOR_TEXT, st.just(""), st.just("k" * 257)),
                }
            ),
        ),
        hostile(
            "idempotency_key: a lone surrogate",
            key,
            st.fixed_dictionaries({"Type": st.just("String"), "Value": WITH_SURROGATE}),
        ),
        hostile(
            "MessageId: wrong type or empty",
            "Sns.MessageId",
            st.one_of(WRONG_FOR_TEXT, st.just("")),
        ),
        hostile("Sns: not an object", "Sns", WRONG_FOR_OBJECT),
        hostile(
            "Records: malformed",
            "/Records",
            st.one_of(WRONG_FOR_OBJECT, st.lists(WRONG_FOR_OBJECT, max_size=2)),
        ),
    ]


def set_record_fields(event_: dict[str, Any], fields: Mapping[str, Any]) -> None:
    """Set ``fields`` in the event's one record; a path starting with ``/`` is the event's."""
    for path, value in fields.items():
        if path.startswith("/"):
            put_path(event_, path[1:], value)
        else:
            put_path(event_["Records"][0], path, value)


OVER_400_KB_SNS = Spec(
    "Message: over 400 KB", "hostile", fields={"Sns.Message": OVER_400_KB_PROFILE}
)


@fuzz(max_examples=120)
@given(specs=events(sns_hostile()))
@example(specs=[OVER_400_KB_SNS])
def test_sns_notifications(world: World, specs: list[Spec]) -> None:
    # GIVEN an empty world and notifications, valid and hostile, keyed by an attribute
    world.reset()
    label_mix(specs)
    made: list[tuple[str, dict[str, Any]]] = []
    applied = 0
    for index, spec in enumerate(specs):
        known = spec.kind in ("retry", "reuse") and bool(made)
        label("event", spec, known)
        if known:
            key, profile = made[spec.ref % len(made)]
            profile = {**profile, **spec.extra}
        else:
            key, profile = f"ik-{index}", profile_of(f"u-{index}", spec.extra)
            if spec.kind == "fresh":
                made.append((key, profile))
        notification = sns_event(profile, attributes={"idempotency_key": key})
        set_record_fields(notification, spec.fields)
        # WHEN each is delivered twice / THEN the asynchronous rules hold
        first, _ = check_async(world, sns.handler, notification, expected_of(spec, known))
        applied += len(first.with_message("event applied"))
    # AND one welcome message was sent per event applied, none for a duplicate
    assert len(world.sender.sent) == applied


# EventBridge ------------------------------------------------------------------------------------

BAD_TEXT = st.one_of(WRONG_FOR_TEXT, WITH_SURROGATE, st.just(""), st.just("s" * 300))


def eventbridge_hostile() -> list[st.SearchStrategy[Spec]]:
    return [
        hostile("detail: not an object", "detail", WRONG_FOR_OBJECT),
        hostile("detail: arbitrary JSON", "detail", st.dictionaries(TEXT, JSON_VALUES)),
        hostile("detail.instance-id: malformed", "detail.instance-id", st.one_of(BAD_TEXT, TEXT)),
        hostile("detail.state: malformed", "detail.state", BAD_TEXT),
        *hostile_classes(
            "detail: another field with ",
            "detail.extra",
            [kind.map(lambda lt: (lt[0], json.loads(lt[1]))) for kind in hostile_json()],
        ),
        hostile("time: malformed", "time", st.one_of(BAD_TEXT, TEXT)),
        hostile("id: malformed", "id", BAD_TEXT),
        hostile("account: malformed", "account", st.one_of(JSON_VALUES, WITH_SURROGATE)),
        hostile("region: malformed", "region", st.one_of(JSON_VALUES, WITH_SURROGATE)),
        hostile("the event: not an object", "", WRONG_FOR_OBJECT),
    ]


OVER_400_KB_DETAIL = Spec(
    "detail: over 400 KB", "hostile", fields={"detail.extra": "x" * OVER_400_KB}
)


@fuzz(max_examples=90)
@given(specs=events(eventbridge_hostile()))
@example(specs=[OVER_400_KB_DETAIL])
def test_eventbridge_events(world: World, specs: list[Spec]) -> None:
    # GIVEN an empty world and EC2 state changes, valid and hostile
    world.reset()
    label_mix(specs)
    made: list[tuple[str, str]] = []
    before = world.written(INSTANCE_STATES)
    for index, spec in enumerate(specs):
        known = spec.kind in ("retry", "reuse") and bool(made)
        label("event", spec, known)
        if known:
            event_id, state = made[spec.ref % len(made)]
            state = state if spec.kind == "retry" else "running"
        else:
            event_id, state = f"evt-{index}", "stopped"
            if spec.kind == "fresh":
                made.append((event_id, state))
        change: Any = instance_state_change(event_id, state=state)
        if "" in spec.fields:
            change = spec.fields[""]
        else:
            set_fields(change, spec.fields)
        # WHEN each is delivered twice / THEN the asynchronous rules hold
        first, _ = check_async(world, eventbridge.handler, change, expected_of(spec, known))
        # AND an applied change wrote one item, a duplicate none
        applied = len(first.with_message("event applied"))
        assert world.written(INSTANCE_STATES) - before == applied
        before += applied


# The inbox (direct invocation) ------------------------------------------------------------------


def inbox_hostile() -> list[st.SearchStrategy[Spec]]:
    bad_text = st.one_of(WRONG_FOR_TEXT, WITH_SURROGATE, st.just(""), st.just("c" * 257))
    return [
        hostile("the command: not an object", "", WRONG_FOR_OBJECT),
        hostile("id: malformed", "id", bad_text),
        hostile("type: malformed", "type", bad_text),
        hostile("data: not an object", "data", WRONG_FOR_PRESENT_OBJECT),
        *hostile_classes(
            "data: ",
            "data.x",
            [kind.map(lambda lt: (lt[0], json.loads(lt[1]))) for kind in hostile_json()],
        ),
        hostile(
            "data: lone surrogate in a top-level key", "data", WITH_SURROGATE.map(lambda s: {s: 1})
        ),
    ]


OVER_400_KB_COMMAND = Spec("data: over 400 KB", "hostile", fields={"data.bio": "x" * OVER_400_KB})


@fuzz(max_examples=90)
@given(specs=events(inbox_hostile()))
@example(specs=[OVER_400_KB_COMMAND])
def test_inbox_commands(world: World, specs: list[Spec]) -> None:
    # GIVEN an empty world and commands, valid and hostile
    world.reset()
    label_mix(specs)
    made: list[dict[str, Any]] = []
    for index, spec in enumerate(specs):
        known = spec.kind in ("retry", "reuse") and bool(made)
        label("event", spec, known)
        if known:
            command = dict(made[spec.ref % len(made)])
            command["data"] = {**command["data"], **spec.extra}
        else:
            command = {**load_event("direct_invoke"), "id": f"cmd-{index}"}
            command["data"] = {**command["data"], **spec.extra}
            if spec.kind == "fresh":
                made.append(command)
        invocation: Any = json.loads(json.dumps(command))
        if "" in spec.fields:
            invocation = spec.fields[""]
        else:
            set_fields(invocation, spec.fields)
        # WHEN each is invoked twice / THEN the asynchronous rules hold, and both
        # deliveries of an accepted command get the same receipt
        first, again = check_async(world, inbox.handler, invocation, expected_of(spec, known))
        if first.error is None:
            assert again.result == first.result


# S3 ---------------------------------------------------------------------------------------------


def s3_hostile() -> list[st.SearchStrategy[Spec]]:
    return [
        *hostile_classes("object content: ", "content", bad_profiles()),
        hostile(
            "object.key: malformed",
            "s3.object.key",
            st.one_of(WRONG_FOR_TEXT, WITH_SURROGATE, st.just(""), TEXT, st.just("k" * 1100)),
        ),
        hostile(
            "object.size: malformed",
            "s3.object.size",
            st.one_of(WRONG_FOR_TEXT, TEXT, st.integers(), st.just(10**40)),
        ),
        hostile(
            "object.sequencer: malformed",
            "s3.object.sequencer",
            st.one_of(WRONG_FOR_TEXT, TEXT, st.just("0" * 65), st.just("00FG")),
        ),
        hostile(
            "object.versionId: malformed",
            "s3.object.versionId",
            st.one_of(WRONG_FOR_TEXT, TEXT, WITH_SURROGATE),
        ),
        hostile(
            "object.eTag: malformed",
            "s3.object.eTag",
            st.one_of(WRONG_FOR_TEXT, TEXT, WITH_SURROGATE),
        ),
        hostile("bucket.name: wrong type or empty", "s3.bucket.name", BAD_TEXT),
        hostile("bucket.name: not a bucket's name", "s3.bucket.name", TEXT.map(lambda t: t + "/")),
        hostile(
            "bucket.name: no such bucket",
            "s3.bucket.name",
            st.sampled_from(["deleted-bucket", "Legacy_Bucket", "a.b.c"]),
        ),
        hostile("s3: not an object", "s3", WRONG_FOR_OBJECT),
        hostile("eventName: another event", "eventName", st.one_of(WRONG_FOR_TEXT, TEXT)),
        hostile(
            "Records: malformed",
            "/Records",
            st.one_of(WRONG_FOR_OBJECT, st.lists(WRONG_FOR_OBJECT, max_size=2)),
        ),
    ]


S3_SEQUENCERS = itertools.count(0x0055AED6DCD90281E5)
OVER_400_KB_OBJECT = Spec(
    "object content: over 400 KB", "hostile", fields={"content": OVER_400_KB_PROFILE}
)


@fuzz(max_examples=100)
@given(specs=events(s3_hostile()))
@example(specs=[OVER_400_KB_OBJECT])
def test_s3_uploads(world: World, specs: list[Spec]) -> None:
    # GIVEN an empty world and notifications of uploaded files, valid and hostile
    world.reset()
    label_mix(specs)
    made: list[dict[str, Any]] = []
    for spec in specs:
        fields = dict(spec.fields)
        known = spec.kind in ("retry", "reuse") and bool(made)
        label("event", spec, known)
        if known:
            # A redelivery; for a reuse, with another eTag: the same key, another payload
            notification = json.loads(json.dumps(made[spec.ref % len(made)]))
            if spec.kind == "reuse":
                notification["Records"][0]["s3"]["object"]["eTag"] = "0" * 32
        else:
            key = f"incoming/{next(world.objects)}.json"
            content = fields.pop("content", json.dumps(profile_of(f"u-{spec.user}", spec.extra)))
            data = content.encode("utf-8", "surrogatepass")
            put = world.s3.put_object(Bucket=BUCKET, Key=key, Body=data)
            notification = s3_event(
                BUCKET,
                key,
                version_id=put["VersionId"],
                etag=put["ETag"],
                sequencer=f"{next(S3_SEQUENCERS):018X}",
                size=len(data),
            )
            if spec.kind == "fresh":
                made.append(notification)
        set_record_fields(notification, fields)
        # WHEN each is delivered twice / THEN the asynchronous rules hold
        expected = "rejected" if spec.kind == "reuse" and known else expected_of(spec, known)
        check_async(world, s3.handler, notification, expected)
