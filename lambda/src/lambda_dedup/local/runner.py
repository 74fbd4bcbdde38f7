"""The local runner: plays the Lambda service for every trigger of a stack in the emulator.

It reads the wiring from the emulator's own APIs; nothing comes from Terraform's files or
outputs (the emulator answers everything the runner needs):

========================  ===============================================================
Trigger                   Read from
========================  ===============================================================
SQS, Kinesis, DynamoDB    ``ListEventSourceMappings``
S3                        ``ListBuckets``, ``GetBucketNotificationConfiguration``
SNS                       ``ListSubscriptions``, ``GetSubscriptionAttributes``
EventBridge               ``ListEventBuses``, ``ListRules``, ``ListTargetsByRule``
API Gateway               ``GetApis``, ``GetRoutes``, ``GetIntegrations``
every function            ``GetFunctionConfiguration`` (handler, environment, timeout,
                          role), ``GetFunctionEventInvokeConfig`` (retries, destination)
========================  ===============================================================

Then each :meth:`Runner.poll_once` gives every source one turn: a batch per SQS
mapping, a batch per stream shard, and the new S3 objects, SNS messages and EventBridge
events by asynchronous invocation. The API servers answer requests on their own threads.
Each function runs its deployed code in an execution environment of its own
(:mod:`.functions`, :mod:`.sandbox`). Function logs go to the emulator's CloudWatch Logs
(:mod:`.logs`).
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from lambda_dedup.local.api import ApiServer, HttpApi
from lambda_dedup.local.asynchronous import AsyncInvoker
from lambda_dedup.local.eventbridge import RuleTap, RuleTarget
from lambda_dedup.local.functions import Invoker
from lambda_dedup.local.logs import CloudWatchLogs
from lambda_dedup.local.s3 import BucketWatcher, S3Notification, notification_event
from lambda_dedup.local.sns import SnsSubscription, SubscriptionTap
from lambda_dedup.local.sqs import SqsMapping, SqsPoller
from lambda_dedup.local.streams import ShardReader, StreamMapping

Clients = Callable[[str], Any]
REDELIVERABLE = 1000
"""How many of a trigger's latest events :meth:`Runner.redeliver` can pick from."""

FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}


def emulator_environment(endpoint: str, region: str) -> dict[str, str]:
    """What the functions get besides their own environment: the emulator's endpoint,
    its region and fake credentials (no real account is ever reached)."""
    return {
        **FAKE_CREDENTIALS,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }


def emulator_clients(endpoint: str, region: str) -> Clients:
    """``clients(service)``: one boto3 client per service on the emulator, shared by
    the runner's threads (boto3 clients are thread-safe)."""
    cache: dict[str, Any] = {}
    lock = threading.Lock()

    def clients(service: str) -> Any:
        with lock:
            if service not in cache:
                cache[service] = boto3.client(
                    service,  # type: ignore[call-overload]
                    endpoint_url=endpoint,
                    region_name=region,
                    aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                    aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                )
            return cache[service]

    return clients


@dataclass
class _Bucket:
    watcher: BucketWatcher
    notifications: list[S3Notification]


