"""``make bench``: the cost of deduplication, ours against Powertools'.

**Per event.**
 The same N events go, in one process, against the same table on one moto server,
through:

* effect mode, single write -- ``Deduplicator.put_once``;
* effect mode, transaction -- ``Deduplicator.transact_once`` (marker + a counter ``ADD``);
* claim mode -- ``Deduplicator.run_once``;
* Powertools' idempotency utility -- ``idempotent_function`` with
  ``DynamoDBPersistenceLayer`` (payload validation on, as ours always is): the baseline.

For the first delivery and for a redelivery of every event it prints DynamoDB requests per
event, write requests per event and CPU microseconds per event (this process only: the
emulator runs in its own process), each also as a ratio against Powertools. CPU is the
median of ``--rounds`` rounds; each round draws fresh events, and every variant handles
those same events in turn.

**Per batch.** Batches of 10 SQS messages (profile upserts, as ``lambda_dedup.handlers.sqs``
handles them) go through a delaying proxy on loopback (:mod:`latency_proxy`), which adds
``--latency-ms`` to every DynamoDB request, as a network round trip would:

* ours -- the SQS handler itself: ``KeyedBatchProcessor``, one ``TransactWriteItems`` per
  message (marker + profile), the messages of a batch at once; and the same handler with
  one thread (``BATCH_MAX_WORKERS=1``), to show what the concurrency alone is worth;
* the toolkit, as a team uses it (``toolkit, 10 threads``): its own record function, which
  applies the profile with ``Deduplicator.transact_once`` (marker + profile, one
  ``TransactWriteItems`` per message), run over the batch by
  ``lambda_dedup.batch.process_batch`` with its defaults (``@metrics.log_metrics`` on the
  handler, as ``process_batch``'s documentation shows it), so that the public path can be
  compared with the reference handler;
* Powertools' ``BatchProcessor`` with ``idempotent_function`` on the record handler, which
  writes the profile with ``PutItem``: the baseline.

It prints the wall time per batch, as a ratio against Powertools and in round trips.
``--only toolkit`` runs this part with the toolkit, the reference handler (10 threads) and
Powertools only.

**Write units.** The DynamoDB write capacity units (WCU; on-demand tables bill the same
count in write request units) billed per event, in every mode and for Powertools, for an
event whose effect is an item of 0.5, 3 and 10 KB (as DynamoDB sizes items) and whose
result is small:

* ``put_once`` -- the effect is the marker item itself (the event's data as attributes);
* ``transact_once`` -- the marker and a ``Put`` of the effect item in one transaction;
* ``run_once`` -- a claim, the work (a ``PutItem`` of the effect item), the completion;
* Powertools -- ``idempotent_function`` (payload validation on) around the same
  ``PutItem``: its in-progress ``PutItem``, the effect, its completion ``UpdateItem``.

The units are computed from the requests the code actually sends: a botocore hook
(``before-parameter-build``) captures every write request of the measured client, and each
item a request writes is sized as DynamoDB sizes it (attribute names plus values, UTF-8
bytes, numbers approximately: :func:`lambda_dedup.storable.check_item`). A ``PutItem``'s
item is in the request; an update carries only what it changes, so the item it leaves is
read back from the emulator (by another, unmeasured client), as is the item before every
write. The billing rules, from the DynamoDB developer guide:

* a standard write costs 1 WCU per KB (1,024 bytes), rounded up, at least 1, of the larger
  of the item before and after (``PutItem``: "the item size that matters is the larger of
  the two"; ``UpdateItem``: "the larger of the 'before' and 'after' item sizes") --
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html
  ("Capacity unit consumption for write operations");
* a conditional write whose condition fails is billed all the same, by the size of the
  existing item or of the new one the request would have written, whichever is larger
  ("If the expression evaluates to false, DynamoDB still consumes write capacity units
  from the table ... the write capacity units consumed will be 310 KB for the new item")
  -- same page;
* a transactional write costs 2 WCU per KB of every item ("Transactional write requests
  require 2 write units to perform one write for items up to 1 KB", same page; "DynamoDB
  performs two underlying reads or writes of every item in the transaction: one to
  prepare the transaction and one to commit the transaction"), and that capacity "is
  consumed even when a transaction does not succeed" --
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html
  ("Capacity management for transactions"). A transaction cancelled by a failed condition
  is therefore billed here as if each of its items had been written (2 WCU per KB of the
  larger of its item before and the item it would have written); the guide does not say
  whether the items after the failed one are still prepared, so for ``transact_once``'s
  duplicates this is the documented upper bound.

It prints, per mode and size, the write requests and WCU per new event (first delivery)
and per duplicate (redelivery), and their ratios against Powertools. There is no target:
these are the figures to decide by.

**Cold start.** The import time of each reference handler and of a minimal team handler on
the toolkit, from the unpacked deployment zip, against ``import boto3`` in the same
conditions: see :mod:`coldstart`. Its goal (at most 1.15x) is reported, not enforced.

``--only events|batches|toolkit|wcu|coldstart`` runs one part. The hard targets are checked
at the end; the exit status is 1 if one is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import boto3
import coldstart
import emulator as emulator_tool
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from latency_proxy import LatencyProxy

from lambda_dedup import Deduplicator, DynamoDBStore, effects
from lambda_dedup.deduplicator import Claim, Outcome
from lambda_dedup.storable import check_item
from lambda_dedup.store.dynamodb import DEFAULT_BOTO_CONFIG

TABLE = "bench-idempotency"
COUNTERS = "bench-counters"
PROFILES = "bench-profiles"
EFFECTS = "bench-effects"
TABLES = ((TABLE, "id"), (COUNTERS, "pk"), (PROFILES, "user_id"), (EFFECTS, "pk"))
"""Every table, with its partition key."""
BATCH_SIZE = 10
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})
BASELINE = "powertools"
PHASES = ("first delivery", "redelivery")

Handle = Callable[[dict[str, Any]], Any]


@dataclass
class Measure:
    """What one variant cost in one phase of one round."""

    events: int
    calls: Counter[str] = field(default_factory=Counter)
    cpu_ns: int = 0

    @property
    def requests(self) -> float:
        return sum(self.calls.values()) / self.events

    @property
    def writes(self) -> float:
        return sum(n for op, n in self.calls.items() if op in WRITES) / self.events

    @property
    def cpu_us(self) -> float:
        return self.cpu_ns / self.events / 1000


class Variant:
    """One deduplication implementation with its own client, so requests are its own."""

    def __init__(
        self, name: str, server: emulator_tool.Emulator, build: Callable[[Any], Handle]
    ) -> None:
        self.name = name
        self.client = _client(server)
        self.calls: Counter[str] = Counter()
        _count_requests(self.client, self.calls)
        self.handle = build(self.client)

    def run(self, events: list[dict[str, Any]]) -> Measure:
        self.calls.clear()
        started = time.process_time_ns()
        for event in events:
            self.handle(event)
        return Measure(len(events), Counter(self.calls), time.process_time_ns() - started)


def _count_requests(client: Any, calls: Counter[str]) -> None:
    """Count every DynamoDB API call ``client`` makes, by operation, into ``calls``."""
    client.meta.events.register(
        "before-call.dynamodb", lambda model, **_: calls.update([model.name])
    )


def _client(server: emulator_tool.Emulator) -> Any:
    return boto3.client("dynamodb", config=DEFAULT_BOTO_CONFIG, **server.client_options())


def _ours(mode: str) -> Callable[[Any], Handle]:
    def build(client: Any) -> Handle:
        dedup = Deduplicator(DynamoDBStore(TABLE, client=client), f"bench-{mode}")
        if mode == "put":
            return lambda e: dedup.put_once(
                e["id"], {"amount": e["amount"]}, payload=e, result=e["id"]
            )
        if mode == "transact":
            return lambda e: dedup.transact_once(
                e["id"],
                [effects.increment(COUNTERS, {"pk": e["user"]}, "n")],
                payload=e,
                result=e["id"],
            )
        return lambda e: dedup.run_once(e["id"], lambda claim: {"id": e["id"]}, payload=e)

    return build


class _LambdaContext:
    """Enough of a Lambda context for Powertools: its logger, and the in-progress expiry
    (a lease) of its idempotency utility."""

    function_name = "bench"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    memory_limit_in_mb = 256
    aws_request_id = "bench"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def _powertools(client: Any) -> Handle:
    persistence = DynamoDBPersistenceLayer(TABLE, boto3_client=client, expiry_attr="expires_at")
    config = IdempotencyConfig(event_key_jmespath="id", payload_validation_jmespath="@")
    config.register_lambda_context(_LambdaContext())  # type: ignore[arg-type]

    def handle(event: dict[str, Any]) -> dict[str, Any]:
        return {"id": event["id"]}

    idempotent = idempotent_function(
        handle, data_keyword_argument="event", persistence_store=persistence, config=config
    )
    return lambda e: idempotent(event=e)


def _events(count: int) -> list[dict[str, Any]]:
    return [
        {"id": str(uuid.uuid4()), "user": f"u{i % 10}", "amount": i, "note": "x" * 64}
        for i in range(count)
    ]


def _create_tables(server: emulator_tool.Emulator) -> None:
    client = _client(server)
    for name, key in TABLES:
        client.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    client.update_time_to_live(
        TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )


def _clear_tables(server: emulator_tool.Emulator) -> None:
    """Empty both tables between rounds (unmeasured).

    moto deep-copies every table a transaction touches, so a growing table would make the
    emulator, not the code under test, the slow part of a long run.
    """
    client = _client(server)
    for name, key in TABLES:
        for page in client.get_paginator("scan").paginate(TableName=name, ProjectionExpression=key):
            items = page["Items"]
            for start in range(0, len(items), 25):
                requests = [
                    {"DeleteRequest": {"Key": {key: item[key]}}}
                    for item in items[start : start + 25]
                ]
                client.batch_write_item(RequestItems={name: requests})


def run(
    server: emulator_tool.Emulator, events: int, rounds: int
) -> dict[tuple[str, str], list[Measure]]:
    variants = [
        Variant(BASELINE, server, _powertools),
        Variant("effect (put)", server, _ours("put")),
        Variant("effect (transact)", server, _ours("transact")),
        Variant("claim", server, _ours("claim")),
    ]
    for variant in variants:  # warm up clients and connection pools, unmeasured
        warm = _events(20)
        variant.run(warm)
        variant.run(warm)
    results: dict[tuple[str, str], list[Measure]] = {}
    for _ in range(rounds):
        _clear_tables(server)
        batch = _events(events)  # the same events for every variant (namespaces differ)
        for variant in variants:
            for phase in PHASES:
                results.setdefault((variant.name, phase), []).append(variant.run(batch))
    return results


def report(results: dict[tuple[str, str], list[Measure]], events: int, rounds: int) -> bool:
    """Print the per-event table; return whether its targets are met."""

    def summary(key: tuple[str, str]) -> tuple[float, float, float]:
        measures = results[key]
        return (
            measures[0].requests,
            measures[0].writes,
            statistics.median(m.cpu_us for m in measures),
        )

    print(f"\nDeduplication cost per event: {events} events x {rounds} rounds, one process,")
    print("moto server on 127.0.0.1; ratios are against Powertools (x PT, lower is better).\n")
    header = f"{'phase':<15} {'variant':<18} {'requests':>8} {'writes':>7} {'CPU us':>8}"
    print(f"{header}   {'req xPT':>7} {'wr xPT':>7} {'CPU xPT':>7}")
    variants = list(dict.fromkeys(name for name, _ in results))
    for phase in PHASES:
        base = summary((BASELINE, phase))
        for name in variants:
            row = summary((name, phase))
            ratios = [value / reference for value, reference in zip(row, base, strict=True)]
            print(
                f"{phase:<15} {name:<18} {row[0]:>8.2f} {row[1]:>7.2f} {row[2]:>8.0f}"
                f"   {ratios[0]:>7.2f} {ratios[1]:>7.2f} {ratios[2]:>7.2f}"
            )
        print()

    effect_modes = ("effect (put)", "effect (transact)")
    ours = [name for name in variants if name != BASELINE]
    targets = [
        (
            "effect mode: at most 1 write per new event",
            max(summary((name, "first delivery"))[1] for name in effect_modes),
        ),
        (
            "effect mode: 1 request per new event",
            max(summary((name, "first delivery"))[0] for name in effect_modes),
        ),
        (
            "every mode: a duplicate costs 1 request, no read",
            max(summary((name, "redelivery"))[0] for name in ours),
        ),
    ]
    ok = True
    for label, value in targets:
        passed = value <= 1.0
        ok &= passed
        print(f"target  {label:<50} {value:.2f} <= 1.00  {'PASS' if passed else 'FAIL'}")
    return ok


# -- per batch ---------------------------------------------------------------------------

BATCH_BASELINE = "powertools"
ONE_THREAD = "ours, 1 thread"
CONCURRENT = f"ours, {BATCH_SIZE} threads"
TOOLKIT = f"toolkit, {BATCH_SIZE} threads"
BATCH_VARIANTS = (BATCH_BASELINE, ONE_THREAD, CONCURRENT, TOOLKIT)
TOOLKIT_VARIANTS = (BATCH_BASELINE, CONCURRENT, TOOLKIT)
"""``--only toolkit``: the toolkit's path beside the reference handler and Powertools."""

