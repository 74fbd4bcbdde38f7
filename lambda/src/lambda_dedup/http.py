"""HTTP: ``Idempotency-Key`` semantics for Powertools' event handler resolvers.

:class:`IdempotencyKey` is a Powertools middleware for API Gateway HTTP APIs (payload
2.0, ``APIGatewayHttpResolver``), REST APIs (``APIGatewayRestResolver``) and function URLs
(``LambdaFunctionUrlResolver``). A route only returns its response; the middleware stores
it and replays it, as the IETF httpapi draft and Stripe specify:

==========================================  ================================================
first request with a key                    handled; its status and body are stored
retry: same key, same payload               the stored status and byte-identical body, with
                                            ``Idempotent-Replayed: true``
same key, different payload                 ``422 idempotency_key_reused``
retry while the first is still in flight    ``409 request_in_progress``, with ``Retry-After``
no key                                      ``400 idempotency_key_missing``
a malformed key, or a request that          ``400 invalid_request``, naming the field;
``parse`` refuses                           nothing is written
a DynamoDB error                            ``503 service_unavailable`` with
                                            ``Retry-After``; the key is released
==========================================  ================================================

Keys are scoped to the caller (:func:`caller`): two principals never share a scope, so
one client never receives another's stored response. A response with a status of 500 or
more is returned but not stored, and releases the key, so that a retry runs again.

Two modes:

* ``mode="claim"`` (default): the key is claimed with a lease as long as the invocation's
  remaining time, the route runs, and its response is stored under the claim's fencing
  token (:attr:`IdempotentRequest.claim`) -- for effects outside DynamoDB, or effects
  that the route writes itself;
* ``mode="effect"``: the route writes nothing; it returns its response and hands its
  DynamoDB writes to :func:`add_effects`. The writes, the key and the stored response
  then go in one ``TransactWriteItems`` (one ``PutItem`` when there is no write): no
  claim, and one request per new request.

:func:`resolve` (or :func:`http_handler`) wraps a resolver for Lambda: a malformed event
is a ``400``, never a bare 500, and every request gets a ``request handled`` log line and
one metric (``RequestsSucceeded``, ``ClientErrors``, ``ServerErrors`` or
``IdempotentReplays``).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.middlewares import BaseMiddlewareHandler
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as NetworkError

from lambda_dedup.deduplicator import Claim, Deduplicator, Outcome
from lambda_dedup.exceptions import (
    REJECTED,
    AlreadyInProgressError,
    EffectConditionFailedError,
    InvalidEventError,
    LeaseLostError,
    PayloadMismatchError,
    parse_or_reject,
)
from lambda_dedup.keys import canonical_json, record_id
from lambda_dedup.runtime import escape_lone_surrogates, logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
    from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

    from lambda_dedup.effects import TransactItem

__all__ = [
    "JSON",
    "KEY_HEADER",
    "KEY_PATTERN",
    "REPLAYED_HEADER",
    "SERVICE_ERRORS",
    "UNSAFE_METHODS",
    "IdempotencyKey",
    "IdempotentRequest",
    "add_effects",
    "caller",
    "current_request",
    "default_parse",
    "envelope_error",
    "error_response",
    "http_handler",
    "idempotency_key",
    "resolve",
]

KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = re.compile(r"^[\x21-\x2b\x2d-\x7e]{1,255}$")
"""Visible ASCII but ``,``: API Gateway joins repeated headers with commas."""
JSON = "application/json"
SERVICE_ERRORS = (ClientError, HTTPClientError, NetworkError)
"""What a ``503`` answers: DynamoDB's errors and the network's (timeouts, connections)."""
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
"""The methods whose requests the middleware deduplicates by default."""

JWT_PRINCIPAL_CLAIMS = ("sub", "client_id", "azp")
"""The claims that name a JWT's principal, in order: the subject, then the OAuth client
(``client_id`` in client-credentials tokens, ``azp`` in OpenID Connect)."""
VOLATILE_AUTHORIZER_FIELDS = frozenset({"integrationLatency"})
"""What a REST API's Lambda authorizer context carries that changes between requests."""


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response[str]:
    """A JSON error response: ``{"error": {"code", "message", "field"?}}``.

    Examples:
        >>> error_response(404, "not_found", "no order 'o-1'").body
        '{"error":{"code":"not_found","message":"no order \\'o-1\\'"}}'
    """
    detail = {"code": code, "message": message}
    if field is not None:
        detail["field"] = field
    # The field may echo a client's key holding a lone surrogate: the body stays sendable.
    body = escape_lone_surrogates(canonical_json({"error": detail}))
    return Response(status, JSON, body, headers=headers)


