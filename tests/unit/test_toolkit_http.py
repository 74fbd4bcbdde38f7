"""The Idempotency-Key middleware (lambda_dedup.http) on Powertools' resolvers, with a
team's own "payments" routes, not the reference domain."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import (
    APIGatewayHttpResolver,
    APIGatewayRestResolver,
    LambdaFunctionUrlResolver,
    Response,
)
from aws_lambda_powertools.shared.cookies import Cookie
from botocore.exceptions import ClientError, ReadTimeoutError
from support.aws import ItemReader
from support.lambda_context import lambda_context
from support.logs import LogLines
from support.push_events import http_request

from lambda_dedup import Deduplicator, InMemoryStore, InvalidEventError, InvalidKeyError, effects
from lambda_dedup.http import (
    IdempotencyKey,
    add_effects,
    caller,
    current_request,
    http_handler,
)
from lambda_dedup.testing import events

PAYMENTS = "/payments"


def parse_payment(event: Any) -> dict[str, Any]:
    body = json.loads(event.body or "")
    if not isinstance(body.get("amount"), int) or body["amount"] <= 0:
        raise InvalidEventError("'amount' must be a positive whole number", "amount")
    return dict(body)


class Payments:
    """A team's HTTP API: POST /payments charges once per Idempotency-Key."""

    def __init__(self, dedup: Deduplicator, **options: Any) -> None:
        self.charges: list[dict[str, Any]] = []
        self.fail_with: Exception | Response[str] | None = None
        self.during: Callable[[], None] | None = None
        self.app = APIGatewayHttpResolver()
        self.app.use(middlewares=[IdempotencyKey(dedup, parse=parse_payment, **options)])
        self.app.post(PAYMENTS)(self.pay)
        self.handler = http_handler(self.app)

    def pay(self) -> Response[str]:
        request = current_request()
        if self.during is not None:
            self.during()
        if isinstance(self.fail_with, Exception):
            raise self.fail_with
        if self.fail_with is not None:
            return self.fail_with
        charge = {"id": f"ch-{len(self.charges) + 1}", **request.payload}
        self.charges.append(charge)
        return Response(201, "application/json", json.dumps(charge))

    def post(self, body: Any, key: str | None = "k-1", **kwargs: Any) -> dict[str, Any]:
        response: dict[str, Any] = self.handler(
            http_request("POST", PAYMENTS, body, key=key, **kwargs), lambda_context()
        )
        return response


@pytest.fixture
def payments() -> Payments:
    return Payments(Deduplicator(InMemoryStore(), "payments"))


