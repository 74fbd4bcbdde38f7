"""The HTTP API handler: POST /profiles with Idempotency-Key, GET /profiles/{user_id}.

Every row of the Idempotency-Key table of the push-triggers issue has a test here, run
against DynamoDB (moto in-process) through the handler's own client.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from support.aws import FaultInjector, WriteLog
from support.batches import profile
from support.lambda_context import FakeLambdaContext
from support.logs import LogLines
from support.push_events import http_request
from unit.conftest import PROFILES

from lambda_dedup import runtime
from lambda_dedup.handlers import api
from lambda_dedup.store.dynamodb import MAX_ATTEMPTS

# Lambda runs one invocation per process at a time; the threaded tests run several, which
# share Powertools' metrics buffer, so one may find it already flushed by another.
CONCURRENT = pytest.mark.filterwarnings("ignore:No application metrics to publish")
OTHER_CALLER = "arn:aws:sts::123456789012:assumed-role/other-client/other-client"


def call(event: dict[str, Any], *, timeout_ms: int = 30_000) -> Any:
    return api.handler(event, FakeLambdaContext(function_name="dedup-api", timeout_ms=timeout_ms))


def post(body: Any, key: str | None = "key-1", *, timeout_ms: int = 30_000, **options: Any) -> Any:
    return call(http_request("POST", "/profiles", body, key=key, **options), timeout_ms=timeout_ms)


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def error_of(response: dict[str, Any]) -> dict[str, Any]:
    detail: dict[str, Any] = body_of(response)["error"]
    return detail


def test_first_request_creates_the_profile(write_log: WriteLog) -> None:
    # WHEN a profile is posted with a new key
    response = post(profile(1, locale="en-GB"))
    # THEN it is created once, and the response shows what was stored
    assert response["statusCode"] == 201
    assert response["headers"]["Location"] == "/profiles/u-1"
    assert response["headers"]["Content-Type"] == "application/json"
    assert api.REPLAYED_HEADER not in response["headers"]
    created = body_of(response)
    assert created.items() >= profile(1, locale="en-GB").items()
    assert "created_at" in created
    assert api.CREATED_BY not in created
    assert write_log.count(PROFILES) == {("u-1",): 1}


def test_retry_with_the_same_key_replays_the_stored_response(
    write_log: WriteLog,
) -> None:
    # GIVEN a request that was handled
    first = post(profile(1))
    time.sleep(0.01)  # a re-execution would stamp another created_at
    # WHEN the client retries it
    again = post(profile(1))
    # THEN it gets the same status and a byte-identical body, marked as replayed
    assert again["statusCode"] == first["statusCode"] == 201
    assert again["body"] == first["body"]
    assert again["headers"][api.REPLAYED_HEADER] == "true"
    assert again["headers"]["Location"] == first["headers"]["Location"]
    assert write_log.count(PROFILES) == {("u-1",): 1}


def test_a_quoted_key_is_the_same_key(write_log: WriteLog) -> None:
    # The IETF draft sends the key as a structured-field string: "key-1".
    first = post(profile(1), key="key-1")
    again = post(profile(1), key='"key-1"')
    assert again["body"] == first["body"]
    assert again["headers"][api.REPLAYED_HEADER] == "true"


def test_the_same_key_with_another_payload_is_422(write_log: WriteLog) -> None:
    post(profile(1))
    response = post(profile(1, name="Someone Else"))
    assert response["statusCode"] == 422
    assert error_of(response)["code"] == "idempotency_key_reused"
    assert error_of(response)["field"] == "Idempotency-Key"
    assert write_log.count(PROFILES) == {("u-1",): 1}


def test_post_without_a_key_is_400_and_stores_nothing(
    write_log: WriteLog, dynamodb: Any, handler_env: str
) -> None:
    response = post(profile(1), key=None)
    assert response["statusCode"] == 400
    assert error_of(response) == {
        "code": "idempotency_key_missing",
        "message": "POST needs an Idempotency-Key header",
        "field": "Idempotency-Key",
    }
    assert write_log.count(PROFILES) == {}
    assert dynamodb.scan(TableName=handler_env)["Items"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("{not json", "body"),
        ("[1, 2]", None),
        ({"email": "a@example.com"}, "user_id"),
        ({"user_id": "u-1", "email": "nope"}, "email"),
        ({"user_id": "u-1", "email": "a@example.com", "name": 7}, "name"),
    ],
)
def test_an_invalid_body_is_400_naming_the_field_and_stores_nothing(
    write_log: WriteLog, dynamodb: Any, handler_env: str, body: Any, field: str | None
) -> None:
    response = post(body)
    assert response["statusCode"] == 400
    detail = error_of(response)
    assert detail["code"] == "invalid_request"
    assert detail.get("field") == field
    assert "Traceback" not in response["body"]
    assert write_log.count(PROFILES) == {}
    # Nothing was claimed: the same key with a corrected body is a first request.
    assert dynamodb.scan(TableName=handler_env)["Items"] == []
    assert post(profile(1))["statusCode"] == 201


def test_a_base64_body_that_is_not_text_is_400(write_log: WriteLog) -> None:
    event = http_request("POST", "/profiles", "x", key="key-1")
    event.update(body=base64.b64encode(b"\xff\xfe{").decode(), isBase64Encoded=True)
    response = call(event)
    assert response["statusCode"] == 400
    assert error_of(response)["field"] == "body"


def test_a_base64_body_is_decoded(write_log: WriteLog) -> None:
    event = http_request("POST", "/profiles", "x", key="key-1")
    body = json.dumps(profile(1)).encode()
    event.update(body=base64.b64encode(body).decode(), isBase64Encoded=True)
    assert call(event)["statusCode"] == 201


@pytest.mark.parametrize("key", ["", "a,b", "k" * 256, "clé"])
def test_a_malformed_key_is_400(write_log: WriteLog, key: str) -> None:
    response = post(profile(1), key=key)
    assert response["statusCode"] == 400
    assert error_of(response)["field"] == "Idempotency-Key"
    assert write_log.count(PROFILES) == {}


def test_keys_are_scoped_to_the_caller(write_log: WriteLog) -> None:
    # GIVEN caller A used key-1
    post(profile(1))
    # WHEN caller B uses key-1 for another profile
    response = post(profile(2), caller=OTHER_CALLER)
    # THEN B's request is its own: created, neither 422 nor A's stored response
    assert response["statusCode"] == 201
    assert body_of(response)["user_id"] == "u-2"
    assert write_log.count(PROFILES) == {("u-1",): 1, ("u-2",): 1}


def test_another_caller_replaying_a_request_never_reads_the_stored_response(
    write_log: WriteLog,
) -> None:
    first = post(profile(1))
    response = post(profile(1), caller=OTHER_CALLER)
    assert response["statusCode"] == 409
    assert error_of(response)["code"] == "profile_exists"
    assert response["body"] != first["body"]


@pytest.mark.parametrize(
    ("authorizer", "principal"),
    [
        ({"jwt": {"claims": {"iss": "https://idp.example.com", "sub": "u1"}}}, "jwt:"),
        ({"iam": {"userArn": "arn:aws:iam::123456789012:user/ci"}}, "iam:"),
        ({"lambda": {"tenant": "t-1", "user": "u1"}}, "lambda:"),
        (None, "anonymous"),
    ],
)
def test_the_caller_comes_from_the_authorizer(authorizer: Any, principal: str) -> None:
    event = http_request("POST", "/profiles", profile(1), key="k")
    event["requestContext"]["authorizer"] = authorizer
    assert api.caller(event).startswith(principal)


def test_jwt_callers_with_different_subjects_are_different_scopes() -> None:
    def jwt(sub: str) -> dict[str, Any]:
        return {"requestContext": {"authorizer": {"jwt": {"claims": {"iss": "i", "sub": sub}}}}}

    assert api.caller(jwt("a")) != api.caller(jwt("b"))


def test_a_new_key_for_an_existing_profile_is_a_stored_409(write_log: WriteLog) -> None:
    post(profile(1), key="key-1")
    conflict = post(profile(1), key="key-2")
    assert conflict["statusCode"] == 409
    assert error_of(conflict)["code"] == "profile_exists"
    # The outcome of key-2 is stored like any other: its retry replays it.
    again = post(profile(1), key="key-2")
    assert (again["statusCode"], again["body"]) == (409, conflict["body"])
    assert again["headers"][api.REPLAYED_HEADER] == "true"
    assert write_log.count(PROFILES) == {("u-1",): 1}


@CONCURRENT
def test_a_retry_while_the_first_is_in_flight_is_409(write_log: WriteLog) -> None:
    # GIVEN the first request is stuck writing the profile
    entered, release = threading.Event(), threading.Event()

    def hold(params: dict[str, Any], **_: Any) -> None:
        if params.get("TableName") == PROFILES:
            entered.set()
            release.wait(timeout=10)

    client = runtime.store().client
    client.meta.events.register("before-parameter-build.dynamodb.PutItem", hold)
    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(post, profile(1))
        assert entered.wait(timeout=10)
        # WHEN the client retries meanwhile
        retry = post(profile(1))
        # THEN the retry is told to come back later, and nothing is written twice
        assert retry["statusCode"] == 409
        assert error_of(retry)["code"] == "request_in_progress"
        assert 1 <= int(retry["headers"]["Retry-After"]) <= 30
        release.set()
        original = first.result(timeout=10)
    client.meta.events.unregister("before-parameter-build.dynamodb.PutItem", hold)
    # AND once the first is done, a retry gets its response
    assert original["statusCode"] == 201
    assert post(profile(1))["body"] == original["body"]
    assert write_log.count(PROFILES) == {("u-1",): 1}


@CONCURRENT
def test_concurrent_retries_from_many_threads_create_one_profile(
    write_log: WriteLog,
) -> None:
    # GIVEN eight threads that send the same request with the same key at once
    barrier = threading.Barrier(8, timeout=10)

    def send(_: int) -> Any:
        barrier.wait()
        return post(profile(1))

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(send, range(8)))
    # THEN exactly one was executed; the others were told to retry or got its response
    executed = [
        r for r in responses if r["statusCode"] == 201 and api.REPLAYED_HEADER not in r["headers"]
    ]
    assert len(executed) == 1
    for response in responses:
        assert response["statusCode"] in (201, 409)
        if response["statusCode"] == 201:
            assert response["body"] == executed[0]["body"]
        else:
            assert error_of(response)["code"] == "request_in_progress"
    assert write_log.count(PROFILES) == {("u-1",): 1}


def test_a_dynamodb_error_is_503_and_the_retry_succeeds(
    write_log: WriteLog, handler_faults: FaultInjector, log_lines: LogLines
) -> None:
    # GIVEN DynamoDB throttles the profile write until botocore gives up
    handler_faults.throttle("PutItem", times=MAX_ATTEMPTS, matching=f'"{PROFILES}"')
    # WHEN the request is sent
    response = post(profile(1))
    # THEN the client is told to retry, without a stack trace
    assert response["statusCode"] == 503
    assert error_of(response)["code"] == "service_unavailable"
    assert response["headers"]["Retry-After"] == "1"
    assert "Traceback" not in response["body"]
    assert log_lines.with_message("request failed")
    # AND the claim was released: the retry executes and creates the profile
    assert post(profile(1))["statusCode"] == 201
    assert write_log.count(PROFILES) == {("u-1",): 1}


def test_a_request_whose_completion_was_lost_is_answered_201_after_takeover(
    write_log: WriteLog, handler_faults: FaultInjector
) -> None:
    # GIVEN the profile was written, but recording the response failed, and the claim
    # (leased for the invocation's remaining 50 ms) expired
    handler_faults.throttle("UpdateItem", times=MAX_ATTEMPTS)
    assert post(profile(1), timeout_ms=50)["statusCode"] == 503
    time.sleep(0.1)
    # WHEN the client retries
    response = post(profile(1))
    # THEN it takes the claim over and is told "created", not "profile exists"
    assert response["statusCode"] == 201
    assert body_of(response)["user_id"] == "u-1"
    assert write_log.count(PROFILES) == {("u-1",): 1}
    # AND that answer is now stored
    assert post(profile(1))["body"] == response["body"]


def test_an_unexpected_error_is_a_json_500_without_a_trace(
    domain_env: str, monkeypatch: pytest.MonkeyPatch, log_lines: LogLines
) -> None:
    def crash(*_: Any) -> dict[str, Any]:
        raise RuntimeError("bug")

    monkeypatch.setattr(api, "create_profile", crash)
    response = post(profile(1))
    assert response["statusCode"] == 500
    assert error_of(response)["code"] == "internal_error"
    assert "bug" not in response["body"]
    assert log_lines.with_message("request crashed")


def test_get_reads_a_profile_without_internal_attributes(write_log: WriteLog) -> None:
    created = body_of(post(profile(1)))
    response = call(http_request("GET", "/profiles/u-1"))
    assert response["statusCode"] == 200
    assert body_of(response) == created


def test_get_of_an_impossible_user_id_is_400_not_a_dynamodb_error(domain_env: str) -> None:
    response = call(http_request("GET", "/profiles/" + "u" * 3000))
    assert response["statusCode"] == 400
    assert error_of(response)["field"] == "user_id"


def test_json_nested_too_deep_is_400(write_log: WriteLog) -> None:
    response = post("[" * 100_000)
    assert response["statusCode"] == 400
    assert error_of(response)["field"] == "body"


def test_get_of_a_missing_profile_is_a_json_404(domain_env: str) -> None:
    response = call(http_request("GET", "/profiles/u-404"))
    assert response["statusCode"] == 404
    assert error_of(response)["code"] == "not_found"


def test_an_unknown_route_is_a_json_404(domain_env: str) -> None:
    response = call(http_request("DELETE", "/profiles"))
    assert response["statusCode"] == 404
    assert error_of(response)["code"] == "not_found"


def _jwt_event(claims: dict[str, Any]) -> dict[str, Any]:
    event = http_request("POST", "/profiles", profile(1), key="k")
    event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return event


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ({"iss": "i", "client_id": "app-a"}, {"iss": "i", "client_id": "app-b"}),
        ({"iss": "i", "azp": "web"}, {"iss": "i", "azp": "mobile"}),
        ({"iss": "https://a.example", "sub": "u1"}, {"iss": "https://b.example", "sub": "u1"}),
        ({"iss": "i", "scope": "read"}, {"iss": "i", "scope": "write"}),
        ({"iss": "i", "sub": "client_id"}, {"iss": "i", "client_id": "client_id"}),
    ],
    ids=["client_id", "azp", "issuer", "claims-only", "field-names"],
)
def test_two_jwt_principals_never_share_a_scope(one: Any, other: Any) -> None:
    # GIVEN two tokens of different principals, none of which may be "anonymous"
    scopes = {api.caller(_jwt_event(one)), api.caller(_jwt_event(other))}
    # THEN each has its own scope
    assert len(scopes) == 2
    assert "anonymous" not in scopes


def test_jwt_clients_without_sub_never_read_each_others_response(write_log: WriteLog) -> None:
    # GIVEN client A created profile u-1 with key k
    first = _jwt_event({"iss": "i", "client_id": "app-a"})
    assert call(first)["statusCode"] == 201
    # WHEN client B sends the same key and body
    second = call(_jwt_event({"iss": "i", "client_id": "app-b"}))
    # THEN B's request is handled as its own (the profile exists: 409), never A's replay
    assert second["statusCode"] == 409
    assert "Idempotent-Replayed" not in (second.get("headers") or {})


def test_anonymous_is_only_for_a_route_without_authorizer() -> None:
    event = http_request("POST", "/profiles", profile(1), key="k")
    event["requestContext"]["authorizer"] = {"custom": {"tenant": "t-1"}}
    assert api.caller(event) != "anonymous"
    event["requestContext"].pop("authorizer")
    assert api.caller(event) == "anonymous"


USER_IDS = ["ada@example.com", "Zoë", "team/alice", "a+b", "50% off", "100%25", "a b+c/d?e#f"]


@pytest.mark.parametrize("with_path_parameters", [True, False], ids=["api-gateway", "raw-path"])
@pytest.mark.parametrize("user_id", USER_IDS)
def test_the_location_of_a_created_profile_reads_it_back(
    write_log: WriteLog, user_id: str, with_path_parameters: bool
) -> None:
    # GIVEN a profile whose user_id has characters that a path encodes
    created = post({**profile(1), "user_id": user_id}, key=f"k-{len(user_id)}")
    assert created["statusCode"] == 201
    location = created["headers"]["Location"]
    # AND its Location is one path segment ("/" encoded as %2F), as the route needs
    assert location.count("/") == 2
    # WHEN the client GETs its Location, as API Gateway passes it: rawPath as sent,
    # pathParameters decoded (or, from another front end, no pathParameters at all)
    event = http_request("GET", location)
    assert event["rawPath"] == location
    if with_path_parameters:
        assert event["pathParameters"] == {"user_id": user_id}
    else:
        del event["pathParameters"]
    # THEN it is that profile (decoded exactly once: "100%25" stays "100%25")
    response = call(event)
    assert response["statusCode"] == 200, response
    assert body_of(response)["user_id"] == user_id


def test_same_subject_of_two_issuers_never_read_each_others_response(
    write_log: WriteLog,
) -> None:
    # GIVEN issuer A's subject u1 created profile u-1 with key k
    assert call(_jwt_event({"iss": "https://a.example", "sub": "u1"}))["statusCode"] == 201
    # WHEN issuer B's subject u1 sends the same key and body
    second = call(_jwt_event({"iss": "https://b.example", "sub": "u1"}))
    # THEN it is handled as its own request (409: the profile exists), not A's replay
    assert second["statusCode"] == 409
    assert api.REPLAYED_HEADER not in (second.get("headers") or {})


def test_a_jwt_without_a_principal_claim_is_scoped_by_a_digest_of_its_claims() -> None:
    # GIVEN a token with neither sub, client_id nor azp
    claims = {"iss": "i", "email": "ada@example.com", "scope": "profiles/write"}
    scope = api.caller(_jwt_event(claims))
    # THEN its scope is a stable digest of the whole claim set, with no claim in clear
    assert scope == api.caller(_jwt_event(dict(reversed(list(claims.items())))))
    assert scope.startswith("jwt:sha256:")
    assert "ada@example.com" not in scope
    assert scope != api.caller(_jwt_event({**claims, "email": "bob@example.com"}))


def test_an_error_naming_a_lone_surrogate_can_be_sent(write_log: WriteLog) -> None:
    # GIVEN a body with a key that is a lone surrogate, which DynamoDB cannot store
    response = post('{"user_id": "u-1", "email": "a@example.com", "\\udc00": 1}')
    # THEN the 400 names it in a body the runtime can send: UTF-8 text (the surrogate
    # written as its JSON escape), else the client would get a 502 instead
    assert response["statusCode"] == 400
    response["body"].encode("utf-8")
    assert error_of(response)["field"] == "\udc00"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"headers": False}, "headers"),
        ({"headers": ["idempotency-key", "k"]}, "headers"),
        ({"headers": {"idempotency-key": 7}}, "headers"),
        ({"requestContext": None}, "requestContext.http.method"),
        ({"rawPath": 7}, "rawPath"),
    ],
    ids=["headers-false", "headers-list", "header-number", "no-request-context", "raw-path"],
)
def test_a_request_the_resolver_cannot_read_is_a_json_400(
    write_log: WriteLog, log_lines: LogLines, change: dict[str, Any], field: str
) -> None:
    # GIVEN a request whose headers, method or path have the wrong type
    event = http_request("POST", "/profiles", profile(1), key="key-1")
    event.update(change)
    # WHEN it is handled / THEN it is a JSON 400 naming the field, never an unhandled
    # error (which API Gateway answers with a bare 500)
    response = call(event)
    assert response["statusCode"] == 400, response
    assert (error_of(response)["code"], error_of(response)["field"]) == ("invalid_request", field)
    assert write_log.count(PROFILES) == {}
    assert len(log_lines.with_message("rejected request")) == 1


@pytest.mark.parametrize("body", [7, ["x"], {"user_id": "u-1"}], ids=["number", "list", "object"])
def test_a_base64_flagged_body_that_is_not_text_is_400(write_log: WriteLog, body: Any) -> None:
    # GIVEN a body flagged as base64 that is not even a string
    event = http_request("POST", "/profiles", "x", key="key-1")
    event.update(body=body, isBase64Encoded=True)
    # WHEN it is handled / THEN it is a 400 naming the body, not a 500
    response = call(event)
    assert response["statusCode"] == 400, response
    assert error_of(response)["field"] == "body"


@pytest.mark.parametrize(
    "authorizer",
    [
        {"jwt": {"claims": {"iss": "i", "sub": "u\ud800"}}},
        {"jwt": {"claims": {"iss": "i", "scope": "\udfff"}}},
        {"iam": {"userArn": "arn:aws:iam::123456789012:user/\ud800"}},
        {"lambda": {"tenant": "\udc00"}},
    ],
    ids=["jwt-sub", "jwt-claims-only", "iam", "lambda"],
)
def test_a_caller_named_with_a_lone_surrogate_is_served(
    write_log: WriteLog, authorizer: dict[str, Any]
) -> None:
    # GIVEN an authorizer whose principal (or claims) hold a lone surrogate
    event = http_request("POST", "/profiles", profile(1), key="key-1")
    event["requestContext"]["authorizer"] = authorizer
    # WHEN the request is sent twice
    first, again = call(event), call(event)
    # THEN it is created once and replayed, as any caller's: never a 500
    assert first["statusCode"] == 201, first
    assert again["headers"][api.REPLAYED_HEADER] == "true"
    assert write_log.count(PROFILES) == {("u-1",): 1}


def test_callers_differing_by_a_lone_surrogate_never_share_a_scope(write_log: WriteLog) -> None:
    # GIVEN two JWT subjects that differ only by a lone surrogate
    def event(sub: str) -> dict[str, Any]:
        request = http_request("POST", "/profiles", profile(1), key="key-1")
        request["requestContext"]["authorizer"] = {"jwt": {"claims": {"iss": "i", "sub": sub}}}
        return request

    # WHEN both send the same key and body
    first, second = call(event("u\ud800")), call(event("u\udc00"))
    # THEN the second is its own request (409: the profile exists), never the first's replay
    assert first["statusCode"] == 201
    assert second["statusCode"] == 409
    assert api.REPLAYED_HEADER not in second["headers"]
