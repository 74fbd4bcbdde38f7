"""Events as Lambda delivers them, for each trigger, built from AWS's sample events.

Every builder returns a new ``dict`` in the shape of the sample events of the AWS Lambda
Developer Guide (and ``sam local generate-event``), with what differs between two real
deliveries made new each time: message ids, sequence numbers, request ids. Payloads that
are ``str`` (or ``bytes``) are sent as they are, to make malformed events; anything else
is JSON-encoded. Timestamps are fixed (2027-01-15), ARNs use :data:`~.context.REGION` and
:data:`~.context.ACCOUNT_ID`.

===========================  =========================================================
Trigger                      Builder
===========================  =========================================================
SQS (standard, FIFO)         :func:`sqs_event`
Kinesis Data Streams         :func:`kinesis_event`
DynamoDB Streams             :func:`dynamodb_stream_event` with :class:`StreamChange`
S3 notifications             :func:`s3_event`
S3 through EventBridge       :func:`s3_eventbridge_event`
SNS                          :func:`sns_event`
EventBridge                  :func:`eventbridge_event`
API Gateway HTTP API (2.0)   :func:`http_api_event`
API Gateway REST API (1.0)   :func:`rest_api_event`
Function URL                 :func:`function_url_event`
Direct invocation            :func:`direct_invocation_event`
===========================  =========================================================

:func:`failed_ids` reads a partial batch response.

Examples:
    >>> from lambda_dedup.testing import events
    >>> batch = events.sqs_event([{"order_id": "o-1"}, "not json"], groups=["g", "g"])
    >>> [r["body"] for r in batch["Records"]]
    ['{"order_id": "o-1"}', 'not json']
    >>> batch["Records"][0]["eventSourceARN"]
    'arn:aws:sqs:us-east-1:123456789012:test-queue.fifo'
    >>> events.failed_ids({"batchItemFailures": [{"itemIdentifier": "m-2"}]})
    ['m-2']
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

from boto3.dynamodb.types import TypeSerializer

from lambda_dedup.testing.context import ACCOUNT_ID, REGION

__all__ = [
    "EPOCH_MS",
    "StreamChange",
    "direct_invocation_event",
    "dynamodb_stream_event",
    "eventbridge_event",
    "failed_ids",
    "function_url_event",
    "http_api_event",
    "kinesis_event",
    "rest_api_event",
    "s3_event",
    "s3_eventbridge_event",
    "sns_event",
    "sqs_event",
]

EPOCH_MS = 1_800_000_000_000
"""The instant of every timestamp in the built events (2027-01-15T08:00:00Z)."""
_ISO = "2027-01-15T08:00:00"
_sequence = itertools.count(
    49_657_362_910_298_310_393_802_245_412_307_148_532_911_018_563_719_233_538
)
_serializer = TypeSerializer()
_TRACE_HEADER = "Root=1-6786b8a0-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=0"


def _text(payload: Any) -> str:
    if isinstance(payload, bytes):
        return payload.decode("utf-8", errors="replace")
    return payload if isinstance(payload, str) else json.dumps(payload)


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8", "surrogatepass")).hexdigest()


def failed_ids(response: Mapping[str, Any] | None) -> list[str]:
    """The item identifiers of a partial batch response (``batchItemFailures``), in order.

    Examples:
        >>> failed_ids({"batchItemFailures": []}), failed_ids(None)
        ([], [])
    """
    if not response:
        return []
    return [failure["itemIdentifier"] for failure in response.get("batchItemFailures", [])]


# -- SQS ----------------------------------------------------------------------------------


def sqs_event(
    bodies: Sequence[Any],
    *,
    queue: str = "test-queue",
    groups: Sequence[str] | None = None,
    attributes: Sequence[Mapping[str, str] | None] | None = None,
    message_ids: Sequence[str] | None = None,
    receive_count: int = 1,
) -> dict[str, Any]:
    """An SQS event with one message per body, each with a new ``messageId``.

    Args:
        bodies: the message bodies; a ``str`` is sent as it is, anything else as JSON.
        queue: the queue's name (``.fifo`` is added for a FIFO batch).
        groups: makes it a FIFO batch: each message's ``MessageGroupId``, with a
            ``MessageDeduplicationId`` and a growing ``SequenceNumber``.
        attributes: string message attributes, per message (``None`` for none).
        message_ids: the messages' ids instead of new ones (a redelivery).
        receive_count: ``ApproximateReceiveCount`` (greater than 1 for a redelivery).

    Examples:
        >>> event = sqs_event(["hello"], attributes=[{"tenant": "acme"}])
        >>> event["Records"][0]["messageAttributes"]["tenant"]["stringValue"]
        'acme'
        >>> "MessageGroupId" in event["Records"][0]["attributes"]
        False
    """
    fifo = groups is not None
    name = f"{queue}.fifo" if fifo and not queue.endswith(".fifo") else queue
    records = []
    for index, body in enumerate(bodies):
        text = _text(body)
        system: dict[str, str] = {
            "ApproximateReceiveCount": str(receive_count),
            "AWSTraceHeader": _TRACE_HEADER,
            "SentTimestamp": str(EPOCH_MS),
            "SenderId": "AROAEXAMPLEROLEID:producer",
            "ApproximateFirstReceiveTimestamp": str(EPOCH_MS + 15),
        }
        if groups is not None:
            system["MessageGroupId"] = groups[index]
            system["MessageDeduplicationId"] = uuid.uuid4().hex
            system["SequenceNumber"] = str(next(_sequence))
        message_attributes = {
            key: {
                "stringValue": value,
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "String",
            }
            for key, value in ((attributes[index] if attributes else None) or {}).items()
        }
        record: dict[str, Any] = {
            "messageId": message_ids[index] if message_ids else str(uuid.uuid4()),
            "receiptHandle": "AQEB" + base64.b64encode(uuid.uuid4().bytes * 4).decode(),
            "body": text,
            "attributes": system,
            "messageAttributes": message_attributes,
            "md5OfBody": _md5(text),
            "eventSource": "aws:sqs",
            "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}",
            "awsRegion": REGION,
        }
        if message_attributes:
            record["md5OfMessageAttributes"] = _md5(json.dumps(message_attributes))
        records.append(record)
    return {"Records": records}


# -- Kinesis ------------------------------------------------------------------------------


def kinesis_event(
    payloads: Sequence[Any],
    *,
    stream: str = "test-stream",
    partition_keys: Sequence[str | None] | None = None,
    shard: str = "shardId-000000000000",
) -> dict[str, Any]:
    """A Kinesis event, one record per payload, in increasing sequence numbers.

    ``data`` is the payload base64-encoded (``bytes`` are sent as they are). A partition
    key that is not given (or ``None``) is the payload's ``user_id`` when it is a ``dict``
    holding one, else ``"p"``.

    Examples:
        >>> record = kinesis_event([{"user_id": "ada"}])["Records"][0]
        >>> record["kinesis"]["partitionKey"], base64.b64decode(record["kinesis"]["data"])
        ('ada', b'{"user_id": "ada"}')
        >>> record["eventID"].endswith(record["kinesis"]["sequenceNumber"])
        True
    """
    records = []
    for index, payload in enumerate(payloads):
        sequence = str(next(_sequence))
        data = payload if isinstance(payload, bytes) else _text(payload).encode()
        key = partition_keys[index] if partition_keys is not None else None
        if key is None:
            found = payload.get("user_id") if isinstance(payload, dict) else None
            key = found if isinstance(found, str) else "p"
        records.append(
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": key,
                    "sequenceNumber": sequence,
                    "data": base64.b64encode(data).decode(),
                    "approximateArrivalTimestamp": EPOCH_MS / 1000,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard}:{sequence}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": f"arn:aws:iam::{ACCOUNT_ID}:role/lambda-role",
                "awsRegion": REGION,
                "eventSourceARN": f"arn:aws:kinesis:{REGION}:{ACCOUNT_ID}:stream/{stream}",
            }
        )
    return {"Records": records}


# -- DynamoDB Streams ---------------------------------------------------------------------


@dataclass
class StreamChange:
    """One change of a table's item, as DynamoDB Streams reports it.

    ``old`` and ``new`` are the images as plain Python values: both for ``MODIFY``, only
    ``new`` for ``INSERT``, only ``old`` for ``REMOVE``.

    Examples:
        >>> StreamChange({"pk": "a"}, new={"pk": "a", "n": 1}).event_name
        'INSERT'
    """

    keys: dict[str, Any]
    old: dict[str, Any] | None = None
    new: dict[str, Any] | None = None
    event_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def event_name(self) -> str:
        """``INSERT``, ``MODIFY`` or ``REMOVE``."""
        if self.old is None:
            return "INSERT"
        return "REMOVE" if self.new is None else "MODIFY"


def dynamodb_stream_event(
    changes: Sequence[StreamChange | Mapping[str, Any]],
    *,
    table: str = "test-table",
    view_type: str = "NEW_AND_OLD_IMAGES",
) -> dict[str, Any]:
    """A DynamoDB Streams event, one record per change, in increasing sequence numbers.

    A mapping instead of a :class:`StreamChange` replaces top-level fields of a record
    otherwise made from a valid ``MODIFY`` (to make a malformed record), e.g.
    ``{"eventName": "UPSERT"}``. Images are serialised as DynamoDB's attribute values.

    Examples:
        >>> change = StreamChange({"pk": "a"}, old={"pk": "a", "n": 1}, new={"pk": "a", "n": 2})
        >>> record = dynamodb_stream_event([change])["Records"][0]
        >>> record["eventName"], record["dynamodb"]["NewImage"]["n"]
        ('MODIFY', {'N': '2'})
    """
    records = []
    for item in changes:
        overrides: Mapping[str, Any] = {}
        if not isinstance(item, StreamChange):
            overrides = item
            item = StreamChange({"pk": "malformed"}, {"pk": "malformed"}, {"pk": "malformed"})
        stream: dict[str, Any] = {
            "ApproximateCreationDateTime": EPOCH_MS // 1000,
            "Keys": {k: _serializer.serialize(v) for k, v in item.keys.items()},
            "SequenceNumber": str(next(_sequence)),
            "SizeBytes": 0,
            "StreamViewType": view_type,
        }
        for name, image in (("OldImage", item.old), ("NewImage", item.new)):
            if image is not None:
                stream[name] = {k: _serializer.serialize(v) for k, v in image.items()}
        stream["SizeBytes"] = len(json.dumps(stream, default=str))
        record: dict[str, Any] = {
            "eventID": item.event_id,
            "eventName": item.event_name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": REGION,
            "dynamodb": stream,
            "eventSourceARN": f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{table}"
            f"/stream/{_ISO}.000",
        }
        record.update(overrides)
        records.append(record)
    return {"Records": records}


# -- S3 -----------------------------------------------------------------------------------

_DEFAULT_ETAG = "0123456789abcdef0123456789abcdef"
_DEFAULT_SEQUENCER = "0055AED6DCD90281E5"


def s3_event(
    bucket: str,
    key: str,
    *,
    event_name: str = "ObjectCreated:Put",
    version_id: str | None = None,
    sequencer: str = _DEFAULT_SEQUENCER,
    etag: str = _DEFAULT_ETAG,
    size: int = 1024,
) -> dict[str, Any]:
    """An S3 event notification for object ``key`` of ``bucket``, as a function gets it.

    The key is URL-encoded as S3 encodes it (a space becomes ``+``). ``versionId`` is
    there only when ``version_id`` is given (a versioned bucket); ``etag`` loses its
    quotes, as in S3's events.

    Examples:
        >>> obj = s3_event("uploads", "in/a b.json", version_id="v1")["Records"][0]["s3"]["object"]
        >>> obj["key"], obj["versionId"]
        ('in/a+b.json', 'v1')
    """
    obj: dict[str, Any] = {"key": quote_plus(key, safe="/"), "size": size, "eTag": etag.strip('"')}
    if version_id is not None:
        obj["versionId"] = version_id
    obj["sequencer"] = sequencer
    if event_name.startswith("ObjectRemoved"):
        obj.pop("size")
        obj.pop("eTag")
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventTime": f"{_ISO}.000Z",
                "eventName": event_name,
                "userIdentity": {"principalId": "AWS:AROAEXAMPLEROLEID:uploader"},
                "requestParameters": {"sourceIPAddress": "203.0.113.10"},
                "responseElements": {
                    "x-amz-request-id": uuid.uuid4().hex[:16].upper(),
                    "x-amz-id-2": base64.b64encode(uuid.uuid4().bytes * 3).decode(),
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "lambda-notification",
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": obj,
                },
            }
        ]
    }


_S3_REASONS = {"Object Created": "PutObject", "Object Deleted": "DeleteObject"}


def s3_eventbridge_event(
    bucket: str,
    key: str,
    *,
    detail_type: str = "Object Created",
    version_id: str | None = None,
    sequencer: str = _DEFAULT_SEQUENCER,
    etag: str = _DEFAULT_ETAG,
    size: int = 1024,
    reason: str | None = None,
) -> dict[str, Any]:
    """The event S3 sends to EventBridge (``Object Created``, ``Object Deleted``) for
    ``key``, as a rule delivers it to a function; the key is *not* URL-encoded.

    Examples:
        >>> event = s3_eventbridge_event("uploads", "in/a b.json")
        >>> event["detail"]["object"]["key"], event["detail"]["reason"]
        ('in/a b.json', 'PutObject')
    """
    obj: dict[str, Any] = {"key": key}
    if detail_type == "Object Created":
        obj.update(size=size, etag=etag.strip('"'))
    if version_id is not None:
        obj["version-id"] = version_id
    obj["sequencer"] = sequencer
    detail: dict[str, Any] = {
        "version": "0",
        "bucket": {"name": bucket},
        "object": obj,
        "request-id": uuid.uuid4().hex[:16].upper(),
        "requester": ACCOUNT_ID,
        "source-ip-address": "203.0.113.10",
        "reason": reason or _S3_REASONS.get(detail_type, "PutObject"),
    }
    if detail_type == "Object Deleted":
        detail["deletion-type"] = "Permanently Deleted"
    return eventbridge_event(
        detail, source="aws.s3", detail_type=detail_type, resources=[f"arn:aws:s3:::{bucket}"]
    )


# -- SNS ----------------------------------------------------------------------------------


def sns_event(
    message: Any,
    *,
    topic: str = "test-topic",
    subject: str | None = None,
    message_id: str | None = None,
    attributes: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """An SNS notification of ``message`` (JSON-encoded unless a ``str``), with a new
    ``MessageId`` unless one is given, and string message ``attributes``.

    Examples:
        >>> sns = sns_event({"id": 1}, attributes={"kind": "order"})["Records"][0]["Sns"]
        >>> sns["Message"], sns["MessageAttributes"]["kind"]
        ('{"id": 1}', {'Type': 'String', 'Value': 'order'})
    """
    topic_arn = f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:{topic}"
    subscription = f"{topic_arn}:{uuid.uuid4()}"
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription,
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id or str(uuid.uuid4()),
                    "TopicArn": topic_arn,
                    "Subject": subject,
                    "Message": _text(message),
                    "Timestamp": f"{_ISO}.000Z",
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0Q==",
                    "SigningCertUrl": f"https://sns.{REGION}.amazonaws.com/"
                    "SimpleNotificationService-0000000000000000000000.pem",
                    "UnsubscribeUrl": f"https://sns.{REGION}.amazonaws.com/"
                    f"?Action=Unsubscribe&SubscriptionArn={subscription}",
                    "MessageAttributes": {
                        name: {"Type": "String", "Value": value}
                        for name, value in (attributes or {}).items()
                    },
                },
            }
        ]
    }


# -- EventBridge --------------------------------------------------------------------------


def eventbridge_event(
    detail: Any,
    *,
    detail_type: str = "Test Event",
    source: str = "com.example.test",
    event_id: str | None = None,
    resources: Sequence[str] = (),
    time: str = f"{_ISO}Z",
) -> dict[str, Any]:
    """An EventBridge event as a rule delivers it to a function, with a new ``id``
    unless one is given.

    Examples:
        >>> event = eventbridge_event({"instance-id": "i-1", "state": "stopped"},
        ...                           source="aws.ec2",
        ...                           detail_type="EC2 Instance State-change Notification")
        >>> event["source"], event["detail"]["state"], event["account"]
        ('aws.ec2', 'stopped', '123456789012')
    """
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": ACCOUNT_ID,
        "time": time,
        "region": REGION,
        "resources": list(resources),
        "detail": detail,
    }


# -- HTTP ---------------------------------------------------------------------------------

IAM_CALLER = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/test-client/test-client"


def _headers(body: Any, headers: Mapping[str, str] | None, host: str) -> dict[str, str]:
    merged = {
        "accept": "application/json",
        "host": host,
        "user-agent": "python-requests/2.32.3",
        "x-amzn-trace-id": "Root=1-6786b8a0-0123456789abcdef01234567",
        "x-forwarded-for": "203.0.113.10",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    if body is not None:
        merged["content-type"] = "application/json"
        merged["content-length"] = str(len(_body(body)[0].encode()))
    merged.update({name.lower(): value for name, value in (headers or {}).items()})
    return merged


def _body(body: Any) -> tuple[str, bool]:
    if isinstance(body, bytes):
        return base64.b64encode(body).decode(), True
    return _text(body), False


def _query(query: Mapping[str, str] | None) -> str:
    return "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in (query or {}).items())


def http_api_event(
    method: str,
    path: str,
    body: Any = None,
    *,
    route_key: str | None = None,
    path_parameters: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    caller: str | None = IAM_CALLER,
    jwt_claims: Mapping[str, Any] | None = None,
    stage: str = "$default",
    api_id: str = "a1b2c3d4e5",
) -> dict[str, Any]:
    """An API Gateway HTTP API request, payload format 2.0, as the integration gets it.

    Args:
        method, path: the request line; ``route_key`` is ``"<method> <path>"`` unless
            given (``"POST /orders/{id}"``), with ``path_parameters`` for its variables.
        body: JSON-encoded unless a ``str``; ``bytes`` are sent base64-encoded.
        headers: added to the usual ones, names lower-cased as API Gateway passes them.
        caller: the IAM principal of an ``AWS_IAM`` route (``None`` for none).
        jwt_claims: the claims of a JWT authorizer instead of IAM.

    Examples:
        >>> event = http_api_event("POST", "/orders", {"sku": "A"},
        ...                        headers={"Idempotency-Key": '"k-1"'})
        >>> event["routeKey"], event["headers"]["idempotency-key"], event["body"]
        ('POST /orders', '"k-1"', '{"sku": "A"}')
        >>> event["requestContext"]["authorizer"]["iam"]["userArn"].endswith("test-client")
        True
    """
    host = f"{api_id}.execute-api.{REGION}.amazonaws.com"
    route = route_key or f"{method} {path}"
    context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": api_id,
        "domainName": host,
        "domainPrefix": api_id,
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "203.0.113.10",
            "userAgent": "python-requests/2.32.3",
        },
        "requestId": base64.b64encode(uuid.uuid4().bytes[:10]).decode(),
        "routeKey": route,
        "stage": stage,
        "time": "15/Jan/2027:08:00:00 +0000",
        "timeEpoch": EPOCH_MS,
    }
    if jwt_claims is not None:
        context["authorizer"] = {"jwt": {"claims": dict(jwt_claims), "scopes": None}}
    elif caller is not None:
        context["authorizer"] = {
            "iam": {
                "accessKey": "ASIAEXAMPLEACCESSKEY",
                "accountId": ACCOUNT_ID,
                "callerId": "AROAEXAMPLEROLEID:test-client",
                "cognitoIdentity": None,
                "principalOrgId": None,
                "userArn": caller,
                "userId": "AROAEXAMPLEROLEID:test-client",
            }
        }
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route,
        "rawPath": path,
        "rawQueryString": _query(query),
        "headers": _headers(body, headers, host),
        "requestContext": context,
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = dict(query)
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if body is not None:
        event["body"], event["isBase64Encoded"] = _body(body)
    return event


def function_url_event(
    method: str,
    path: str = "/",
    body: Any = None,
    *,
    query: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    caller: str | None = None,
    url_id: str = "abcdefghijklmnopqrstuvwxyz0123456",
) -> dict[str, Any]:
    """A function URL request: payload format 2.0, route ``$default``, no stage; the
    IAM ``caller`` when the URL's auth type is ``AWS_IAM``.

    Examples:
        >>> event = function_url_event("GET", "/health")
        >>> event["routeKey"], event["requestContext"]["domainName"].split(".", 1)[1]
        ('$default', 'lambda-url.us-east-1.on.aws')
    """
    event = http_api_event(
        method, path, body, route_key="$default", query=query, headers=headers, caller=caller
    )
    host = f"{url_id}.lambda-url.{REGION}.on.aws"
    event["headers"]["host"] = host
    context = event["requestContext"]
    context.update(apiId=url_id, domainName=host, domainPrefix=url_id, stage="$default")
    return event


def rest_api_event(
    method: str,
    path: str,
    body: Any = None,
    *,
    resource: str | None = None,
    path_parameters: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    caller: str | None = IAM_CALLER,
    stage: str = "prod",
    api_id: str = "1234567890",
) -> dict[str, Any]:
    """An API Gateway REST API request (Lambda proxy integration, payload format 1.0).

    ``resource`` is the resource path with its variables (``/orders/{id}``), ``path``
    itself unless given.

    Examples:
        >>> event = rest_api_event("PUT", "/orders/o-1", {"qty": 2}, resource="/orders/{id}",
        ...                        path_parameters={"id": "o-1"})
        >>> event["httpMethod"], event["resource"], event["pathParameters"]
        ('PUT', '/orders/{id}', {'id': 'o-1'})
    """
    host = f"{api_id}.execute-api.{REGION}.amazonaws.com"
    flat = _headers(body, headers, host)
    text, encoded = (None, False) if body is None else _body(body)
    identity: dict[str, Any] = {
        "accessKey": None,
        "accountId": None,
        "caller": None,
        "sourceIp": "203.0.113.10",
        "user": None,
        "userAgent": "python-requests/2.32.3",
        "userArn": None,
    }
    if caller is not None:
        identity.update(
            accessKey="ASIAEXAMPLEACCESSKEY",
            accountId=ACCOUNT_ID,
            caller="AROAEXAMPLEROLEID:test-client",
            user="AROAEXAMPLEROLEID:test-client",
            userArn=caller,
        )
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": flat,
        "multiValueHeaders": {name: [value] for name, value in flat.items()},
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": ({k: [v] for k, v in query.items()} if query else None),
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": api_id,
            "domainName": host,
            "domainPrefix": api_id,
            "extendedRequestId": base64.b64encode(uuid.uuid4().bytes[:10]).decode(),
            "httpMethod": method,
            "identity": identity,
            "path": f"/{stage}{path}",
            "protocol": "HTTP/1.1",
            "requestId": str(uuid.uuid4()),
            "requestTime": "15/Jan/2027:08:00:00 +0000",
            "requestTimeEpoch": EPOCH_MS,
            "resourceId": "abc123",
            "resourcePath": resource or path,
            "stage": stage,
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


# -- direct invocation --------------------------------------------------------------------


def direct_invocation_event(payload: Any = None, /, **fields: Any) -> Any:
    """What a function invoked directly (SDK ``Invoke``, Step Functions) receives: the
    JSON round trip of ``payload`` (or of ``fields`` as an object), as Lambda decodes it.

    Tuples become lists and non-string keys strings, as they would on the wire; a value
    JSON cannot encode raises ``TypeError`` as the SDK would.

    Examples:
        >>> direct_invocation_event(id="cmd-1", items=("a", "b"))
        {'id': 'cmd-1', 'items': ['a', 'b']}
        >>> direct_invocation_event([1, 2.5])
        [1, 2.5]
    """
    if payload is not None and fields:
        raise TypeError("give a payload or fields, not both")
    return json.loads(json.dumps(fields if payload is None else payload))