Invoke = Callable[[dict[str, Any]], Any]


def _sqs_batch(number: int) -> dict[str, Any]:
    """Ten profile upserts as the SQS event source mapping delivers them."""
    records = []
    for index in range(BATCH_SIZE):
        user = f"u-{number}-{index}"
        body = {"user_id": user, "email": f"{user}@example.com", "request_id": f"r-{user}"}
        records.append(
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "bench",
                "body": json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:bench",
                "awsRegion": "us-east-1",
            }
        )
    return {"Records": records}


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _ours_batch(options: dict[str, Any], workers: int, calls: Counter[str]) -> Invoke:
    """The package's SQS handler, as deployed: its settings and client from the environment."""
    from lambda_dedup import runtime
    from lambda_dedup.handlers import sqs

    environment = {
        **emulator_tool.client_environment(options["endpoint_url"]),
        "DEDUP_TABLE_NAME": TABLE,
        "PROFILES_TABLE_NAME": PROFILES,
        "BATCH_MAX_WORKERS": str(workers),
    }
    runtime.logger.setLevel("WARNING")  # its per-batch summary line would flood the report
    with _environment(environment):
        runtime.reset()  # a new client, for this endpoint
        _count_requests(runtime.store().client, calls)

    def invoke(event: dict[str, Any]) -> Any:
        with _environment(environment):
            return sqs.handler(event, _LambdaContext())

    return invoke


