"""Functions deployed to moto as Terraform deploys them, for tests of the local runner."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import boto3


def deploy(
    client: Any, name: str, handler: str, environment: dict[str, str], *, timeout: int = 20
) -> str:
    """Create ``name`` in the emulator: a zip, a role, a handler path; return its ARN.

    The zip holds a placeholder: the code that runs is this checkout's.
    """
    role = boto3.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument="{}")
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("placeholder.py", "")
    function = client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler=handler,
        Code={"ZipFile": code.getvalue()},
        Timeout=timeout,
        MemorySize=512,
        Environment={"Variables": environment},
    )
    arn: str = function["FunctionArn"]
    return arn