def caller(event: dict[str, Any]) -> str:
    """Who sent the request, as the scope of its keys; two principals never share one.

    * a JWT (HTTP API JWT authorizer, REST API Cognito authorizer): the issuer with the
      first of ``sub``, ``client_id``, ``azp``, else a SHA-256 digest of every claim;
    * IAM (HTTP and REST APIs, function URLs): the principal's ARN (or caller id), with
      the Cognito identity id for users of an identity pool (who share a role session);
    * a Lambda authorizer: its whole context (no standard field names the caller), less
      what changes per request (a REST API's ``integrationLatency``). The context must
      name the caller (a ``sub``, a user id): a context such as ``{"tier": "gold"}``
      would give all gold callers one scope. With no context at all, a digest of the
      ``Authorization`` header stands for the caller;
    * any other authorizer: everything it passed;
    * ``anonymous`` only when the route has no authorizer at all.

    Examples:
        >>> iam = {"userArn": "arn:aws:iam::1:user/a"}
        >>> caller({"requestContext": {"authorizer": {"iam": iam}}})
        'iam:arn:aws:iam::1:user/a'
        >>> caller({"requestContext": {"http": {"method": "POST"}}})
        'anonymous'
    """
    context = event.get("requestContext")
    context = context if isinstance(context, dict) else {}
    authorizer = context.get("authorizer") or {}
    if not isinstance(authorizer, dict):
        return f"authorizer:{canonical_json(str(authorizer))}"
    jwt = authorizer.get("jwt")
    claims = jwt.get("claims") if isinstance(jwt, dict) else authorizer.get("claims")
    if isinstance(claims, dict) and claims:
        issuer = str(claims.get("iss", ""))
        for name in JWT_PRINCIPAL_CLAIMS:
            if claims.get(name):
                return f"jwt:{canonical_json([issuer, name, str(claims[name])])}"
        # No claim names the principal: a stable digest of them all (never the claims
        # themselves, which may be personal data, in the record ids).
        return f"jwt:sha256:{_digest(canonical_json(claims))}"
    iam = authorizer.get("iam") or {}
    principal = iam.get("userArn") or iam.get("callerId") if isinstance(iam, dict) else None
    if principal:
        cognito = iam.get("cognitoIdentity")
        return _iam_scope(
            principal, cognito.get("identityId") if isinstance(cognito, dict) else None
        )
    if "lambda" in authorizer:  # an HTTP API's Lambda authorizer
        lambda_context = authorizer.get("lambda")
        if lambda_context:
            # At worst, one caller gets several scopes; two callers never share one.
            return f"lambda:{canonical_json(lambda_context)}"
        # No context names the caller: the identity it sent (Authorization, the default
        # identity source) tells callers apart, as a digest.
        headers = event.get("headers")
        token = _header(headers if isinstance(headers, dict) else {}, "authorization")
        return f"lambda:token:{_digest(token if isinstance(token, str) else '')}"
    stable = {k: v for k, v in authorizer.items() if k not in VOLATILE_AUTHORIZER_FIELDS}
    if "principalId" in stable:  # a REST API's Lambda authorizer
        return f"lambda:{canonical_json(stable)}"
    if stable:
        return f"authorizer:{canonical_json(stable)}"
    identity = context.get("identity")  # a REST API route with AWS_IAM authorization
    identity = identity if isinstance(identity, dict) else {}
    user = identity.get("userArn")
    if isinstance(user, str) and user:
        return _iam_scope(user, identity.get("cognitoIdentityId"))
    return "anonymous"