def _toolkit_batch(options: dict[str, Any], calls: Counter[str]) -> Invoke:
    """A team's own SQS handler on the public toolkit, as ``process_batch`` documents it:
    a record function applying the profile with ``transact_once``, run by ``process_batch``
    with its defaults (a standard queue: every message at once, up to 10 threads)."""
    from lambda_dedup.batch import process_batch
    from lambda_dedup.runtime import logger, metrics

    environment = {
        **emulator_tool.client_environment(options["endpoint_url"]),
        "DEDUP_TABLE_NAME": TABLE,
    }
    logger.setLevel("WARNING")  # its per-record lines would flood the report
    with _environment(environment):
        dedup = Deduplicator.from_env("bench-toolkit")  # its own client, for this endpoint
    _count_requests(cast("DynamoDBStore", dedup.store).client, calls)

    def record_handler(record: SQSRecord) -> Outcome[Any]:
        profile = json.loads(record.body)
        request_id = profile.pop("request_id")
        return dedup.transact_once(
            f"{profile['user_id']}/{request_id}",
            [effects.put(PROFILES, profile)],
            payload=profile,
        )

    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> Any:
        return process_batch(event, context, record_handler)

    return lambda event: handler(event, _LambdaContext())


def _powertools_batch(options: dict[str, Any], calls: Counter[str]) -> Invoke:
    """Powertools' documented batch + idempotency integration, with the same effect."""
    client = boto3.client("dynamodb", config=DEFAULT_BOTO_CONFIG, **options)
    _count_requests(client, calls)
    processor = BatchProcessor(event_type=EventType.SQS)
    persistence = DynamoDBPersistenceLayer(TABLE, boto3_client=client, expiry_attr="expires_at")
    config = IdempotencyConfig(
        event_key_jmespath="powertools_json(body).[user_id, request_id]",
        payload_validation_jmespath="powertools_json(body)",
    )

    def upsert(record: SQSRecord) -> dict[str, Any]:
        profile = json.loads(record.body)
        profile.pop("request_id")
        client.put_item(TableName=PROFILES, Item=effects.serialize(profile))
        return {"user_id": profile["user_id"]}

    record_handler = idempotent_function(
        upsert, data_keyword_argument="record", persistence_store=persistence, config=config
    )

    def invoke(event: dict[str, Any]) -> Any:
        context = _LambdaContext()
        config.register_lambda_context(context)  # type: ignore[arg-type]
        return process_partial_response(
            event=event,
            record_handler=record_handler,
            processor=processor,
            context=context,  # type: ignore[arg-type]
        )

    return invoke


