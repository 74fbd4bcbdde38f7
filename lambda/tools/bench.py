"""``make bench``: the cost of deduplication per event, ours against Powertools'.

The same N events go, in one process, against the same table on one moto server, through:

* effect mode, single write -- ``Deduplicator.put_once``;
* effect mode, transaction -- ``Deduplicator.transact_once`` (marker + a counter ``ADD``);
* claim mode -- ``Deduplicator.run_once``;
* Powertools' idempotency utility -- ``idempotent_function`` with
  ``DynamoDBPersistenceLayer`` (payload validation on, as ours always is): the baseline.

For the first delivery and for a redelivery of every event it prints DynamoDB requests per
event, write requests per event and CPU microseconds per event (this process only: the
emulator runs in its own process), each also as a ratio against Powertools. CPU is the
median of ``--rounds`` rounds; each round draws fresh events, and every variant handles
those same events in turn. The targets are checked at the end; the exit status is 1 if one
is missed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import emulator as emulator_tool
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from lambda_dedup import Deduplicator, DynamoDBStore, effects
from lambda_dedup.store.dynamodb import DEFAULT_BOTO_CONFIG

TABLE = "bench-idempotency"
COUNTERS = "bench-counters"
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
        self.client.meta.events.register(
            "before-call.dynamodb", lambda model, **_: self.calls.update([model.name])
        )
        self.handle = build(self.client)

    def run(self, events: list[dict[str, Any]]) -> Measure:
        self.calls.clear()
        started = time.process_time_ns()
        for event in events:
            self.handle(event)
        return Measure(len(events), Counter(self.calls), time.process_time_ns() - started)


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
    """Enough of a Lambda context for Powertools to set its in-progress expiry (a lease)."""

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
    for name, key in ((TABLE, "id"), (COUNTERS, "pk")):
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
    for name, key in ((TABLE, "id"), (COUNTERS, "pk")):
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
    _create_tables(server)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=200, help="events per round (default 200)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; CPU is their median")
    args = parser.parse_args(argv)
    with emulator_tool.Emulator() as server:
        results = run(server, args.events, args.rounds)
    return 0 if report(results, args.events, args.rounds) else 1


if __name__ == "__main__":
    sys.exit(main())