@dataclass
class Runner:
    """Every trigger of the stack in the emulator, delivered in this process.

    Args:
        clients: ``clients("sqs")`` gives a boto3 client on the emulator.
        base_environment: what every function gets besides its own environment (the
            emulator's endpoint and credentials).
        retry_delay_s: the wait before an asynchronous retry (Lambda's: 1-2 minutes).
        sqs_redelivery_delay_s: the visibility a failed SQS message gets back, in place
            of the queue's own timeout (``None``: the queue's).
        api_port: the first API's port (0: a free one; further APIs take free ones).
        in_process: run the handlers in this process, from its own path, instead of
            each function's deployed code in its own environment (for tests that patch
            what the handlers use; see :class:`~lambda_dedup.local.functions.Invoker`).
    """

    clients: Clients
    base_environment: dict[str, str]
    region: str
    retry_delay_s: float = 0.0
    sqs_redelivery_delay_s: int | None = None
    api_port: int = 0
    in_process: bool = False
    invocations: Counter[str] = field(default_factory=Counter)
    """Invocations made, per trigger (``sqs``, ``kinesis``, ``dynamodb``, ``s3``...)."""

    def __post_init__(self) -> None:
        self.account: str = self.clients("sts").get_caller_identity()["Account"]
        self.invoker = Invoker(
            self.clients("lambda"),
            self.base_environment,
            log_sink=CloudWatchLogs(self.clients("logs")),
            in_process=self.in_process,
        )
        self.async_invoker = AsyncInvoker(
            self.invoker, self.clients("lambda"), self.clients, retry_delay_s=self.retry_delay_s
        )
        self.sqs: list[SqsPoller] = []
        self.streams: list[ShardReader] = []
        self.buckets: list[_Bucket] = []
        self.topics: list[SubscriptionTap] = []
        self.rules: list[RuleTap] = []
        self.apis: list[ApiServer] = []
        self._lock = threading.Lock()
        self.delivered: dict[str, deque[tuple[str, Any]]] = {}
        """The last :data:`REDELIVERABLE` asynchronous events delivered, per trigger:
        ``(function, event)``; bounded, since the runner may run for days."""

    # -- discovery ----------------------------------------------------------------------

    def start(self) -> Runner:
        """Read the wiring from the emulator and start the API servers."""
        lambda_client = self.clients("lambda")
        pages = lambda_client.get_paginator("list_event_source_mappings").paginate()
        for page in pages:
            for entry in page["EventSourceMappings"]:
                self._add_mapping(entry)
        s3 = self.clients("s3")
        for bucket in s3.list_buckets().get("Buckets") or []:
            notifications = S3Notification.of_bucket(s3, bucket["Name"])
            if notifications:
                self.buckets.append(_Bucket(BucketWatcher(s3, bucket["Name"]), notifications))
        sns, sqs = self.clients("sns"), self.clients("sqs")
        self.topics = [SubscriptionTap(sns, sqs, s) for s in SnsSubscription.all(sns)]
        events = self.clients("events")
        self.rules = [RuleTap(events, sqs, t) for t in RuleTarget.all(events)]
        for n, api in enumerate(HttpApi.all(self.clients("apigatewayv2"))):
            port = self.api_port if n == 0 else 0
            self.apis.append(ApiServer(self.invoker, api, account=self.account, port=port))
        return self

    def _add_mapping(self, entry: dict[str, Any]) -> None:
        service = entry["EventSourceArn"].split(":")[2]
        if service == "sqs":
            mapping = SqsMapping.from_api(entry)
            if mapping.enabled:
                self.sqs.append(
                    SqsPoller(
                        self.invoker,
                        self.clients("sqs"),
                        mapping,
                        region=self.region,
                        redelivery_delay_s=self.sqs_redelivery_delay_s,
                    )
                )
        elif service in ("kinesis", "dynamodb"):
            stream = StreamMapping.from_api(entry)
            if stream.enabled:
                client = self.clients("kinesis" if service == "kinesis" else "dynamodbstreams")
                role = self.invoker.function(stream.function_name).role
                self.streams.append(
                    ShardReader(
                        self.invoker,
                        client,
                        stream,
                        self.clients,
                        region=self.region,
                        role_arn=role,
                    )
                )

    def wiring(self) -> list[tuple[str, str, str]]:
        """``(trigger, source, function)`` for everything the runner delivers."""
        rows = [("sqs", p.mapping.queue_arn, p.mapping.function_name) for p in self.sqs]
        for reader in self.streams:
            mapping = reader.mapping
            rows.append((mapping.source, mapping.stream_arn, mapping.function_name))
        for bucket in self.buckets:
            for n in bucket.notifications:
                matched = f"{' '.join(n.events)} {n.prefix}*{n.suffix}"
                rows.append(("s3", f"s3://{n.bucket} ({matched})", n.function_name))
        for tap in self.topics:
            subscription = tap.subscription
            policy = " (filtered)" if subscription.filter_policy else ""
            rows.append(("sns", subscription.topic_arn + policy, subscription.function_name))
        for rule in self.rules:
            target = rule.target
            rows.append(("eventbridge", f"{target.bus}/{target.rule}", target.function_name))
        for server in self.apis:
            for route in server.api.routes:
                rows.append(("api", f"{route.route_key} at {server.url}", route.function_name))
        return rows

    # -- delivery -----------------------------------------------------------------------

    def poll_once(self) -> int:
        """Give every source one turn; the number of invocations made."""
        with self._lock:
            made = 0
            for poller in self.sqs:
                if poller.poll_once() is not None:
                    made += self._count("sqs", 1)
            for reader in self.streams:
                made += self._count(reader.mapping.source, len(reader.poll_once()))
            for bucket in self.buckets:
                for change in bucket.watcher.changes():
                    for notification in bucket.notifications:
                        if notification.matches(change.event_name, change.key):
                            event = notification_event(notification, change, self.region)
                            made += self._deliver(
                                "s3", notification.function_name, event, change.at.timestamp()
                            )
            for tap in self.topics:
                for event, at in tap.events():
                    made += self._deliver("sns", tap.subscription.function_name, event, at)
            for rule in self.rules:
                for event, at in rule.events():
                    made += self._deliver("eventbridge", rule.target.function_name, event, at)
            return made

    def _count(self, trigger: str, invocations: int) -> int:
        self.invocations[trigger] += invocations
        return invocations

    def _deliver(self, trigger: str, function: str, event: Any, queued_at: float) -> int:
        self.delivered.setdefault(trigger, deque(maxlen=REDELIVERABLE)).append((function, event))
        outcome = self.async_invoker.invoke(function, event, queued_at=queued_at)
        return self._count(trigger, len(outcome.invocations))

    def redeliver(self, trigger: str, which: Callable[[Any], bool]) -> Any:
        """Deliver again the first event of ``trigger`` (``s3``, ``sns``, ``eventbridge``)
        that ``which`` picks, as those services occasionally do; return the event."""
        function, event = next(e for e in self.delivered.get(trigger, ()) if which(e[1]))
        with self._lock:
            self._deliver(trigger, function, event, time.time())
        return event

    def _in_flight(self) -> int:
        """Messages of the mapped queues not yet deleted: received and awaiting
        redelivery, delayed, or visible again. (A message whose redelivery delay ends
        between a pass's receive and this count is visible, not in flight: counting only
        the invisible ones would call the queue idle with that message still in it.)"""
        names = (
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        )
        total = 0
        for poller in self.sqs:
            attributes = self.clients("sqs").get_queue_attributes(
                QueueUrl=poller.queue_url,
                AttributeNames=list(names),
            )["Attributes"]
            total += sum(int(attributes.get(name, 0)) for name in names)
        return total

    def run_until_idle(self, *, timeout_s: float = 300.0, interval_s: float = 0.2) -> int:
        """Deliver until a pass finds nothing and no SQS message awaits redelivery; the
        number of invocations made. ``TimeoutError`` if that takes over ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        made = 0
        while True:
            delivered = self.poll_once()
            made += delivered
            if not delivered and not self._in_flight():
                return made
            if time.monotonic() > deadline:
                raise TimeoutError(f"the sources were still busy after {timeout_s:.0f} s")
            if not delivered:
                time.sleep(interval_s)

    def run_forever(self, stop: threading.Event, *, interval_s: float = 0.5) -> None:
        """Deliver until ``stop`` is set."""
        while not stop.is_set():
            if not self.poll_once():
                stop.wait(interval_s)

    def close(self) -> None:
        """Stop the API servers and the functions' environments, and remove the runner's
        taps from the emulator."""
        for server in self.apis:
            server.close()
        for topic in self.topics:
            topic.close()
        for rule in self.rules:
            rule.close()
        self.apis, self.topics, self.rules = [], [], []
        self.invoker.close()
