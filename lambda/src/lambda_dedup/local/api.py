"""API Gateway (HTTP API): a server on loopback that plays the API's ``$default`` stage.

The routes, their authorization type and their integration (the function, the payload
format) come from the emulator's ``GetRoutes`` and ``GetIntegrations``. A request is
matched as API Gateway matches it -- the exact ``METHOD /path`` first, with ``{name}``
and ``{proxy+}`` parameters, then ``ANY``, then ``$default`` -- turned into a payload 2.0
event, and the function's response is returned (a plain value becomes a 200 JSON body).
No route gives API Gateway's ``404 {"message":"Not Found"}``; a failed function its
``500 {"message":"Internal Server Error"}``. Integrations with payload format 1.0 are
answered with a 500 saying that only 2.0 is served.

Authorization is *checked for form only*, never verified: ``AWS_IAM`` routes need a
SigV4 ``Authorization`` header (``curl --aws-sigv4``) and see the signer's access key as
the caller, ``arn:aws:iam::<account>:user/<access key>``; ``JWT`` routes need a bearer
token whose claims are read unverified. Without them the answer is 403 or 401, as API
Gateway gives.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from lambda_dedup.local.functions import Invoker

SIGV4 = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/,\s]+)/")


@dataclass(frozen=True, slots=True)
class Route:
    """One route of an HTTP API and the function its integration invokes."""

    route_key: str
    """``POST /profiles``, ``GET /profiles/{user_id}``, ``ANY /{proxy+}`` or ``$default``."""
    authorization_type: str
    function_name: str
    payload_version: str

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path parameters if this route takes ``method path``, else ``None``."""
        if self.route_key == "$default":
            return {}
        route_method, _, template = self.route_key.partition(" ")
        if route_method not in ("ANY", method):
            return None
        pattern = ""
        for part in re.split(r"(\{[^}]+\})", template):
            if part.startswith("{") and part.endswith("+}"):
                pattern += f"(?P<{part[1:-2]}>.+)"
            elif part.startswith("{"):
                pattern += f"(?P<{part[1:-1]}>[^/]+)"
            else:
                pattern += re.escape(part)
        found = re.fullmatch(pattern, path)
        return (
            {name: unquote(value) for name, value in found.groupdict().items()} if found else None
        )

    @property
    def rank(self) -> int:
        """Matching order: exact method, then ``ANY``, then ``$default``."""
        return 2 if self.route_key == "$default" else 1 if self.route_key.startswith("ANY ") else 0