def test_a_retry_gets_the_stored_response_byte_for_byte(payments: Payments) -> None:
    # GIVEN a first payment
    first = payments.post({"amount": 100})

    # WHEN the client retries it with the same key
    retry = payments.post({"amount": 100})

    # THEN it was charged once; the retry has the same status and body, marked replayed
    assert len(payments.charges) == 1
    assert (
        (retry["statusCode"], retry["body"])
        == (first["statusCode"], first["body"])
        == (
            201,
            first["body"],
        )
    )
    assert retry["headers"]["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first["headers"]


def test_the_key_errors_are_4xx_json(payments: Payments) -> None:
    # GIVEN a stored payment
    payments.post({"amount": 100})

    # WHEN the key is reused for another amount, left out, malformed, or the body is bad
    reused = payments.post({"amount": 999})
    missing = payments.post({"amount": 100}, key=None)
    malformed = payments.post({"amount": 100}, key="a,b")
    invalid = payments.post({"amount": -1}, key="k-2")

    # THEN each is a JSON error naming the problem, and nothing more was charged
    assert reused["statusCode"] == 422
    assert json.loads(reused["body"])["error"]["code"] == "idempotency_key_reused"
    assert missing["statusCode"] == 400
    assert json.loads(missing["body"])["error"]["code"] == "idempotency_key_missing"
    assert malformed["statusCode"] == 400
    assert json.loads(invalid["body"])["error"]["field"] == "amount"
    assert len(payments.charges) == 1


def test_a_retry_while_the_first_is_in_flight_is_told_to_wait() -> None:
    # GIVEN two instances of the API on one table; the first calls the second mid-request
    dedup = Deduplicator(InMemoryStore(), "payments")
    outer, inner = Payments(dedup), Payments(dedup)
    seen: list[dict[str, Any]] = []
    outer.during = lambda: seen.append(inner.post({"amount": 100}))

    # WHEN the retry arrives while the first holds the key
    outer.post({"amount": 100})

    # THEN it gets 409 with Retry-After, and was not charged
    assert seen[0]["statusCode"] == 409
    assert int(seen[0]["headers"]["Retry-After"]) >= 1
    assert inner.charges == []


def test_a_service_error_answers_503_and_releases_the_key(payments: Payments) -> None:
    # GIVEN a DynamoDB error during the first attempt
    payments.fail_with = ClientError(
        {"Error": {"Code": "ProvisionedThroughputExceededException"}}, "PutItem"
    )
    failed = payments.post({"amount": 100})

    # WHEN the client retries once the service is back
    payments.fail_with = None
    retried = payments.post({"amount": 100})

    # THEN the first was a 503 to retry, and the retry ran
    assert failed["statusCode"] == 503
    assert failed["headers"]["Retry-After"] == "1"
    assert retried["statusCode"] == 201
    assert len(payments.charges) == 1


def test_a_5xx_response_is_not_stored(payments: Payments) -> None:
    # GIVEN a route that answers 502 once (its provider failed)
    payments.fail_with = Response(502, "application/json", '{"error": "bad gateway"}')
    first = payments.post({"amount": 100})

    # WHEN the client retries
    payments.fail_with = None
    retry = payments.post({"amount": 100})

    # THEN the retry ran the route rather than replaying the 502
    assert (first["statusCode"], retry["statusCode"]) == (502, 201)
    assert "Idempotent-Replayed" not in retry["headers"]


def test_two_callers_never_share_a_key(payments: Payments) -> None:
    # GIVEN two IAM principals using the same key
    alice = payments.post({"amount": 100}, caller="arn:aws:iam::111122223333:user/alice")
    bob = payments.post({"amount": 100}, caller="arn:aws:iam::111122223333:user/bob")

    # THEN each got their own charge
    assert json.loads(alice["body"])["id"] != json.loads(bob["body"])["id"]
    assert "Idempotent-Replayed" not in bob["headers"]


def test_effect_mode_writes_the_effects_and_the_response_in_one_transaction(
    dedup: Deduplicator, dynamodb: Any, read_item: ItemReader
) -> None:
    # GIVEN a route that hands its write to the middleware (effect mode, on DynamoDB)
    dynamodb.create_table(
        TableName="payments",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    app = APIGatewayHttpResolver()
    app.use(middlewares=[IdempotencyKey(dedup, parse=parse_payment, mode="effect")])
    attempts: list[int] = []

    @app.post(PAYMENTS)
    def pay() -> Response[str]:
        payment = {"id": f"p-{len(attempts)}", **current_request().payload}
        attempts.append(1)
        add_effects(effects.put("payments", payment))
        return Response(201, "application/json", json.dumps(payment))

    handler = http_handler(app)

    # WHEN the same request arrives twice
    responses = [
        handler(http_request("POST", PAYMENTS, {"amount": 5}, key="k"), lambda_context())
        for _ in range(2)
    ]

    # THEN one payment was written; the retry replays the first response
    assert read_item("payments", id="p-0") is not None
    assert read_item("payments", id="p-1") is None
    assert responses[1]["body"] == responses[0]["body"]
    assert responses[1]["headers"]["Idempotent-Replayed"] == "true"


def rest_request(body: Any, *, key: str, user: str) -> dict[str, Any]:
    """A REST API (payload 1.0) request from IAM user ``user``, as API Gateway sends it."""
    return {
        "resource": PAYMENTS,
        "path": PAYMENTS,
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json", "Idempotency-Key": key},
        "multiValueHeaders": {"Idempotency-Key": [key]},
        "queryStringParameters": None,
        "pathParameters": None,
        "requestContext": {
            "accountId": "111122223333",
            "resourcePath": PAYMENTS,
            "httpMethod": "POST",
            "stage": "prod",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"userArn": user, "sourceIp": "203.0.113.7"},
            "authorizer": None,
        },
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def test_a_rest_api_gets_the_same_semantics() -> None:
    # GIVEN a REST API (payload 1.0) with the middleware
    app = APIGatewayRestResolver()
    app.use(middlewares=[IdempotencyKey(Deduplicator(InMemoryStore(), "rest"))])
    calls: list[int] = []

    @app.post(PAYMENTS)
    def pay() -> Response[str]:
        calls.append(1)
        return Response(201, "application/json", json.dumps({"n": len(calls)}))

    handler = http_handler(app)
    user = "arn:aws:iam::111122223333:user/alice"

    # WHEN a request is retried
    first = handler(rest_request({"amount": 1}, key="k", user=user), lambda_context())
    retry = handler(rest_request({"amount": 1}, key="k", user=user), lambda_context())

    # THEN it ran once and the retry replays it
    assert calls == [1]
    assert retry["body"] == first["body"]
    assert retry["multiValueHeaders"]["Idempotent-Replayed"] == ["true"]


def test_a_rest_lambda_authorizer_scope_ignores_its_latency() -> None:
    # GIVEN two requests of one principal through a REST API's Lambda authorizer
    def event(latency: int) -> dict[str, Any]:
        authorizer = {"principalId": "user-1", "tenant": "t1", "integrationLatency": latency}
        return {"httpMethod": "POST", "requestContext": {"authorizer": authorizer}}

    # WHEN their scopes are computed
    # THEN they are equal, and another principal's differs
    assert caller(event(12)) == caller(event(40))
    other = event(12)
    other["requestContext"]["authorizer"]["principalId"] = "user-2"
    assert caller(other) != caller(event(12))


def test_a_malformed_event_is_a_400_not_a_crash(payments: Payments) -> None:
    # GIVEN an event whose headers are not strings
    event = http_request("POST", PAYMENTS, {"amount": 1}, key="k")
    event["headers"]["x-bad"] = 7

    # WHEN it is handled
    response = payments.handler(event, lambda_context())

    # THEN the client gets a JSON 400 naming the field
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"]["field"] == "headers"


def test_a_function_url_gets_the_same_semantics_scoped_by_its_iam_caller() -> None:
    # GIVEN a function URL (AWS_IAM auth) with the middleware
    app = LambdaFunctionUrlResolver()
    app.use(middlewares=[IdempotencyKey(Deduplicator(InMemoryStore(), "url"))])
    calls: list[int] = []

    @app.post("/transfers")
    def transfer() -> Response[str]:
        calls.append(1)
        return Response(201, "application/json", json.dumps({"n": len(calls)}))

    handler = http_handler(app)

    def request(user: str) -> dict[str, Any]:
        event = events.function_url_event(
            "POST", "/transfers", {"amount": 1}, headers={"Idempotency-Key": "k"}, caller=user
        )
        response: dict[str, Any] = handler(event, lambda_context())
        return response

    # WHEN alice sends a request twice and bob once, with the same key
    alice = [request("arn:aws:iam::111122223333:user/alice") for _ in range(2)]
    bob = request("arn:aws:iam::111122223333:user/bob")

    # THEN alice's retry is a replay, and bob's request ran on its own
    assert calls == [1, 1]
    assert alice[1]["body"] == alice[0]["body"]
    assert alice[1]["headers"]["Idempotent-Replayed"] == "true"
    assert json.loads(bob["body"]) == {"n": 2}


def test_a_route_that_crashes_answers_a_json_500_and_releases_the_key(
    payments: Payments, capsys: pytest.CaptureFixture[str], log_lines: LogLines
) -> None:
    # GIVEN a route with a bug that no exception handler takes
    payments.fail_with = RuntimeError("provider SDK bug")
    crashed = payments.post({"amount": 100})

    # WHEN the client retries once it is fixed
    payments.fail_with = None
    retried = payments.post({"amount": 100})

    # THEN the crash was a JSON 500 without a stack trace, logged and counted, and the
    # retry ran the route
    assert crashed["statusCode"] == 500
    assert json.loads(crashed["body"]) == {
        "error": {"code": "internal_error", "message": "the request could not be completed"}
    }
    assert log_lines.with_message("request crashed")[0]["reason"].startswith("RuntimeError")
    assert '"ServerErrors":[1.0]' in capsys.readouterr().out
    assert retried["statusCode"] == 201


def _authorizer_event(authorizer: dict[str, Any], *, token: str = "") -> dict[str, Any]:
    event = http_request("POST", PAYMENTS, {"amount": 1}, key="k")
    event["requestContext"]["authorizer"] = authorizer
    if token:
        event["headers"]["authorization"] = token
    return event


def test_identity_pool_users_sharing_a_role_session_get_scopes_of_their_own() -> None:
    # GIVEN two users of one Cognito identity pool: one role session, two identity ids
    session = "arn:aws:sts::111122223333:assumed-role/Cognito_Auth/CognitoIdentityCredentials"

    def v2(identity: str) -> dict[str, Any]:
        iam = {"userArn": session, "cognitoIdentity": {"identityId": identity}}
        return _authorizer_event({"iam": iam})

    def v1(identity: str) -> dict[str, Any]:
        context = {"identity": {"userArn": session, "cognitoIdentityId": identity}}
        return {"httpMethod": "POST", "requestContext": context}

    # THEN their scopes differ, on payload 2.0 and on a REST API's
    assert caller(v2("eu-west-1:aaa")) != caller(v2("eu-west-1:bbb"))
    assert caller(v1("eu-west-1:aaa")) != caller(v1("eu-west-1:bbb"))
    assert caller(v2("eu-west-1:aaa")) == caller(v2("eu-west-1:aaa"))


def test_a_lambda_authorizer_without_context_scopes_by_the_callers_token() -> None:
    # GIVEN an HTTP API Lambda authorizer that returns no context
    alice = _authorizer_event({"lambda": None}, token="Bearer alice")
    bob = _authorizer_event({"lambda": {}}, token="Bearer bob")

    # THEN two tokens are two scopes, and one token keeps its scope
    assert caller(alice) != caller(bob)
    assert caller(alice) == caller(_authorizer_event({"lambda": None}, token="Bearer alice"))
    assert "Bearer" not in caller(alice)  # a digest, never the token itself


def test_a_dict_body_with_decimals_is_stored_as_the_resolver_serialises_it() -> None:
    # GIVEN a route that returns an item read back from DynamoDB (numbers as Decimal)
    app = APIGatewayHttpResolver()
    app.use(middlewares=[IdempotencyKey(Deduplicator(InMemoryStore(), "dec"))])
    calls: list[int] = []

    @app.post(PAYMENTS)
    def pay() -> dict[str, Any]:
        calls.append(1)
        return {"amount": Decimal("12.50"), "n": len(calls)}

    handler = http_handler(app)

    # WHEN it is sent twice with one key
    first, retry = (
        handler(http_request("POST", PAYMENTS, {"amount": 1}, key="k"), lambda_context())
        for _ in range(2)
    )

    # THEN it ran once, and the retry replays the same body
    assert calls == [1]
    assert first["statusCode"] == retry["statusCode"] == 200
    assert retry["body"] == first["body"]
    assert json.loads(first["body"]) == {"amount": "12.50", "n": 1}  # as Powertools writes it


def test_cookies_survive_the_first_response_and_the_replay() -> None:
    # GIVEN a route that sets a cookie
    app = APIGatewayHttpResolver()
    app.use(middlewares=[IdempotencyKey(Deduplicator(InMemoryStore(), "cookies"))])

    @app.post(PAYMENTS)
    def pay() -> Response[str]:
        return Response(201, "application/json", "{}", cookies=[Cookie("session", "abc")])

    handler = http_handler(app)

    # WHEN it is sent twice
    first, retry = (
        handler(http_request("POST", PAYMENTS, {"amount": 1}, key="k"), lambda_context())
        for _ in range(2)
    )

    # THEN both carry it
    assert first["cookies"] == retry["cookies"]
    assert first["cookies"][0].startswith("session=abc")


def test_the_query_string_is_part_of_what_a_reused_key_must_repeat(payments: Payments) -> None:
    # GIVEN a dry run stored under a key
    dry = http_request("POST", PAYMENTS, {"amount": 100}, key="k-q")
    dry["rawQueryString"] = "dry_run=true"
    assert payments.handler(dry, lambda_context())["statusCode"] == 201

    # WHEN the same key comes without the query string
    real = payments.post({"amount": 100}, key="k-q")

    # THEN it is another request: 422, not the dry run's replay
    assert real["statusCode"] == 422


def test_a_network_error_answers_503_and_releases_the_key(payments: Payments) -> None:
    # GIVEN DynamoDB out of reach during the first attempt
    payments.fail_with = ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")
    failed = payments.post({"amount": 100})

    # WHEN the client retries
    payments.fail_with = None
    retried = payments.post({"amount": 100})

    # THEN the first was a 503 to retry, and the retry ran
    assert failed["statusCode"] == 503
    assert retried["statusCode"] == 201


def test_an_effect_whose_condition_fails_is_a_409_with_nothing_written(
    dedup: Deduplicator, dynamodb: Any, read_item: ItemReader
) -> None:
    # GIVEN a route in effect mode whose write must not overwrite an existing payment
    dynamodb.create_table(
        TableName="ledger",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName="ledger", Item={"id": {"S": "p-1"}})
    app = APIGatewayHttpResolver()
    app.use(middlewares=[IdempotencyKey(dedup, mode="effect")])

    @app.post(PAYMENTS)
    def pay() -> Response[str]:
        add_effects(
            effects.put("ledger", {"id": "p-1", "amount": 5}, condition="attribute_not_exists(id)")
        )
        return Response(201, "application/json", "{}")

    # WHEN it is sent
    response = http_handler(app)(
        http_request("POST", PAYMENTS, {"amount": 5}, key="k"), lambda_context()
    )

    # THEN it is a 409, and neither the payment nor the key was written
    assert response["statusCode"] == 409
    assert read_item("ledger", id="p-1") == {"id": "p-1"}
    assert json.loads(response["body"])["error"]["code"] == "conflict"


def test_a_rest_replay_is_counted_as_a_replay(capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a REST API with the middleware
    app = APIGatewayRestResolver()
    app.use(middlewares=[IdempotencyKey(Deduplicator(InMemoryStore(), "rest-metrics"))])
    app.post(PAYMENTS)(lambda: Response(201, "application/json", "{}"))
    handler = http_handler(app)
    user = "arn:aws:iam::111122223333:user/alice"

    # WHEN a request is retried
    for _ in range(2):
        handler(rest_request({"amount": 1}, key="k", user=user), lambda_context())

    # THEN the second request counts as a replay
    assert '"IdempotentReplays":[1.0]' in capsys.readouterr().out


def test_a_malformed_namespace_fails_at_construction_not_per_request() -> None:
    # WHEN / THEN a namespace the store cannot use is refused where it is written
    with pytest.raises(InvalidKeyError):
        IdempotencyKey("my payments")
