"""Test-only Terraform configurations made of module calls, written beside the staged tree.

* ``input-validation``: calls that each break exactly one input rule, with the message
  each must give. ``terraform validate`` reports every failed ``validation`` at once.
* ``module-options``: calls that use the modules' optional inputs, planned against the
  emulator so that the tests can read what each option turns into.

They live beside the staged tree, not in it, so that checkov and ``terraform fmt`` only
ever see the repository's own configurations.
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

# input-validation: name -> (valid inputs, the one bad input, the start of the error message)
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

INPUT_VALIDATION = "input-validation"
MODULE_OPTIONS = "module-options"

KMS_KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:options-dlq"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:options-dlq"
ORDERS_TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders"

# name -> inputs of a call that uses optional features
OPTIONS: dict[str, dict[str, Any]] = {
    "with_sqs_dead_letter": {
        **FUNCTION_OK,
        "function_name": "options-sqs",
        "dead_letter_target_arn": QUEUE_ARN,
        "reserved_concurrent_executions": 3,
        "kms_key_arn": KMS_KEY_ARN,
        "policy_statements": {
            "ReadOrders": {"actions": ["dynamodb:GetItem"], "resources": [ORDERS_TABLE_ARN]}
        },
    },
    "with_sns_dead_letter": {
        **FUNCTION_OK,
        "function_name": "options-sns",
        "dead_letter_target_arn": TOPIC_ARN,
    },
    "disabled_function": {**FUNCTION_OK, "function_name": "options-off", "create": False},
    "provisioned_table": {
        **TABLE_OK,
        "name": "options-table",
        "billing_mode": "PROVISIONED",
        "read_capacity": 2,
        "write_capacity": 3,
        "kms_key_arn": KMS_KEY_ARN,
        "deletion_protection": True,
    },
    "disabled_table": {**TABLE_OK, "name": "options-off", "create": False},
}
OPTION_OUTPUTS = {
    "disabled_function_name": "module.disabled_function.function_name",
    "disabled_function_arn": "module.disabled_function.function_arn",
    "disabled_role_name": "module.disabled_function.role_name",
    "disabled_table_name": "module.disabled_table.name",
    "disabled_table_arn": "module.disabled_table.arn",
}


def write_module_calls(
    directory: Path,
    tree: Path,
    calls: dict[str, dict[str, Any]],
    outputs: dict[str, str] | None = None,
) -> Path:
    """Write one configuration of ``calls`` (``{tree}`` in strings = the staged tree)."""
    directory.mkdir(parents=True, exist_ok=True)
    tree_path = os.path.relpath(tree, directory)
    blocks = []
    for name, inputs in calls.items():
        arguments = {
            key: value.format(tree=tree_path) if isinstance(value, str) else value
            for key, value in inputs.items()
        }
        lines = "\n".join(f"  {key} = {json.dumps(value)}" for key, value in arguments.items())
        blocks.append(f'module "{name}" {{\n{lines}\n}}\n')
    for name, expression in (outputs or {}).items():
        blocks.append(f'output "{name}" {{\n  value = {expression}\n}}\n')
    (directory / "main.tf").write_text("\n".join(blocks))
    return directory


def write_all(tree: Path) -> dict[str, Path]:
    """Both configurations, beside ``tree``, by name."""
    invalid = {name: {**valid, **bad} for name, (valid, bad, _) in CASES.items()}
    return {
        INPUT_VALIDATION: write_module_calls(tree.parent / INPUT_VALIDATION, tree, invalid),
        MODULE_OPTIONS: write_module_calls(
            tree.parent / MODULE_OPTIONS, tree, OPTIONS, OPTION_OUTPUTS
        ),
    }