@dataclass(frozen=True, slots=True)
class HttpApi:
    """An HTTP API as the emulator has it."""

    api_id: str
    name: str
    routes: tuple[Route, ...]

    @classmethod
    def all(cls, apigateway_client: Any) -> list[HttpApi]:
        """Every HTTP API in the emulator whose routes reach a function."""
        found = []
        for api in apigateway_client.get_apis()["Items"]:
            if api.get("ProtocolType", "HTTP") != "HTTP":
                continue
            integrations = {
                item["IntegrationId"]: item
                for item in apigateway_client.get_integrations(ApiId=api["ApiId"])["Items"]
            }
            routes = []
            for route in apigateway_client.get_routes(ApiId=api["ApiId"])["Items"]:
                target = str(route.get("Target", ""))
                integration = integrations.get(target.removeprefix("integrations/"))
                if integration is None or ":lambda:" not in integration.get("IntegrationUri", ""):
                    continue
                uri = integration["IntegrationUri"]
                function = uri.split(":function:")[1].split("/")[0].split(":")[0]
                routes.append(
                    Route(
                        route_key=route["RouteKey"],
                        authorization_type=route.get("AuthorizationType") or "NONE",
                        function_name=function,
                        payload_version=integration.get("PayloadFormatVersion") or "2.0",
                    )
                )
            found.append(cls(api["ApiId"], api.get("Name", ""), tuple(routes)))
        return found

    def route(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in sorted(self.routes, key=lambda r: r.rank):
            parameters = route.match(method, path)
            if parameters is not None:
                return route, parameters
        return None


class Unauthorized(Exception):
    """API Gateway refuses the request before the function runs."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def authorizer(route: Route, headers: Mapping[str, str], account: str) -> dict[str, Any] | None:
    """The ``requestContext.authorizer`` API Gateway would pass for ``route``."""
    header = headers.get("authorization", "")
    if route.authorization_type == "AWS_IAM":
        signed = SIGV4.match(header)
        if not signed:
            raise Unauthorized(403, "Forbidden")
        key = signed.group(1)
        return {
            "iam": {
                "accessKey": key,
                "accountId": account,
                "callerId": key,
                "principalOrgId": None,
                "userArn": f"arn:aws:iam::{account}:user/{key}",
                "userId": key,
            }
        }
    if route.authorization_type == "JWT":
        token = header.removeprefix("Bearer ").strip()
        try:
            payload = token.split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (IndexError, ValueError, binascii.Error) as error:
            raise Unauthorized(401, "Unauthorized") from error
        if not isinstance(claims, dict):
            raise Unauthorized(401, "Unauthorized")
        scopes = str(claims.get("scope", "")).split() or None
        return {"jwt": {"claims": claims, "scopes": scopes}}
    return None


def http_event(
    api: HttpApi,
    route: Route,
    parameters: dict[str, str],
    request: Mapping[str, Any],
    account: str,
) -> dict[str, Any]:
    """The payload 2.0 event for one request."""
    url = urlsplit(request["target"])
    headers: dict[str, str] = dict(request["headers"])
    body: bytes = request["body"]
    now = dt.datetime.now(dt.UTC)
    query: dict[str, str] = {}
    for name, value in parse_qsl(url.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    context: dict[str, Any] = {
        "accountId": account,
        "apiId": api.api_id,
        "domainName": headers.get("host", "127.0.0.1"),
        "domainPrefix": api.api_id,
        "http": {
            "method": request["method"],
            "path": url.path,
            "protocol": "HTTP/1.1",
            "sourceIp": request["client"],
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": uuid.uuid4().hex[:16],
        "routeKey": route.route_key,
        "stage": "$default",
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    granted = authorizer(route, headers, account)
    if granted is not None:
        context["authorizer"] = granted
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": url.path,
        "rawQueryString": url.query,
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = query
    if parameters:
        event["pathParameters"] = parameters
    if "cookie" in headers:
        event["cookies"] = [c.strip() for c in headers["cookie"].split(";")]
    if body:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


def http_response(response: Any) -> tuple[int, dict[str, str], bytes]:
    """What API Gateway returns for a function's payload 2.0 response."""
    if not (isinstance(response, dict) and "statusCode" in response):
        return 200, {"content-type": "application/json"}, json.dumps(response).encode()
    headers = {str(k): str(v) for k, v in (response.get("headers") or {}).items()}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers[name] = ",".join(str(v) for v in values)
    body = response.get("body") or ""
    raw = base64.b64decode(body) if response.get("isBase64Encoded") else str(body).encode()
    return int(response["statusCode"]), headers, raw


class ApiServer:
    """Serves one HTTP API on ``127.0.0.1:<port>`` (0: a free port) in a thread."""

    def __init__(self, invoker: Invoker, api: HttpApi, *, account: str, port: int = 0) -> None:
        self.api = api
        self.requests = 0
        handler = _handler_class(self, invoker, account)
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        host, bound = self._server.server_address[:2]
        self.url = f"http://{host!s}:{bound}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def _handler_class(server: ApiServer, invoker: Invoker, account: str) -> type:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the function's own log lines say what happened

        def _reply(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _message(self, status: int, message: str) -> None:
            body = json.dumps({"message": message}).encode()
            self._reply(status, {"content-type": "application/json"}, body)

        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            path = urlsplit(self.path).path
            found = server.api.route(self.command, path)
            if found is None:
                self._message(404, "Not Found")
                return
            route, parameters = found
            if route.payload_version != "2.0":
                self._message(500, "the local runner serves payload format 2.0 only")
                return
            request = {
                "method": self.command,
                "target": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body,
                "client": self.client_address[0],
            }
            try:
                event = http_event(server.api, route, parameters, request, account)
            except Unauthorized as refused:
                self._message(refused.status, str(refused))
                return
            server.requests += 1
            invocation = invoker.invoke(route.function_name, event)
            if invocation.failed:
                self._message(500, "Internal Server Error")
                return
            self._reply(*http_response(invocation.response))

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    return Handler