def _iam_scope(principal: str, cognito_identity: Any) -> str:
    """An IAM caller's scope. Users of a Cognito identity pool share the pool's role
    session, so their identity id is part of the scope."""
    if isinstance(cognito_identity, str) and cognito_identity:
        return f"iam:{principal}#cognito:{cognito_identity}"
    return f"iam:{principal}"


def _header(headers: dict[str, Any], name: str) -> Any:
    """The value of header ``name`` (any case), or ``None``."""
    return next((v for k, v in headers.items() if str(k).lower() == name.lower()), None)


def _digest(text: str) -> str:
    """SHA-256 of ``text``, lone surrogates included (they may come from a client)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def idempotency_key(headers: dict[str, str]) -> str | None:
    """The request's key, unquoted (the draft's structured-field string); ``None`` if absent.

    Examples:
        >>> idempotency_key({"idempotency-key": '"8e03978e-40d5"'})
        '8e03978e-40d5'
        >>> idempotency_key({}) is None
        True
    """
    value: str | None = _header(headers, KEY_HEADER)
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


@dataclass
class IdempotentRequest:
    """The request a route is handling under an ``Idempotency-Key``."""

    key: str
    """The client's key."""
    record_id: str
    """Its record id in the idempotency table: the caller's scope and the key."""
    payload: Any
    """What ``parse`` returned for the request (the validated body)."""
    claim: Claim | None = None
    """The claim in claim mode: its ``token`` fences the route's work downstream."""
    effects: list[TransactItem] = field(default_factory=list)
    """The writes handed to :func:`add_effects` in effect mode."""

    @property
    def token(self) -> str:
        """The claim's fencing token (claim mode); ``LookupError`` in effect mode, which
        holds no claim."""
        if self.claim is None:
            raise LookupError("effect mode holds no claim, so there is no fencing token")
        return self.claim.token


_current: ContextVar[IdempotentRequest | None] = ContextVar("lambda_dedup_request", default=None)


def current_request() -> IdempotentRequest:
    """The request the current route handles under :class:`IdempotencyKey`.

    Raises ``LookupError`` outside such a route.

    Examples:
        In a route::

            @app.post("/orders", middlewares=[idempotency])
            def create_order():
                request = current_request()
                order = request.payload  # what parse returned
                charge(order, idempotency_token=request.claim.token)
    """
    found = _current.get()
    if found is None:
        raise LookupError("no request is being handled under an Idempotency-Key")
    return found


def add_effects(*items: TransactItem) -> None:
    """Hand DynamoDB writes to the middleware, in ``mode="effect"``: they are written with
    the stored response, in one transaction, only if the request is new.

    Examples:
        In a route::

            @app.post("/orders", middlewares=[IdempotencyKey(dedup, mode="effect")])
            def create_order():
                order = current_request().payload
                add_effects(effects.put("orders", order))
                return Response(201, "application/json", json.dumps(order))
    """
    current_request().effects.extend(items)


def default_parse(event: Any) -> Any:
    """The payload of a request by default: its decoded body, as JSON when it is JSON.

    Examples:
        >>> from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
        >>> default_parse(APIGatewayProxyEventV2({"body": '{"a": 1}', "headers": {}}))
        {'a': 1}
    """
    import json

    body = event.decoded_body
    if body is None or body == "":
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body


def _default_serializer(body: Any) -> str:
    import json

    from aws_lambda_powertools.shared.json_encoder import Encoder

    return json.dumps(body, separators=(",", ":"), cls=Encoder)


def _query(event: dict[str, Any]) -> Any:
    """The query string of a request: payload 2.0's raw text, or a REST API's
    multi-value parameters."""
    if "httpMethod" in event:
        found = event.get("multiValueQueryStringParameters") or event.get("queryStringParameters")
        return found or None
    return event.get("rawQueryString") or None