@dataclass
class BatchMeasure:
    """Wall times and requests of one variant in one phase, at one added latency."""

    wall_ms: list[float] = field(default_factory=list)
    requests: int = 0

    def add(self, name: str, invoke: Invoke, event: dict[str, Any], calls: Counter[str]) -> None:
        """Handle one batch (a copy of ``event``) and record its wall time and requests."""
        calls.clear()
        # Powertools prints its metrics to stdout; keep the report readable.
        with contextlib.redirect_stdout(io.StringIO()):
            started = time.perf_counter()
            response = invoke(json.loads(json.dumps(event)))
            self.wall_ms.append((time.perf_counter() - started) * 1000)
        if response["batchItemFailures"]:
            raise RuntimeError(f"{name}: a record failed: {response}")
        self.requests += sum(calls.values())

    @property
    def median_ms(self) -> float:
        return statistics.median(self.wall_ms)

    @property
    def requests_per_batch(self) -> float:
        return self.requests / len(self.wall_ms)


BatchResults = dict[tuple[str, str, float], BatchMeasure]
"""By (variant, phase, added latency in seconds)."""


def run_batches(
    server: emulator_tool.Emulator,
    batches: int,
    latency_s: float,
    names: tuple[str, ...] = BATCH_VARIANTS,
) -> BatchResults:
    """Every variant of ``names`` handles the same batches, each one twice (first delivery,
    redelivery), without and with the added latency in turn, so that slow drift affects
    both alike."""
    events = [_sqs_batch(number) for number in range(batches)]
    results: BatchResults = {}
    with LatencyProxy(server.endpoint, 0.0) as proxy:
        options = {**server.client_options(), "endpoint_url": proxy.endpoint}
        builders: dict[str, Callable[[Counter[str]], Invoke]] = {
            BATCH_BASELINE: lambda calls: _powertools_batch(options, calls),
            ONE_THREAD: lambda calls: _ours_batch(options, 1, calls),
            CONCURRENT: lambda calls: _ours_batch(options, BATCH_SIZE, calls),
            TOOLKIT: lambda calls: _toolkit_batch(options, calls),
        }
        for name in names:
            calls: Counter[str] = Counter()
            invoke = builders[name](calls)
            for event in events:
                for delay in (0.0, latency_s):
                    proxy.delay_s = delay
                    # Empty tables for every batch (unmeasured): moto copies a table for
                    # each transaction, and that cost must not grow with the run.
                    _clear_tables(server)
                    for phase in PHASES:
                        measure = results.setdefault((name, phase, delay), BatchMeasure())
                        measure.add(name, invoke, event, calls)
    return results


