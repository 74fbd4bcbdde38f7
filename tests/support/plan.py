"""Reading ``terraform show -json`` of a plan."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"
"""moto's account id: the plans against the emulator name it in their ARNs."""
REGION = "us-east-1"


def arn(service: str, resource: str | None = None) -> str:
    """An ARN in moto's account and region, or its prefix when ``resource`` is None:
    ``arn("sqs", "jobs")`` is ``arn:aws:sqs:us-east-1:123456789012:jobs``."""
    prefix = f"arn:aws:{service}:{REGION}:{ACCOUNT}"
    return prefix if resource is None else f"{prefix}:{resource}"


def statement_id_for(route: str, readable: str) -> str:
    """The API module's permission statement id: readable part, then a digest of the route."""
    return f"AllowApiGateway-{readable}-{hashlib.sha1(route.encode()).hexdigest()[:8]}"


def configuration_name(directory: Path, tree: Path) -> str:
    """How the tests name a configuration: "root", "modules/function"... or, outside
    ``tree`` (the test-only ones beside it), its directory's name."""
    if not directory.is_relative_to(tree):
        return directory.name
    relative = directory.relative_to(tree).as_posix()
    return "root" if relative == "." else relative


def configuration_directory(name: str, tree: Path) -> Path:
    """The inverse of :func:`configuration_name` for the configurations in ``tree``."""
    return tree if name == "root" else tree / name


def _modules(module: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield module
    for child in module.get("child_modules", []):
        yield from _modules(child)


@dataclass(frozen=True)
class Plan:
    """One saved plan, as ``terraform show -json`` prints it."""

    data: dict[str, Any]

    def all_resources(self) -> list[dict[str, Any]]:
        """Every planned managed resource (``address``, ``type``, ``values``...), all modules."""
        root = self.data["planned_values"]["root_module"]
        return [
            resource
            for module in _modules(root)
            for resource in module.get("resources", [])
            if resource["mode"] == "managed"
        ]

    def resources(self, resource_type: str) -> list[dict[str, Any]]:
        return [r for r in self.all_resources() if r["type"] == resource_type]

    def by_address(self, address: str) -> dict[str, Any]:
        for resource in self.all_resources():
            if resource["address"] == address:
                values: dict[str, Any] = resource["values"]
                return values
        raise KeyError(address)

    def actions(self) -> dict[str, list[str]]:
        """``{address: ["create"]...}`` for every managed resource change."""
        return {
            change["address"]: change["change"]["actions"]
            for change in self.data.get("resource_changes", [])
            if change["mode"] == "managed"
        }

    def output(self, name: str) -> Any:
        return self.data["planned_values"]["outputs"][name]["value"]

    def policy(self, role_policy: dict[str, Any]) -> dict[str, Any]:
        """The decoded policy document of an ``aws_iam_role_policy``'s planned values."""
        policy: dict[str, Any] = json.loads(role_policy["policy"])
        return policy

    def role_policy(self, module: str) -> dict[str, dict[str, Any]]:
        """The statements, by Sid, of ``module.<module>.aws_iam_role_policy.this[0]``."""
        values = self.by_address(f"module.{module}.aws_iam_role_policy.this[0]")
        return statements(self.policy(values))


def statements(policy: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A policy's statements by Sid, with Action and Resource always as sorted lists."""
    result = {}
    for statement in policy["Statement"]:
        normalised = dict(statement)
        for key in ("Action", "Resource"):
            value = statement.get(key, [])
            normalised[key] = sorted([value] if isinstance(value, str) else value)
        result[statement["Sid"]] = normalised
    return result


@dataclass(frozen=True)
class TerraformRuns:
    """What the session's Terraform runs produced, shared by the Terraform tests."""

    validations: dict[str, dict[str, Any]]
    """``terraform validate -json`` by configuration ("root", "modules/function"...)."""
    plans: dict[str, Plan]
    """``terraform show -json`` of a fresh plan against the emulator, by configuration."""
    plan_errors: dict[str, list[dict[str, Any]]]
    """The error diagnostics of the plans that must fail, by configuration."""