class _NotStored(Exception):
    """A route's 5xx response: returned to the client, not stored, the key released."""

    def __init__(self, response: Response[Any]) -> None:
        super().__init__(response.status_code)
        self.response = response


def _stored(response: Response[Any], serializer: Callable[[Any], str]) -> dict[str, Any]:
    """The response as JSON data: its body as the resolver would serialise it (a dict
    with ``Decimal`` numbers, say), its headers, cookies and compression."""
    body = response.body
    if not isinstance(body, str | bytes | None):
        body = serializer(body)
    encoded = isinstance(body, bytes)
    headers = {
        name: value if isinstance(value, str) else list(value)
        for name, value in (response.headers or {}).items()
    }
    return {
        "status": response.status_code,
        "body": base64.b64encode(body).decode("ascii") if isinstance(body, bytes) else body,
        "base64": encoded,
        "headers": headers,
        "cookies": [str(cookie) for cookie in response.cookies or []],
        "compress": response.compress,
    }


def _replayed(stored: dict[str, Any], replayed: bool) -> Response[Any]:
    body = stored.get("body")
    if stored.get("base64") and isinstance(body, str):
        body = base64.b64decode(body)
    headers = dict(stored.get("headers") or {})
    if replayed:
        headers[REPLAYED_HEADER] = "true"
    # The resolver writes each cookie with str(): the stored text serves as it is.
    cookies: Any = list(stored.get("cookies") or [])
    return Response(
        stored["status"],
        None,
        body,
        headers=headers,
        cookies=cookies,
        compress=stored.get("compress"),
    )