def report_batches(results: BatchResults, batches: int, latency_ms: float) -> bool:
    """Print the per-batch table; return whether its targets are met.

    "Latency round trips" is how much of the added latency a batch paid: its wall time
    with the latency minus its wall time without, over the latency. Sequential requests
    pay it once each; concurrent ones overlap it. (The emulator's own time, the same in
    both runs, cancels out.)
    """
    latency_s = latency_ms / 1000

    def row(name: str, phase: str) -> tuple[float, float, float, float]:
        bare, delayed = results[(name, phase, 0.0)], results[(name, phase, latency_s)]
        paid = (delayed.median_ms - bare.median_ms) / latency_ms
        return delayed.requests_per_batch, bare.median_ms, delayed.median_ms, paid

    print(f"\nWall time per batch of {BATCH_SIZE} SQS messages (profile upserts), {batches}")
    print(f"batches, without and with +{latency_ms:g} ms per DynamoDB request (a delaying proxy")
    print("on loopback); medians; x PT is the ratio against Powertools with the latency.\n")
    header = f"{'phase':<15} {'variant':<19} {'requests':>8} {'ms +0':>7} {'ms +lat':>8}"
    print(f"{header} {'latency round trips':>20} {'x PT':>6}")
    names = [name for name in BATCH_VARIANTS if (name, PHASES[0], 0.0) in results]
    for phase in PHASES:
        base = row(BATCH_BASELINE, phase)[2]
        for name in names:
            requests, bare, delayed, paid = row(name, phase)
            print(
                f"{phase:<15} {name:<19} {requests:>8.1f} {bare:>7.1f} {delayed:>8.1f}"
                f" {paid:>20.1f} {delayed / base:>6.2f}"
            )
        print()
    first = {name: row(name, "first delivery") for name in names}
    targets = []
    for name in (CONCURRENT, TOOLKIT):
        if name not in first:
            continue
        targets += [
            (
                # About one round trip, not one per message (10): 3 leaves room for noise.
                f"batch: {name}, latency round trips per batch",
                first[name][3],
                3.0,
            ),
            (
                f"batch: {name} vs Powertools, wall time",
                first[name][2] / first[BATCH_BASELINE][2],
                0.5,
            ),
            (
                f"batch: {name}, requests per new record",
                first[name][0] / BATCH_SIZE,
                1.0,
            ),
        ]
    ok = True
    for label, value, limit in targets:
        passed = value <= limit
        ok &= passed
        verdict = "PASS" if passed else "FAIL"
        print(f"target  {label:<58} {value:.2f} <= {limit:.2f}  {verdict}")
    return ok


