"""API Gateway (HTTP API, payload 2.0): profiles, created once per ``Idempotency-Key``.

Routes:

* ``POST /profiles`` creates a profile (:mod:`lambda_dedup.reference.domain`) if its ``user_id`` is
  new: ``201`` with the stored profile and its ``created_at``, else ``409 profile_exists``.
* ``GET /profiles/{user_id}`` reads one: ``200``, or ``404 not_found``.

``POST`` requires an ``Idempotency-Key`` header. Its semantics (replay with
``Idempotent-Replayed``, ``422`` for another payload, ``409`` with ``Retry-After`` while the
first request is in flight, ``400`` with no key, ``503`` with the key released on a
DynamoDB error, keys scoped to the caller) are the toolkit's
:class:`lambda_dedup.http.IdempotencyKey` middleware, in claim mode: this module only
validates the profile (``400 invalid_request`` naming the field, before anything is
written) and writes it. Every error is a JSON body ``{"error": {"code", "message",
"field"?}}``; no client error is a 500 and no response carries a stack trace.
"""

from __future__ import annotations

import binascii
import datetime as dt
from typing import Any
from urllib.parse import quote, unquote

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from lambda_dedup import config, effects
from lambda_dedup.exceptions import InvalidEventError
from lambda_dedup.http import (
    JSON,
    KEY_HEADER,
    REPLAYED_HEADER,
    SERVICE_ERRORS,
    IdempotencyKey,
    caller,
    current_request,
    envelope_error,
    error_response,
    idempotency_key,
    resolve,
)
from lambda_dedup.keys import canonical_json
from lambda_dedup.reference.domain import parse_json, parse_profile
from lambda_dedup.reference.tables import PROFILES_TABLE_ENV
from lambda_dedup.runtime import logger, metrics, store

__all__ = [
    "KEY_HEADER",
    "REPLAYED_HEADER",
    "app",
    "caller",
    "create_profile",
    "envelope_error",
    "handler",
    "idempotency_key",
    "path_user_id",
]

NAMESPACE = "api-profiles"
CREATED_BY = "created_by_request"
"""Profile attribute naming the request that created it; never returned to clients."""
MAX_USER_ID = 128
"""As :func:`~lambda_dedup.reference.domain.parse_profile` allows."""


def parse_request(event: APIGatewayProxyEventV2) -> dict[str, Any]:
    """The validated profile of a ``POST /profiles`` request; InvalidEventError naming
    the field otherwise (a ``400``, before anything is written)."""
    if not isinstance(event.body, str | None):
        raise InvalidEventError("the request body must be text", "body")
    try:
        body = event.decoded_body or ""
    except (ValueError, binascii.Error) as failure:  # base64 that is not UTF-8 text
        raise InvalidEventError(
            f"the request body is not UTF-8 text: {failure}", "body"
        ) from failure
    return parse_profile(parse_json(body, "the request body", "body"))


app = APIGatewayHttpResolver()
idempotency = IdempotencyKey(NAMESPACE, parse=parse_request)


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in item.items() if name != CREATED_BY}


def _created(item: dict[str, Any]) -> Response[str]:
    location = f"/profiles/{quote(item['user_id'], safe='')}"
    return Response(201, JSON, canonical_json(_public(item)), headers={"Location": location})


def create_profile(profile: dict[str, Any], request: str) -> Response[str]:
    """Write ``profile`` if its ``user_id`` is new; return the response.

    If the profile exists because this very request (``request``, its record id) wrote it
    before its claim was lost, the original ``201`` is rebuilt from the stored item.
    """
    table = config.required(PROFILES_TABLE_ENV)
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
        return error_response(
            409, "profile_exists", f"profile {profile['user_id']!r} already exists"
        )
    return _created(item)


@app.post("/profiles", middlewares=[idempotency])
def post_profile() -> Response[str]:
    request = current_request()
    return create_profile(request.payload, request.record_id)


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
    table = config.required(PROFILES_TABLE_ENV)
    found = store().client.get_item(
        TableName=table, Key=effects.serialize({"user_id": user_id}), ConsistentRead=True
    )
    if "Item" not in found:
        return error_response(404, "not_found", f"no profile {user_id!r}")
    item = effects.deserialize(found["Item"])
    return Response(200, JSON, canonical_json(_public(item)))


@app.not_found
def not_found(_: NotFoundError) -> Response[str]:
    event = app.current_event
    return error_response(
        404, "not_found", f"no route {event.request_context.http.method} {event.path}"
    )


@app.exception_handler(InvalidEventError)  # type: ignore[untyped-decorator]
def invalid_request(failure: InvalidEventError) -> Response[str]:
    logger.info("rejected request", extra={"reason": str(failure), "field": failure.field})
    return error_response(400, "invalid_request", str(failure), field=failure.field)


@app.exception_handler(list(SERVICE_ERRORS))  # type: ignore[untyped-decorator]
def unavailable(failure: Exception) -> Response[str]:
    logger.warning("request failed", extra={"reason": str(failure)}, exc_info=True)
    message = "the request could not be completed; retry it"
    return error_response(503, "service_unavailable", message, headers={"Retry-After": "1"})


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]
def internal(failure: Exception) -> Response[str]:
    logger.exception("request crashed", extra={"reason": f"{type(failure).__name__}: {failure}"})
    return error_response(500, "internal_error", "the request could not be completed")


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)
