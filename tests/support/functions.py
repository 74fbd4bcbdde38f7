"""Functions deployed to moto as Terraform deploys them, for tests of the local runner.

The runner runs each function's deployed zip in a process of its own, which reaches AWS
through ``AWS_ENDPOINT_URL``. So the tests serve moto in-process over HTTP as well
(:func:`emulator_endpoint`): the same backends ``mock_aws`` gives the test, with the
emulator's fix that serves the deployed zips.
"""

from __future__ import annotations

import functools
import io
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import boto3
import emulator as emulator_tool
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "lambda" / "src" / "lambda_dedup"
SUPPORT = Path(__file__).resolve().parent


def zip_of(files: Mapping[str, str | bytes]) -> bytes:
    """A deployment zip holding ``files`` (path in the zip -> content)."""
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in sorted(files.items()):
            archive.writestr(path, content)
    return code.getvalue()


@functools.cache
def project_code() -> bytes:
    """A zip of this checkout's package and of the test handlers
    (``support.local_handlers``); its dependencies come from the interpreter's
    site-packages, as boto3 comes from Lambda's runtime."""
    files: dict[str, str | bytes] = {}
    for source in sorted(PACKAGE.rglob("*.py")):
        files[f"lambda_dedup/{source.relative_to(PACKAGE).as_posix()}"] = source.read_bytes()
    for name in ("__init__.py", "local_handlers.py"):
        files[f"support/{name}"] = (SUPPORT / name).read_bytes()
    return zip_of(files)


def deploy(
    client: Any,
    name: str,
    handler: str,
    environment: dict[str, str],
    *,
    timeout: int = 20,
    code: bytes | None = None,
) -> str:
    """Create ``name`` in the emulator: a zip (``code``, by default
    :func:`project_code`), a role, a handler path; return its ARN."""
    role = boto3.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument="{}")
    function = client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler=handler,
        Code={"ZipFile": project_code() if code is None else code},
        Timeout=timeout,
        MemorySize=512,
        Environment={"Variables": environment},
    )
    arn: str = function["FunctionArn"]
    return arn


@functools.cache
def emulator_endpoint() -> str:
    """moto server on a free loopback port of this process, serving the backends that
    ``mock_aws`` serves the test (moto keeps them in this process), with the emulator's
    fix that serves each function's zip at ``GetFunction``'s ``Code.Location``. Started
    once; its thread ends with the process."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    emulator_tool.serve_function_code(endpoint)
    return endpoint


def runner_environment() -> dict[str, str]:
    """What the runner gives every function besides its own environment, pointing the
    SDK at :func:`emulator_endpoint`."""
    return emulator_tool.client_environment(emulator_endpoint())