# -- write units -------------------------------------------------------------------------

WCU_SIZES = (512, 3 * 1024, 10 * 1024)
"""The effect item's size, in bytes as DynamoDB measures items."""
KB = 1024
WCU_MODES = (BASELINE, "put_once", "transact_once", "run_once")


@dataclass(frozen=True)
class Billed:
    """One item one write request wrote (or tried to), as DynamoDB bills it."""

    operation: str
    table: str
    size: int
    """Bytes: the larger of the item before and the item written or attempted."""
    transactional: bool
    skipped: bool = False
    """In a transaction cancelled by another item's failed condition: this item was billed
    if DynamoDB prepares every item of a cancelled transaction (the upper bound), and not
    if it stops at the failed one (the lower bound)."""

    @property
    def units(self) -> int:
        per_kb = max(1, math.ceil(self.size / KB))
        return 2 * per_kb if self.transactional else per_kb


def item_size(item: dict[str, Any] | None) -> int:
    """A low-level item's size as DynamoDB measures it (0 for no item)."""
    return check_item(effects.deserialize(item)) if item else 0


class WriteMeter:
    """Bills every write request a client sends, from the request itself.

    The items are sized from the request (a put's item) and from the table around it: an
    unmeasured client reads each target item before the request and after it (an update
    carries only what it changes; a failed condition leaves the item as it was).
    """

    def __init__(self, server: emulator_tool.Emulator) -> None:
        self.oracle = _client(server)
        self.keys = dict(TABLES)
        self.billed: list[Billed] = []
        self.requests: Counter[str] = Counter()
        self._pending: list[tuple[str, str, dict[str, Any], int, int, bool]] = []
        self._cancellable: list[bool] = []

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-parameter-build.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb", self._after)

    def clear(self) -> None:
        self.billed.clear()
        self.requests.clear()

    def _read(self, table: str, key: dict[str, Any]) -> int:
        found = self.oracle.get_item(TableName=table, Key=key, ConsistentRead=True)
        return item_size(found.get("Item"))

    def _target(
        self, operation: str, body: dict[str, Any], transactional: bool
    ) -> tuple[str, str, dict[str, Any], int, int, bool]:
        table = body["TableName"]
        item = body.get("Item")
        if item is not None:
            name = self.keys[table]
            key = {name: item[name]}
        else:
            key = body["Key"]
        return operation, table, key, self._read(table, key), item_size(item), transactional

    def _before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        operation = model.name
        if operation not in WRITES:
            return
        self.requests.update([operation])
        if operation == "TransactWriteItems":
            for entry in params["TransactItems"]:
                ((kind, body),) = entry.items()
                if kind == "ConditionCheck":  # a read; neither side uses one
                    raise NotImplementedError("ConditionCheck is not metered")
                self._pending.append(self._target(kind, body, transactional=True))
        elif operation in ("PutItem", "UpdateItem", "DeleteItem"):
            self._pending.append(self._target(operation, params, transactional=False))
        else:
            raise NotImplementedError(f"{operation} is not metered")

    def _after(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        if model.name not in WRITES:
            return
        pending, self._pending = self._pending, []
        reasons = [reason.get("Code") for reason in parsed.get("CancellationReasons", [])]
        for index, (operation, table, key, before, attempted, transactional) in enumerate(pending):
            after = self._read(table, key)
            skipped = bool(reasons) and reasons[index] != "ConditionalCheckFailed"
            self.billed.append(
                Billed(operation, table, max(before, after, attempted), transactional, skipped)
            )


def _effect_item(event_id: str, size: int) -> dict[str, Any]:
    """The effect: an item of exactly ``size`` bytes as DynamoDB measures it."""
    bare = check_item({"pk": event_id, "data": ""})
    return {"pk": event_id, "data": "x" * (size - bare)}


def _wcu_handle(mode: str, client: Any) -> Handle:
    """One event (``id``, ``effect``) applied once in ``mode``; the result is small."""

    def write_effect(event: dict[str, Any]) -> dict[str, Any]:
        client.put_item(TableName=EFFECTS, Item=effects.serialize(event["effect"]))
        return {"id": event["id"]}

    if mode == BASELINE:
        persistence = DynamoDBPersistenceLayer(TABLE, boto3_client=client, expiry_attr="expires_at")
        config = IdempotencyConfig(event_key_jmespath="id", payload_validation_jmespath="@")
        config.register_lambda_context(_LambdaContext())  # type: ignore[arg-type]

        def handle(event: dict[str, Any]) -> dict[str, Any]:
            return write_effect(event)

        idempotent = idempotent_function(
            handle, data_keyword_argument="event", persistence_store=persistence, config=config
        )
        return lambda e: idempotent(event=e)
    dedup = Deduplicator(DynamoDBStore(TABLE, client=client), f"bench-wcu-{mode}")
    if mode == "put_once":
        return lambda e: dedup.put_once(
            e["id"], {"data": e["effect"]["data"]}, payload=e, result={"id": e["id"]}
        )
    if mode == "transact_once":
        return lambda e: dedup.transact_once(
            e["id"], [effects.put(EFFECTS, e["effect"])], payload=e, result={"id": e["id"]}
        )

    def run_once(event: dict[str, Any]) -> Outcome[dict[str, Any]]:
        def work(claim: Claim) -> dict[str, Any]:
            return write_effect(event)

        return dedup.run_once(event["id"], work, payload=event)

    return run_once


@dataclass
class WriteCost:
    """What one mode cost per event in one phase, at one size."""

    requests: float
    units: float
    lower: float
    """The units without the items of a cancelled transaction whose own condition held."""


WriteResults = dict[tuple[int, str, str], WriteCost]
"""By (effect size, mode, phase)."""


def run_write_units(server: emulator_tool.Emulator, events: int) -> WriteResults:
    """Every mode handles ``events`` events twice (first delivery, redelivery), at every
    size, from empty tables; every write request is billed by :class:`WriteMeter`."""
    meter = WriteMeter(server)
    results: WriteResults = {}
    for size in WCU_SIZES:
        for mode in WCU_MODES:
            _clear_tables(server)
            client = _client(server)
            meter.attach(client)
            handle = _wcu_handle(mode, client)
            batch = []
            for _ in range(events):
                event_id = str(uuid.uuid4())
                batch.append({"id": event_id, "effect": _effect_item(event_id, size)})
            for phase in PHASES:
                meter.clear()
                with contextlib.redirect_stdout(io.StringIO()):
                    for event in batch:
                        handle(event)
                results[(size, mode, phase)] = WriteCost(
                    sum(meter.requests.values()) / events,
                    sum(item.units for item in meter.billed) / events,
                    sum(item.units for item in meter.billed if not item.skipped) / events,
                )
    return results


def report_write_units(results: WriteResults, events: int) -> bool:
    """Print the write-unit table; there is no target (returns ``True``)."""
    print(f"\nDynamoDB write units (WCU) billed per event, {events} events per mode and size,")
    print("from the write requests sent (items sized as DynamoDB does; a transaction's items at")
    print("2 WCU per KB, a failed condition billed as DynamoDB bills it); the effect is one item")
    print("of the given size, the stored result is small. x PT: ratio against Powertools.\n")
    header = f"{'effect':>7} {'mode':<14} {'writes new':>10} {'WCU new':>8} {'WCU dup':>8}"
    print(f"{header} {'new xPT':>8} {'dup xPT':>8}  {'dup, lower bound':>16}")
    for size in WCU_SIZES:
        new_base = results[(size, BASELINE, PHASES[0])].units
        dup_base = results[(size, BASELINE, PHASES[1])].units
        for mode in WCU_MODES:
            new, dup = results[(size, mode, PHASES[0])], results[(size, mode, PHASES[1])]
            print(
                f"{size / KB:>5.1f}KB {mode:<14} {new.requests:>10.2f} {new.units:>8.2f}"
                f" {dup.units:>8.2f} {new.units / new_base:>8.2f} {dup.units / dup_base:>8.2f}"
                f"  {dup.lower:>16.2f}"
            )
        print()
    print("A cancelled transaction is billed as if every item were written (upper bound; the")
    print("guide: its capacity 'is consumed even when a transaction does not succeed'); the")
    print("lower bound bills only the item whose condition failed.")
    return True


PARTS = ("events", "batches", "toolkit", "wcu", "coldstart")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=200, help="events per round (default 200)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; CPU is their median")
    parser.add_argument("--batches", type=int, default=20, help="batches of 10 (default 20)")
    parser.add_argument(
        "--latency-ms", type=float, default=5.0, help="added per DynamoDB request (default 5)"
    )
    parser.add_argument(
        "--wcu-events", type=int, default=10, help="events per mode and size (default 10)"
    )
    parser.add_argument(
        "--cold-runs", type=int, default=7, help="cold imports per module (default 7)"
    )
    parser.add_argument(
        "--only",
        choices=PARTS,
        help="run one part only (toolkit: the per-batch part for the toolkit's path alone)",
    )
    args = parser.parse_args(argv)
    parts = {args.only} if args.only else set(PARTS) - {"toolkit"}
    ok = True
    if parts - {"coldstart"}:
        with emulator_tool.Emulator() as server:
            _create_tables(server)
            if "events" in parts:
                results = run(server, args.events, args.rounds)
                ok &= report(results, args.events, args.rounds)
            if parts & {"batches", "toolkit"}:
                names = BATCH_VARIANTS if "batches" in parts else TOOLKIT_VARIANTS
                batch_results = run_batches(server, args.batches, args.latency_ms / 1000, names)
                ok &= report_batches(batch_results, args.batches, args.latency_ms)
            if "wcu" in parts:
                ok &= report_write_units(run_write_units(server, args.wcu_events), args.wcu_events)
    if "coldstart" in parts:
        ok &= coldstart.run(args.cold_runs)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
