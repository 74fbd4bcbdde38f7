"""Module calls that each break exactly one input rule, and the message each must give.

They are written as one Terraform configuration (``write_cases``), validated once per
session with the other configurations; ``terraform validate`` reports every failed
``validation`` block at once. The configuration lives beside the staged tree, not in it,
so that checkov and ``terraform fmt`` never see it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/dedup-idempotency"
FUNCTION_OK: dict[str, Any] = {
    "source": "{tree}/modules/function",
    "function_name": "ok",
    "handler": "lambda_dedup.handlers.inbox.handler",
    "package_file": "{tree}/build/lambda.zip",
    "idempotency_table_name": "dedup-idempotency",
    "idempotency_table_arn": TABLE_ARN,
}
TABLE_OK: dict[str, Any] = {"source": "{tree}/modules/idempotency-table", "name": "dedup-table"}
ROOT_OK: dict[str, Any] = {"source": "{tree}"}

# name -> (valid inputs, the one bad input, the start of the expected error message)
CASES: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {
    "function_runtime": (FUNCTION_OK, {"runtime": "python3.10"}, "runtime must be one of"),
    "function_handler": (
        FUNCTION_OK,
        {"handler": "lambda_dedup/handlers/inbox.py"},
        "handler must be a dotted Python path",
    ),
    "function_name": (FUNCTION_OK, {"function_name": "x" * 65}, "function_name must be 1-64"),
    "function_memory": (FUNCTION_OK, {"memory_size": 64}, "memory_size must be"),
    "function_timeout": (FUNCTION_OK, {"timeout": 901}, "timeout must be"),
    "function_retention": (
        FUNCTION_OK,
        {"log_retention_in_days": 10},
        "log_retention_in_days must be one of",
    ),
    "function_environment": (
        FUNCTION_OK,
        {"environment_variables": {"AWS_REGION": "eu-west-1"}},
        "environment variable names",
    ),
    "function_table_arn": (
        FUNCTION_OK,
        {"idempotency_table_arn": "dedup-idempotency"},
        "idempotency_table_arn must be a DynamoDB table ARN",
    ),
    "function_dead_letter": (
        FUNCTION_OK,
        {"dead_letter_target_arn": "arn:aws:lambda:us-east-1:123456789012:function:x"},
        "dead_letter_target_arn must be null or an SQS queue or SNS topic ARN",
    ),
    "function_wildcard_action": (
        FUNCTION_OK,
        {"policy_statements": {"Orders": {"actions": ["dynamodb:*"], "resources": [TABLE_ARN]}}},
        "policy_statements actions must be exact",
    ),
    "function_wildcard_resource": (
        FUNCTION_OK,
        {"policy_statements": {"Orders": {"actions": ["dynamodb:GetItem"], "resources": ["*"]}}},
        "policy_statements need at least one action",
    ),
    "function_ttl": (FUNCTION_OK, {"dedup_ttl_seconds": 30}, "dedup_ttl_seconds must be"),
    "table_billing": (TABLE_OK, {"billing_mode": "ON_DEMAND"}, "billing_mode must be"),
    "table_name": (TABLE_OK, {"name": "x"}, "name must be 3-255"),
    "table_kms": (TABLE_OK, {"kms_key_arn": "alias/data"}, "kms_key_arn must be null or a KMS"),
    "root_prefix": (ROOT_OK, {"name_prefix": "Bad_Prefix"}, "name_prefix must be"),
}

NAME = "input-validation"
"""The configuration's name among the session's Terraform runs."""


def write_cases(directory: Path, tree: Path) -> Path:
    """Write the configuration into ``directory``, calling the modules of the staged ``tree``."""
    directory.mkdir(parents=True, exist_ok=True)
    tree_path = os.path.relpath(tree, directory)
    blocks = []
    for name, (valid, bad, _) in CASES.items():
        arguments = {
            key: value.format(tree=tree_path) if isinstance(value, str) else value
            for key, value in {**valid, **bad}.items()
        }
        lines = "\n".join(f"  {key} = {json.dumps(value)}" for key, value in arguments.items())
        blocks.append(f'module "{name}" {{\n{lines}\n}}\n')
    (directory / "main.tf").write_text("\n".join(blocks))
    return directory
