"""API Gateway (HTTP API, payload 2.0): profiles, created once per ``Idempotency-Key``.

Routes:

* ``POST /profiles`` creates a profile (:mod:`lambda_dedup.domain`) if its ``user_id`` is
  new: ``201`` with the stored profile and its ``created_at``, else ``409 profile_exists``.
* ``GET /profiles/{user_id}`` reads one: ``200``, or ``404 not_found``.

``POST`` requires an ``Idempotency-Key`` header (a token or a quoted string of 1-255
visible ASCII characters, no comma), as the IETF httpapi draft and Stripe specify it:

==========================================  ================================================
first request with a key                    handled; its status and body are stored
retry: same key, same payload               the stored status and byte-identical body, with
                                            ``Idempotent-Replayed: true``
same key, different payload                 ``422 idempotency_key_reused``
retry while the first is still in flight    ``409 request_in_progress``, with ``Retry-After``
no key                                      ``400 idempotency_key_missing``
invalid JSON or an invalid profile          ``400 invalid_request``, naming the field
==========================================  ================================================

Keys are scoped to the caller -- the IAM principal or the JWT's issuer and subject when the
route has an authorizer, one shared scope when it has none -- so that one client never
receives another's stored response. A request that fails validation stores nothing. The
request runs in claim mode, leased for the invocation's remaining time; a DynamoDB error
releases the claim and answers ``503`` with ``Retry-After``, so that the client retries
with the same key. Every error is a JSON body ``{"error": {"code", "message", "field"?}}``;
no client error is a 500 and no response carries a stack trace.
"""

from __future__ import annotations

import binascii
import datetime as dt
import hashlib
import re
from typing import Any
from urllib.parse import quote, unquote

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from lambda_dedup import config, effects
from lambda_dedup.deduplicator import Claim
from lambda_dedup.domain import parse_json, parse_profile
from lambda_dedup.exceptions import (
    AlreadyInProgressError,
    InvalidEventError,
    LeaseLostError,
    PayloadMismatchError,
)
from lambda_dedup.handlers._runtime import (
    deduplicator,
    escape_lone_surrogates,
    logger,
    metrics,
    store,
)
from lambda_dedup.keys import canonical_json

NAMESPACE = "api-profiles"
KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = re.compile(r"^[\x21-\x2b\x2d-\x7e]{1,255}$")
"""Visible ASCII but ``,``: API Gateway joins repeated headers with commas."""
CREATED_BY = "created_by_request"
"""Profile attribute naming the request that created it; never returned to clients."""
JSON = "application/json"
MAX_USER_ID = 128
"""As :func:`~lambda_dedup.domain.parse_profile` allows."""

app = APIGatewayHttpResolver()


def error(
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response[str]:
    """A JSON error response: ``{"error": {"code", "message", "field"?}}``."""
    detail = {"code": code, "message": message}
    if field is not None:
        detail["field"] = field
    # The field may echo a client's key holding a lone surrogate: the body stays sendable.
    body = escape_lone_surrogates(canonical_json({"error": detail}))
    return Response(status, JSON, body, headers=headers)


JWT_PRINCIPAL_CLAIMS = ("sub", "client_id", "azp")
"""The claims that name a JWT's principal, in order: the subject, then the OAuth client
(``client_id`` in client-credentials tokens, ``azp`` in OpenID Connect)."""


def caller(event: dict[str, Any]) -> str:
    """Who sent the request, as the scope of its keys; two principals never share one.

    * JWT: the issuer with the first of ``sub``, ``client_id``, ``azp``, else a SHA-256
      digest of the whole claim set;
    * IAM: the principal's ARN (or caller id);
    * a Lambda authorizer: its whole context (no standard field names the caller);
    * any other authorizer: everything it passed;
    * ``anonymous`` only when the route has no authorizer at all.
    """
    context = event.get("requestContext")
    authorizer = (context.get("authorizer") if isinstance(context, dict) else None) or {}
    jwt = authorizer.get("jwt") if isinstance(authorizer, dict) else None
    claims = jwt.get("claims") if isinstance(jwt, dict) else None
    if isinstance(claims, dict) and claims:
        issuer = str(claims.get("iss", ""))
        for name in JWT_PRINCIPAL_CLAIMS:
            if claims.get(name):
                return f"jwt:{canonical_json([issuer, name, str(claims[name])])}"
        # No claim names the principal: a stable digest of them all (never the claims
        # themselves, which may be personal data, in the record ids).
        text = canonical_json(claims).encode("utf-8", "surrogatepass")  # lone ones too
        digest = hashlib.sha256(text).hexdigest()
        return f"jwt:sha256:{digest}"
    if not isinstance(authorizer, dict):
        return f"authorizer:{canonical_json(str(authorizer))}"
    iam = authorizer.get("iam") or {}
    principal = iam.get("userArn") or iam.get("callerId") if isinstance(iam, dict) else None
    if principal:
        return f"iam:{principal}"
    lambda_context = authorizer.get("lambda")
    if lambda_context:
        # At worst, one caller gets several scopes; two callers never share one.
        return f"lambda:{canonical_json(lambda_context)}"
    if authorizer:
        return f"authorizer:{canonical_json(authorizer)}"
    return "anonymous"


def idempotency_key(headers: dict[str, str]) -> str | None:
    """The request's key, unquoted (the draft's structured-field string); ``None`` if absent."""
    value = next((v for k, v in headers.items() if k.lower() == KEY_HEADER.lower()), None)
    if value is None:
        return None
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if not KEY_PATTERN.fullmatch(value):
        raise InvalidEventError(
            f"{KEY_HEADER} must be 1-255 visible ASCII characters without ','", KEY_HEADER
        )
    return value


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in item.items() if name != CREATED_BY}