class IdempotencyKey(BaseMiddlewareHandler):  # type: ignore[type-arg]
    """A Powertools middleware that gives requests ``Idempotency-Key`` semantics.

    Args:
        dedup: the namespace of these keys (``"payments"``: the deduplicator is then
            :func:`lambda_dedup.runtime.deduplicator` of it, built from the environment
            on the first request); or a deduplicator; or a function that returns one,
            called per request.
        parse: validates the request before anything is written and returns its payload
            (:attr:`IdempotentRequest.payload`): an
            :class:`~lambda_dedup.exceptions.InvalidEventError` (or any error) is a
            ``400 invalid_request``. A reuse of the key must repeat the method, the path
            and this payload. Default: the body, as JSON when it is JSON.
        mode: ``"claim"`` (default) or ``"effect"`` (see the module's documentation).
        required: answer ``400 idempotency_key_missing`` to a request without a key;
            with ``False`` such a request runs as it is, without deduplication.
        methods: the methods it deduplicates; other requests pass through.

    Examples:
        Every POST of an HTTP API, in claim mode::

            from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
            from lambda_dedup.http import IdempotencyKey, current_request, http_handler

            app = APIGatewayHttpResolver()
            app.use(middlewares=[IdempotencyKey("payments", parse=parse_payment)])

            @app.post("/payments")
            def pay():
                request = current_request()
                receipt = provider.charge(request.payload, key=request.claim.token)
                return Response(201, "application/json", json.dumps(receipt))

            handler = http_handler(app)
    """

    def __init__(
        self,
        dedup: str | Deduplicator | Callable[[], Deduplicator],
        *,
        parse: Callable[[Any], Any] | None = None,
        mode: Literal["claim", "effect"] = "claim",
        required: bool = True,
        methods: Sequence[str] = UNSAFE_METHODS,
    ) -> None:
        if mode not in ("claim", "effect"):
            raise ValueError(f"mode must be 'claim' or 'effect', not {mode!r}")
        if isinstance(dedup, str):
            record_id(dedup, "-")  # a malformed namespace fails here, not per request
        self._dedup = dedup
        self.parse = default_parse if parse is None else parse
        self.mode = mode
        self.required = required
        self.methods = frozenset(method.upper() for method in methods)

    @property
    def dedup(self) -> Deduplicator:
        """The deduplicator of the requests."""
        found = self._dedup
        if isinstance(found, str):
            from lambda_dedup.runtime import deduplicator

            return deduplicator(found)
        return found if isinstance(found, Deduplicator) else found()

    def handler(self, app: ApiGatewayResolver, next_middleware: NextMiddleware) -> Response[Any]:
        """Handle one request (Powertools calls it for each request of its routes)."""
        event = app.current_event
        method = str(event.http_method).upper()
        if method not in self.methods:
            return next_middleware(app)
        try:
            key = idempotency_key(event.headers or {})
        except InvalidEventError as failure:
            return _rejected(failure)
        if key is None:
            if not self.required:
                return next_middleware(app)
            message = f"{method} needs an {KEY_HEADER} header"
            return error_response(400, "idempotency_key_missing", message, field=KEY_HEADER)
        try:
            payload = parse_or_reject(lambda: self.parse(event), "the request")
            # surrogatepass: an authorizer's claim may hold a lone surrogate; two callers
            # still never share a scope (the key is ASCII, checked above).
            scope = quote(caller(event.raw_event), safe="", errors="surrogatepass")
            scoped = f"{scope}/{quote(key, safe='')}"
            dedup = self.dedup
            request = IdempotentRequest(key, dedup.record_id(scoped), payload)
            fingerprinted = {
                "method": method,
                "path": event.path,
                "query": _query(event.raw_event),
                "payload": payload,
            }
            outcome = self._run(dedup, app, next_middleware, scoped, request, fingerprinted)
        except _NotStored as failure:
            return failure.response
        except PayloadMismatchError as failure:
            logger.info("rejected request", extra={"reason": str(failure), "field": KEY_HEADER})
            message = f"this {KEY_HEADER} was already used with a different request"
            return error_response(422, "idempotency_key_reused", message, field=KEY_HEADER)
        except REJECTED as failure:
            return _rejected(failure)
        except (AlreadyInProgressError, LeaseLostError) as failure:
            retry_ms = getattr(failure, "retry_after_ms", 1000)
            seconds = str(max(1, -(-retry_ms // 1000)))
            logger.info("request in progress", extra={"reason": str(failure)})
            message = f"a request with this {KEY_HEADER} is still being processed; retry later"
            return error_response(
                409, "request_in_progress", message, headers={"Retry-After": seconds}
            )
        except EffectConditionFailedError as failure:  # effect mode: nothing was written
            logger.info("request conflicts", extra={"reason": str(failure)})
            message = "the request conflicts with the current state; nothing was written"
            return error_response(409, "conflict", message)
        except SERVICE_ERRORS as failure:
            logger.warning("request failed", extra={"reason": str(failure)}, exc_info=True)
            message = "the request could not be completed; retry it with the same key"
            return error_response(503, "service_unavailable", message, headers={"Retry-After": "1"})
        return _replayed(outcome.result, outcome.duplicate)

    def _run(
        self,
        dedup: Deduplicator,
        app: ApiGatewayResolver,
        next_middleware: NextMiddleware,
        scoped: str,
        request: IdempotentRequest,
        fingerprinted: Any,
    ) -> Outcome[Any]:
        def respond() -> dict[str, Any]:
            token = _current.set(request)
            try:
                response = next_middleware(app)
            finally:
                _current.reset(token)
            if response.status_code >= 500:
                raise _NotStored(response)  # claim mode: run_once releases the key
            serializer = getattr(app, "_serializer", None) or _default_serializer
            return _stored(response, serializer)

        if self.mode == "claim":

            def work(claim: Claim) -> dict[str, Any]:
                request.claim = claim
                return respond()

            lease = (
                app.lambda_context.get_remaining_time_in_millis() if app.lambda_context else None
            )
            return dedup.run_once(scoped, work, payload=fingerprinted, lease_ms=lease)
        stored = respond()
        if request.effects:
            return dedup.transact_once(
                scoped, request.effects, payload=fingerprinted, result=stored
            )
        return dedup.put_once(scoped, payload=fingerprinted, result=stored)


def _rejected(failure: Exception) -> Response[str]:
    field = getattr(failure, "field", None)
    logger.info("rejected request", extra={"reason": str(failure), "field": field})
    return error_response(400, "invalid_request", str(failure), field=field)


def envelope_error(event: Any) -> InvalidEventError | None:
    """What a resolver reads before any route runs, and could not read; ``None`` if the
    event is readable.

    Those are ``headers`` that are not an object of strings, and a method or a path that
    is not a string (``requestContext.http.method`` and ``rawPath`` in payload 2.0 and
    function URLs, ``httpMethod`` and ``path`` in a REST API's). The resolver would raise,
    and API Gateway answer a bare 500.

    Examples:
        >>> envelope_error({"headers": {"a": 1}}).field
        'headers'
    """
    if not isinstance(event, dict):
        return InvalidEventError("the event must be a JSON object")
    headers = event.get("headers")
    if headers is not None and not (
        isinstance(headers, dict) and all(isinstance(value, str) for value in headers.values())
    ):
        return InvalidEventError("'headers' must be an object of strings", "headers")
    if "httpMethod" in event:  # a REST API's payload (version 1.0)
        for name in ("httpMethod", "path"):
            if not isinstance(event.get(name), str):
                return InvalidEventError(f"{name!r} must be a string", name)
        return None
    context = event.get("requestContext")
    http = context.get("http") if isinstance(context, dict) else None
    if not isinstance(http, dict) or not isinstance(http.get("method"), str):
        name = "requestContext.http.method"
        return InvalidEventError(f"{name!r} must be a string", name)
    if not isinstance(event.get("rawPath"), str):
        return InvalidEventError("'rawPath' must be a string", "rawPath")
    return None


def resolve(app: ApiGatewayResolver, event: Any, context: LambdaContext) -> dict[str, Any]:
    """``app.resolve(event, context)``, with a ``400`` for an event it could not read, a
    JSON ``500`` (logged ``request crashed``, with the traceback; none in the body) for an
    exception that no exception handler of ``app`` took, and a ``request handled`` log
    line and one metric per request.

    Examples:
        ::

            def handler(event, context):
                return resolve(app, event, context)
    """
    malformed = envelope_error(event)
    refused: Response[str] | None = None
    if malformed is not None:
        refused = _rejected(malformed)
    else:
        try:
            response: dict[str, Any] = app.resolve(event, context)
        except Exception as failure:  # a route's bug, and no exception handler for it
            logger.exception(
                "request crashed", extra={"reason": f"{type(failure).__name__}: {failure}"}
            )
            message = "the request could not be completed"
            refused = error_response(500, "internal_error", message)
    if refused is not None:
        response = {
            "statusCode": refused.status_code,
            "body": refused.body,
            "isBase64Encoded": False,
            "headers": dict(refused.headers),
        }
        if not (isinstance(event, dict) and "httpMethod" in event):
            response["cookies"] = []
    status = int(response["statusCode"])
    single = (response.get("headers") or {}).get(REPLAYED_HEADER)
    multiple = (response.get("multiValueHeaders") or {}).get(REPLAYED_HEADER) or []
    replayed = single == "true" or "true" in multiple  # REST APIs answer multi-value headers
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
            "route": _route(event),
            "status": status,
            "replayed": replayed,
        },
    )
    return response


def _route(event: Any) -> str | None:
    """The route of a request: payload 2.0's ``routeKey``, a REST API's method and
    resource."""
    if not isinstance(event, dict):
        return None
    if "httpMethod" in event:
        return f"{event.get('httpMethod')} {event.get('resource')}"
    route = event.get("routeKey")
    return route if isinstance(route, str) else None


def http_handler(app: ApiGatewayResolver) -> Callable[[Any, Any], dict[str, Any]]:
    """The Lambda handler of ``app``: :func:`resolve`, with the Lambda context in the log
    lines and the metrics flushed after each request.

    Examples:
        ::

            app = APIGatewayHttpResolver()
            app.use(middlewares=[IdempotencyKey("orders")])
            handler = http_handler(app)
    """

    @metrics.log_metrics
    @logger.inject_lambda_context
    def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
        return resolve(app, event, context)

    return handler