def _created(item: dict[str, Any]) -> dict[str, Any]:
    location = f"/profiles/{quote(item['user_id'], safe='')}"
    return {"status": 201, "body": canonical_json(_public(item)), "headers": {"Location": location}}


def create_profile(profile: dict[str, Any], request: str) -> dict[str, Any]:
    """Write ``profile`` if its ``user_id`` is new; return the response to store.

    If the profile exists because this very request (``request``, its record id) wrote it
    before its claim was lost, the original ``201`` is rebuilt from the stored item.
    """
    table = config.required(config.PROFILES_TABLE_ENV)
    created_at = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
    item = {**profile, "created_at": created_at, CREATED_BY: request}
    try:
        store().client.put_item(
            TableName=table,
            Item=effects.serialize(item),
            ConditionExpression="attribute_not_exists(user_id)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as failure:
        if failure.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        stored: dict[str, Any] = failure.response.get("Item") or {}  # type: ignore[assignment]
        old = effects.deserialize(stored)
        if old.get(CREATED_BY) == request:
            return _created(old)
        response = error(409, "profile_exists", f"profile {profile['user_id']!r} already exists")
        return {"status": response.status_code, "body": response.body, "headers": {}}
    return _created(item)


@app.post("/profiles")
def post_profile() -> Response[str]:
    event = app.current_event
    key = idempotency_key(event.headers or {})
    if key is None:
        return error(
            400, "idempotency_key_missing", f"POST needs an {KEY_HEADER} header", field=KEY_HEADER
        )
    if not isinstance(event.body, str | None):
        raise InvalidEventError("the request body must be text", "body")
    try:
        body = event.decoded_body or ""
    except (ValueError, binascii.Error) as failure:  # base64 that is not UTF-8 text
        raise InvalidEventError(
            f"the request body is not UTF-8 text: {failure}", "body"
        ) from failure
    profile = parse_profile(parse_json(body, "the request body", "body"))
    dedup = deduplicator(NAMESPACE)
    # surrogatepass: an authorizer's claim may hold a lone surrogate; two callers still
    # never share a scope (the key is ASCII, checked above).
    scope = quote(caller(event.raw_event), safe="", errors="surrogatepass")
    scoped = f"{scope}/{quote(key, safe='')}"
    request = dedup.record_id(scoped)

    def work(claim: Claim) -> dict[str, Any]:
        return create_profile(profile, request)

    outcome = dedup.run_once(
        scoped,
        work,
        payload={"route": "POST /profiles", "profile": profile},
        lease_ms=app.lambda_context.get_remaining_time_in_millis(),
    )
    stored: dict[str, Any] = outcome.result
    headers = dict(stored.get("headers") or {})
    if outcome.duplicate:
        headers[REPLAYED_HEADER] = "true"
    return Response(stored["status"], JSON, stored["body"], headers=headers)


def path_user_id(raw: str) -> str:
    """The ``user_id`` of ``GET /profiles/{user_id}``, decoded exactly once.

    API Gateway passes it decoded in ``pathParameters``; without them (another front end,
    a hand-made event) the route's match on the percent-encoded ``rawPath`` is decoded
    here. ``unquote``, not ``unquote_plus``: in a path ``+`` is a literal plus. The
    Location of a created profile encodes every reserved character (``/`` as ``%2F``) so
    that the one-segment route matches it.
    """
    parameters = app.current_event.path_parameters
    decoded = parameters.get("user_id") if isinstance(parameters, dict) else None
    return decoded if isinstance(decoded, str) else unquote(raw)


@app.get("/profiles/<user_id>")
def get_profile(user_id: str) -> Response[str]:
    user_id = path_user_id(user_id)
    if not 1 <= len(user_id) <= MAX_USER_ID:
        raise InvalidEventError(f"'user_id' must be 1-{MAX_USER_ID} characters", "user_id")
    table = config.required(config.PROFILES_TABLE_ENV)
    found = store().client.get_item(
        TableName=table, Key=effects.serialize({"user_id": user_id}), ConsistentRead=True
    )
    if "Item" not in found:
        return error(404, "not_found", f"no profile {user_id!r}")
    item = effects.deserialize(found["Item"])
    return Response(200, JSON, canonical_json(_public(item)))


@app.not_found
def not_found(_: NotFoundError) -> Response[str]:
    event = app.current_event
    return error(404, "not_found", f"no route {event.request_context.http.method} {event.path}")


@app.exception_handler(InvalidEventError)  # type: ignore[untyped-decorator]
def invalid_request(failure: InvalidEventError) -> Response[str]:
    logger.info("rejected request", extra={"reason": str(failure), "field": failure.field})
    return error(400, "invalid_request", str(failure), field=failure.field)


@app.exception_handler(PayloadMismatchError)  # type: ignore[untyped-decorator]
def key_reused(failure: PayloadMismatchError) -> Response[str]:
    logger.info("rejected request", extra={"reason": str(failure), "field": KEY_HEADER})
    message = f"this {KEY_HEADER} was already used with a different request"
    return error(422, "idempotency_key_reused", message, field=KEY_HEADER)


@app.exception_handler([AlreadyInProgressError, LeaseLostError])  # type: ignore[untyped-decorator]
def in_progress(failure: AlreadyInProgressError | LeaseLostError) -> Response[str]:
    retry_ms = getattr(failure, "retry_after_ms", 1000)
    seconds = max(1, -(-retry_ms // 1000))
    logger.info("request in progress", extra={"reason": str(failure)})
    message = f"a request with this {KEY_HEADER} is still being processed; retry later"
    return error(409, "request_in_progress", message, headers={"Retry-After": str(seconds)})


@app.exception_handler(ClientError)  # type: ignore[untyped-decorator]
def unavailable(failure: ClientError) -> Response[str]:
    logger.warning("request failed", extra={"reason": str(failure)}, exc_info=True)
    message = "the request could not be completed; retry it with the same key"
    return error(503, "service_unavailable", message, headers={"Retry-After": "1"})


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]
def internal(failure: Exception) -> Response[str]:
    logger.exception("request crashed", extra={"reason": f"{type(failure).__name__}: {failure}"})
    return error(500, "internal_error", "the request could not be completed")


def envelope_error(event: Any) -> InvalidEventError | None:
    """What the resolver reads before any route runs, and could not read: ``headers`` that
    are not an object of strings, a ``requestContext.http.method`` or a ``rawPath`` that is
    not a string. The resolver would raise, and API Gateway answer a bare 500."""
    if not isinstance(event, dict):
        return InvalidEventError("the event must be a JSON object")
    headers = event.get("headers")
    if headers is not None and not (
        isinstance(headers, dict) and all(isinstance(value, str) for value in headers.values())
    ):
        return InvalidEventError("'headers' must be an object of strings", "headers")
    context = event.get("requestContext")
    http = context.get("http") if isinstance(context, dict) else None
    if not isinstance(http, dict) or not isinstance(http.get("method"), str):
        field = "requestContext.http.method"
        return InvalidEventError(f"{field!r} must be a string", field)
    if not isinstance(event.get("rawPath"), str):
        return InvalidEventError("'rawPath' must be a string", "rawPath")
    return None


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    malformed = envelope_error(event)
    if malformed is None:
        response = app.resolve(event, context)
    else:
        refused = invalid_request(malformed)
        response = {
            "statusCode": refused.status_code,
            "body": refused.body,
            "isBase64Encoded": False,
            "headers": dict(refused.headers),
            "cookies": [],
        }
    status = int(response["statusCode"])
    replayed = (response.get("headers") or {}).get(REPLAYED_HEADER) == "true"
    name = (
        "IdempotentReplays"
        if replayed
        else "RequestsSucceeded"
        if status < 400
        else "ClientErrors"
        if status < 500
        else "ServerErrors"
    )
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    logger.info(
        "request handled",
        extra={
            "route": event.get("routeKey") if isinstance(event, dict) else None,
            "status": status,
            "replayed": replayed,
        },
    )
    return response
