"""Test-only Terraform configurations made of module calls, written beside the staged tree.

* ``input-validation``: calls that each break exactly one input rule, with the message
  each must give. ``terraform validate`` reports every failed ``validation`` at once.
* ``module-options``: calls that use the modules' optional inputs, planned against the
  emulator so that the tests can read what each option turns into.
* ``plan-failures``: calls that pass every input rule but break a rule between inputs (a
  ``precondition``), so that their plan must fail with that rule's message.

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
DATA_TABLE_OK: dict[str, Any] = {
    "source": "{tree}/modules/dynamodb-table",
    "name": "data-table",
    "hash_key": "pk",
}
# Trigger modules take the function by name and its role by name; a plan does not need
# them to exist.
SQS_OK: dict[str, Any] = {
    "source": "{tree}/modules/trigger-sqs",
    "name": "jobs",
    "function_name": "jobs-worker",
    "role_name": "jobs-worker",
    "function_timeout": 30,
}
KINESIS_OK: dict[str, Any] = {
    "source": "{tree}/modules/trigger-kinesis",
    "name": "clicks",
    "function_name": "clicks-counter",
    "role_name": "clicks-counter",
}
DYNAMODB_STREAM_OK: dict[str, Any] = {
    "source": "{tree}/modules/trigger-dynamodb-stream",
    "name": "orders",
    "function_name": "orders-audit",
    "role_name": "orders-audit",
}
API_OK: dict[str, Any] = {
    "source": "{tree}/modules/trigger-api-gateway",
    "name": "orders-api",
    "function_name": "orders-api",
}
S3_OK: dict[str, Any] = {
    "source": "{tree}/modules/trigger-s3",
    "name": "imports",
    "bucket_name": "imports-123456789012",
    "function_name": "imports-reader",
    "role_name": "imports-reader",
}
SNS_OK: dict[str, Any] = {
    "source": "{tree}/modules/trigger-sns",
    "name": "signups",
    "function_name": "signups-welcome",
    "role_name": "signups-welcome",
}
EVENTBRIDGE_OK: dict[str, Any] = {
    "source": "{tree}/modules/trigger-eventbridge",
    "name": "instance-stopped",
    "function_name": "instance-states",
    "role_name": "instance-states",
}
JWT = {"issuer": "https://idp.example.com", "audience": ["orders"], "scopes": ["orders/write"]}

# input-validation: name -> (valid inputs, the one bad input, the start of the error message)
CASES: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {
    "function_runtime": (FUNCTION_OK, {"runtime": "python3.10"}, "runtime must be one of"),
    "function_runtime_deprecated": (
        FUNCTION_OK,
        {"runtime": "python3.11"},
        "runtime python3.11 is refused: Lambda deprecated it on 2026-06-30",
    ),
    "function_tags": (
        FUNCTION_OK,
        {"tags": {f"k{i}": "v" for i in range(51)}},
        "tags must have at most 50 entries",
    ),
    "s3_fifo_destination": (
        S3_OK,
        {
            "create_on_failure_queue": False,
            "on_failure_destination_arn": "arn:aws:sqs:us-east-1:123456789012:failures.fifo",
        },
        "on_failure_destination_arn must be null or a standard SQS queue or SNS topic ARN",
    ),
    "kinesis_fifo_destination": (
        KINESIS_OK,
        {
            "create_on_failure_queue": False,
            "on_failure_destination_arn": "arn:aws:sns:us-east-1:123456789012:failures.fifo",
        },
        "on_failure_destination_arn must be null or a standard SQS queue or SNS topic ARN",
    ),
    "dynamodb_fifo_destination": (
        DYNAMODB_STREAM_OK,
        {
            "create_on_failure_queue": False,
            "on_failure_destination_arn": "arn:aws:sqs:us-east-1:123456789012:failures.fifo",
        },
        "on_failure_destination_arn must be null or a standard SQS queue or SNS topic ARN",
    ),
    "function_fifo_dead_letter": (
        FUNCTION_OK,
        {"dead_letter_target_arn": "arn:aws:sqs:us-east-1:123456789012:failures.fifo"},
        "dead_letter_target_arn must be null or a standard SQS queue or SNS topic ARN",
    ),
    "sqs_filter_count": (
        SQS_OK,
        {"filter_patterns": [f'{{"body":{{"n":[{i}]}}}}' for i in range(6)]},
        "filter_patterns must be at most 5 JSON objects",
    ),
    "sqs_filter_object": (
        SQS_OK,
        {"filter_patterns": ['["body"]']},
        "filter_patterns must be at most 5 JSON objects",
    ),
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
        "dead_letter_target_arn must be null or a standard SQS queue or SNS topic ARN",
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
    "data_table_stream": (
        DATA_TABLE_OK,
        {"stream_view_type": "ALL"},
        "stream_view_type must be null, KEYS_ONLY",
    ),
    "data_table_range_key": (DATA_TABLE_OK, {"range_key": ""}, "range_key must be null or 1-255"),
    "sqs_name": (SQS_OK, {"name": "jobs.fifo"}, "name must be 1-71 characters"),
    "sqs_queue_arn": (
        SQS_OK,
        {"create_queue": False, "queue_arn": "https://sqs.us-east-1.amazonaws.com/1/jobs"},
        "queue_arn must be null or an SQS queue ARN",
    ),
    "sqs_function_name": (SQS_OK, {"function_name": "jobs worker"}, "function_name must be 1-64"),
    "sqs_role_name": (SQS_OK, {"role_name": "role/jobs"}, "role_name must be an IAM role name"),
    "sqs_function_timeout": (SQS_OK, {"function_timeout": 0}, "function_timeout must be between"),
    "sqs_visibility": (
        SQS_OK,
        {"visibility_timeout_seconds": 50000},
        "visibility_timeout_seconds must be null or between 0 and 43200",
    ),
    "sqs_max_receive_count": (SQS_OK, {"max_receive_count": 0}, "max_receive_count must be"),
    "sqs_retention": (SQS_OK, {"message_retention_seconds": 30}, "message_retention_seconds"),
    "sqs_batch_size": (SQS_OK, {"batch_size": 0}, "batch_size must be a whole number"),
    "sqs_batching_window": (
        SQS_OK,
        {"maximum_batching_window_in_seconds": 301},
        "maximum_batching_window_in_seconds must be between 0 and 300",
    ),
    "sqs_concurrency": (SQS_OK, {"maximum_concurrency": 1}, "maximum_concurrency must be null"),
    "sqs_filter": (SQS_OK, {"filter_patterns": ["{not json"]}, "filter_patterns must be at most"),
    "sqs_kms": (SQS_OK, {"kms_key_arn": "alias/aws/sqs"}, "kms_key_arn must be null or a KMS"),
    "kinesis_stream_arn": (
        KINESIS_OK,
        {"create_stream": False, "stream_arn": "clicks"},
        "stream_arn must be null or a Kinesis stream ARN",
    ),
    "kinesis_stream_mode": (KINESIS_OK, {"stream_mode": "AUTO"}, "stream_mode must be"),
    "kinesis_retention": (KINESIS_OK, {"retention_period": 12}, "retention_period must be"),
    "kinesis_starting_position": (
        KINESIS_OK,
        {"starting_position": "EARLIEST"},
        "starting_position must be TRIM_HORIZON, LATEST or AT_TIMESTAMP",
    ),
    "kinesis_timestamp": (
        KINESIS_OK,
        {"starting_position": "AT_TIMESTAMP", "starting_position_timestamp": "yesterday"},
        "starting_position_timestamp must be null or an RFC 3339",
    ),
    "kinesis_infinite_retries": (
        KINESIS_OK,
        {"maximum_retry_attempts": -1},
        "maximum_retry_attempts must be a whole number between 0 and 10000",
    ),
    "kinesis_infinite_age": (
        KINESIS_OK,
        {"maximum_record_age_in_seconds": -1},
        "maximum_record_age_in_seconds must be a whole number between 60",
    ),
    "kinesis_parallelization": (
        KINESIS_OK,
        {"parallelization_factor": 11},
        "parallelization_factor must be",
    ),
    "kinesis_destination": (
        KINESIS_OK,
        {
            "create_on_failure_queue": False,
            "on_failure_destination_arn": "arn:aws:lambda:us-east-1:123456789012:function:x",
        },
        "on_failure_destination_arn must be null or a standard SQS queue or SNS topic ARN",
    ),
    "dynamodb_stream_arn": (
        DYNAMODB_STREAM_OK,
        {"create_table": False, "stream_arn": "arn:aws:dynamodb:us-east-1:123456789012:table/x"},
        "stream_arn must be null or a DynamoDB stream ARN",
    ),
    "dynamodb_starting_position": (
        DYNAMODB_STREAM_OK,
        {"starting_position": "AT_TIMESTAMP"},
        "starting_position must be TRIM_HORIZON or LATEST",
    ),
    "dynamodb_infinite_retries": (
        DYNAMODB_STREAM_OK,
        {"maximum_retry_attempts": -1},
        "maximum_retry_attempts must be a whole number between 0 and 10000",
    ),
    "api_route": (API_OK, {"routes": ["POST profiles"]}, "routes must be 1-50 distinct"),
    "api_duplicate_route": (
        API_OK,
        {"routes": ["GET /a", "GET /a"]},
        "routes must be 1-50 distinct",
    ),
    "api_authorization": (
        API_OK,
        {"authorization_type": "COGNITO"},
        "authorization_type must be AWS_IAM, JWT or NONE",
    ),
    "api_jwt_issuer": (
        API_OK,
        {"authorization_type": "JWT", "jwt": {**JWT, "issuer": "http://idp.example.com"}},
        "jwt.issuer must be an https:// URL",
    ),
    "api_throttling": (API_OK, {"throttling_burst_limit": 5001}, "throttling_burst_limit must"),
    "api_retention": (API_OK, {"log_retention_in_days": 2}, "log_retention_in_days must be one"),
    "s3_bucket_name": (S3_OK, {"bucket_name": "Imports_Bucket"}, "bucket_name must be 3-63"),
    "s3_events": (S3_OK, {"events": ["ObjectCreated:*"]}, "events must list at least one S3"),
    "s3_retries": (
        S3_OK,
        {"maximum_retry_attempts": 3},
        "maximum_retry_attempts must be 0, 1 or 2",
    ),
    "s3_event_age": (
        S3_OK,
        {"maximum_event_age_in_seconds": 30},
        "maximum_event_age_in_seconds must be a whole number between 60 and 21600",
    ),
    "s3_destination": (
        S3_OK,
        {
            "create_on_failure_queue": False,
            "on_failure_destination_arn": "arn:aws:s3:::imports-123456789012",
        },
        "on_failure_destination_arn must be null or a standard SQS queue or SNS topic ARN",
    ),
    "sns_topic_arn": (
        SNS_OK,
        {"create_topic": False, "topic_arn": "signups"},
        "topic_arn must be null or a standard SNS topic ARN",
    ),
    "sns_filter_policy": (SNS_OK, {"filter_policy": "{oops"}, "filter_policy must be null or a"),
    "sns_filter_scope": (
        SNS_OK,
        {"filter_policy_scope": "Body"},
        "filter_policy_scope must be MessageAttributes or MessageBody",
    ),
    "sns_retries": (SNS_OK, {"maximum_retry_attempts": 5}, "maximum_retry_attempts must be 0, 1"),
    "eventbridge_pattern": (
        EVENTBRIDGE_OK,
        {"event_pattern": "[1, 2]"},
        "event_pattern must be a JSON object",
    ),
    "eventbridge_target_retries": (
        EVENTBRIDGE_OK,
        {"target_maximum_retry_attempts": 186},
        "target_maximum_retry_attempts must be a whole number between 0 and 185",
    ),
    "eventbridge_dead_letter": (
        EVENTBRIDGE_OK,
        {
            "create_dead_letter_queue": False,
            "dead_letter_queue_arn": "arn:aws:sns:us-east-1:123456789012:options-dlq",
        },
        "dead_letter_queue_arn must be null or a standard SQS queue ARN",
    ),
}

# Calls at the edge of an input rule, validated beside CASES: each must pass.
AT_THE_LIMITS: dict[str, dict[str, Any]] = {
    "function_runtime_newest": {**FUNCTION_OK, "runtime": "python3.14"},
    "function_tags_limit": {**FUNCTION_OK, "tags": {f"k{i}": "v" for i in range(50)}},
    "root_tags_limit": {**ROOT_OK, "tags": {f"k{i}": "v" for i in range(49)}},
    "sqs_filter_limit": {
        **SQS_OK,
        "filter_patterns": [f'{{"body":{{"n":[{i}]}}}}' for i in range(5)],
    },
}

INPUT_VALIDATION = "input-validation"
MODULE_OPTIONS = "module-options"
PLAN_FAILURES = "plan-failures"
ROOT_TAGS = "root-tags"
ROOT_TAGS_CALL = {**ROOT_OK, "tags": {f"k{i}": "v" for i in range(50)}}
"""The root with 50 tags: with its own Project tag that is 51. Every nested module refuses
them too, so it has a configuration of its own, outside the one-error-per-call harness."""

KMS_KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
# The key of a given failure destination (queue or topic), apart from the source's key.
DESTINATION_KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/5678abcd-12ab-34cd-56ef-1234567890ab"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:options-dlq"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:options-dlq"
ORDERS_TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders"
ORDERS_STREAM_ARN = f"{ORDERS_TABLE_ARN}/stream/2026-01-01T00:00:00.000"
CLICKS_STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/clicks"
JOBS_QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:jobs.fifo"
FILTER = '{"body":{"kind":["profile"]}}'

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
    "long_named_functions": {**FUNCTION_OK, "function_name": "f" * 63 + "1"},
    "long_named_functions_2": {**FUNCTION_OK, "function_name": "f" * 63 + "2"},
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
    "data_table": {
        **DATA_TABLE_OK,
        "range_key": "sk",
        "stream_view_type": "NEW_IMAGE",
        "kms_key_arn": KMS_KEY_ARN,
        "point_in_time_recovery": False,
        "deletion_protection": True,
    },
    "disabled_data_table": {**DATA_TABLE_OK, "name": "data-off", "create": False},
    "sqs_fifo": {
        **SQS_OK,
        "name": "fifo-jobs",
        "fifo_queue": True,
        "content_based_deduplication": True,
        "kms_key_arn": KMS_KEY_ARN,
        "function_timeout": 60,
        "visibility_timeout_seconds": 600,
        "max_receive_count": 3,
        "maximum_concurrency": 5,
        "filter_patterns": [FILTER],
    },
    "sqs_existing": {
        **SQS_OK,
        "name": "existing",
        "create_queue": False,
        "queue_arn": JOBS_QUEUE_ARN,
        "batch_size": 5,
        "enabled": False,
    },
    "sqs_large_batches": {
        **SQS_OK,
        "name": "bulk-jobs",
        "batch_size": 500,
        "maximum_batching_window_in_seconds": 20,
    },
    "disabled_sqs": {**SQS_OK, "create": False, "function_name": None, "role_name": None},
    "kinesis_existing": {
        **KINESIS_OK,
        "create_stream": False,
        "stream_arn": CLICKS_STREAM_ARN,
        "create_on_failure_queue": False,
        "on_failure_destination_arn": TOPIC_ARN,
        "on_failure_destination_kms_key_arn": DESTINATION_KEY_ARN,
        "kms_key_arn": KMS_KEY_ARN,
        "starting_position": "AT_TIMESTAMP",
        "starting_position_timestamp": "2026-01-01T00:00:00Z",
        "batch_size": 500,
        "parallelization_factor": 4,
        "bisect_batch_on_function_error": False,
        "maximum_retry_attempts": 2,
        "maximum_record_age_in_seconds": 600,
    },
    "kinesis_provisioned": {
        **KINESIS_OK,
        "name": "provisioned-clicks",
        "stream_mode": "PROVISIONED",
        "shard_count": 2,
        "retention_period": 48,
        "kms_key_arn": KMS_KEY_ARN,
    },
    "disabled_kinesis": {**KINESIS_OK, "create": False, "function_name": None, "role_name": None},
    "dynamodb_existing": {
        **DYNAMODB_STREAM_OK,
        "create_table": False,
        "stream_arn": ORDERS_STREAM_ARN,
        "create_on_failure_queue": False,
        "on_failure_destination_arn": QUEUE_ARN,
        "starting_position": "LATEST",
        "filter_patterns": ['{"eventName":["INSERT"]}'],
    },
    "dynamodb_created": {
        **DYNAMODB_STREAM_OK,
        "name": "created-orders",
        "hash_key": "pk",
        "range_key": "sk",
        "kms_key_arn": KMS_KEY_ARN,
    },
    "disabled_dynamodb": {
        **DYNAMODB_STREAM_OK,
        "create": False,
        "function_name": None,
        "role_name": None,
    },
    "api_jwt": {
        **API_OK,
        "routes": ["POST /orders", "ANY /orders/{order_id}/items/{item_id}"],
        "authorization_type": "JWT",
        "jwt": JWT,
        "throttling_burst_limit": 20,
        "throttling_rate_limit": 10,
        "log_retention_in_days": 30,
        "log_kms_key_arn": KMS_KEY_ARN,
    },
    "api_open": {
        **API_OK,
        "name": "open-api",
        "authorization_type": "NONE",
        "routes": ["POST /profiles", "GET /a-b", "GET /a/b"],
    },
    "disabled_api": {**API_OK, "create": False, "function_name": None},
    "s3_existing": {
        **S3_OK,
        "create_bucket": False,
        "bucket_name": "existing-imports",
        "create_on_failure_queue": False,
        "on_failure_destination_arn": TOPIC_ARN,
        "kms_key_arn": KMS_KEY_ARN,
        "events": ["s3:ObjectCreated:Put", "s3:ObjectCreated:CompleteMultipartUpload"],
        "maximum_retry_attempts": 0,
        "maximum_event_age_in_seconds": 600,
    },
    "s3_created": {
        **S3_OK,
        "name": "created-imports",
        "bucket_name": "created-imports-123456789012",
        "kms_key_arn": KMS_KEY_ARN,
        "force_destroy": True,
        "noncurrent_version_expiration_days": 7,
    },
    "disabled_s3": {**S3_OK, "create": False, "function_name": None, "role_name": None},
    "s3_shared": {
        **S3_OK,
        "name": "shared-imports",
        "create_bucket": False,
        "delivery": "eventbridge",
        "bucket_name": "shared-imports",
        "filter_prefix": "in*coming/",
        "filter_suffix": ".json",
        "events": ["s3:ObjectCreated:Put", "s3:ObjectRemoved:*"],
        "create_on_failure_queue": False,
        "on_failure_destination_arn": QUEUE_ARN,
        "target_maximum_retry_attempts": 10,
        "target_maximum_event_age_in_seconds": 3600,
    },
    "s3_eventbridge_created": {
        **S3_OK,
        "name": "eventbridge-imports",
        "delivery": "eventbridge",
        "bucket_name": "eventbridge-imports-123456789012",
        "filter_prefix": "incoming/",
        "filter_suffix": "",  # empty: no filter, as in a notification
    },
    "sns_existing": {
        **SNS_OK,
        "create_topic": False,
        "topic_arn": "arn:aws:sns:us-east-1:123456789012:signups",
        "create_dead_letter_queue": False,
        "dead_letter_queue_arn": QUEUE_ARN,
        "dead_letter_queue_kms_key_arn": DESTINATION_KEY_ARN,
        "filter_policy": '{"event_type":["profile.created"]}',
        "filter_policy_scope": "MessageBody",
        "maximum_retry_attempts": 1,
    },
    "sns_created": {**SNS_OK, "name": "created-signups", "kms_key_arn": KMS_KEY_ARN},
    "disabled_sns": {**SNS_OK, "create": False, "function_name": None, "role_name": None},
    "eventbridge_custom_bus": {
        **EVENTBRIDGE_OK,
        "name": "order-placed",
        "event_bus_name": "orders",
        "event_pattern": '{"source":["shop.orders"]}',
        "enabled": False,
        "target_maximum_retry_attempts": 3,
        "target_maximum_event_age_in_seconds": 600,
    },
    "eventbridge_existing_queue": {
        **EVENTBRIDGE_OK,
        "name": "other-rule",
        "create_dead_letter_queue": False,
        "dead_letter_queue_arn": QUEUE_ARN,
    },
    "disabled_eventbridge": {
        **EVENTBRIDGE_OK,
        "create": False,
        "function_name": None,
        "role_name": None,
    },
    "sqs_only_stack": {
        **ROOT_OK,
        "name_prefix": "sqs-only",
        "triggers": {
            "api_gateway": False,
            "s3": False,
            "sns": False,
            "eventbridge": False,
            "kinesis": False,
            "dynamodb_stream": False,
        },
    },
}
DISABLED_OUTPUTS = {
    "disabled_function": ("function_name", "function_arn", "role_name"),
    "disabled_table": ("name", "arn"),
    "disabled_data_table": ("name", "arn", "stream_arn"),
    "disabled_sqs": (
        "queue_arn",
        "queue_url",
        "dead_letter_queue_arn",
        "event_source_mapping_uuid",
    ),
    "disabled_kinesis": ("stream_arn", "stream_name", "on_failure_destination_arn"),
    "disabled_dynamodb": ("stream_arn", "table_name", "on_failure_destination_arn"),
    "disabled_api": ("api_id", "url", "execution_arn", "authorization_type", "log_group_name"),
    "disabled_s3": ("bucket_name", "bucket_arn", "on_failure_destination_arn", "event_rule_arn"),
    "disabled_sns": ("topic_arn", "subscription_arn", "dead_letter_queue_arn"),
    "disabled_eventbridge": ("rule_name", "rule_arn", "dead_letter_queue_arn"),
}
"""Outputs that must be null when a module call has create = false."""


def _outputs(call: str, *names: str) -> dict[str, str]:
    return {f"{call}_{name}": f"module.{call}.{name}" for name in names}


OPTION_OUTPUTS = {
    **{k: v for call, names in DISABLED_OUTPUTS.items() for k, v in _outputs(call, *names).items()},
    **_outputs("sqs_fifo", "queue_name", "fifo", "dead_letter_queue_arn"),
    **_outputs("sqs_existing", "queue_arn", "queue_url", "fifo", "dead_letter_queue_arn"),
    **_outputs("kinesis_existing", "stream_name", "on_failure_destination_arn"),
    **_outputs("kinesis_existing", "on_failure_queue_url"),
    **_outputs("dynamodb_existing", "stream_arn", "table_name", "on_failure_queue_url"),
    **_outputs("sqs_only_stack", "sqs_function_name", "sqs_queue_arn", "profiles_table_name"),
    **_outputs("sqs_only_stack", "kinesis_function_name", "kinesis_stream_arn"),
    **_outputs("sqs_only_stack", "dynamodb_stream_function_name", "dynamodb_stream_arn"),
    **_outputs("sqs_only_stack", "counters_table_name", "audit_table_name"),
    **_outputs("sqs_only_stack", "api_gateway_function_name", "api_gateway_url"),
    **_outputs("sqs_only_stack", "s3_function_name", "s3_bucket_name", "sns_topic_arn"),
    **_outputs("sqs_only_stack", "eventbridge_rule_arn", "instance_states_table_name"),
    **_outputs("s3_existing", "bucket_name", "bucket_arn", "on_failure_destination_arn"),
    **_outputs("s3_existing", "event_rule_arn"),
    **_outputs("s3_shared", "event_rule_arn"),
    **_outputs("sns_existing", "topic_arn", "dead_letter_queue_arn", "dead_letter_queue_url"),
    **_outputs("eventbridge_custom_bus", "rule_arn", "event_bus_name"),
}

# plan-failures: name -> (inputs of a call whose plan must fail, the start of the message)
PLAN_FAILURE_CASES: dict[str, tuple[dict[str, Any], str]] = {
    "sqs_visibility": (
        {**SQS_OK, "name": "short-visibility", "visibility_timeout_seconds": 100},
        "The queue's visibility timeout (100 s) must be at least 6 times the function "
        "timeout (30 s), i.e. at least 180 s",
    ),
    "sqs_fifo_window": (
        {**SQS_OK, "fifo_queue": True, "maximum_batching_window_in_seconds": 5},
        "A FIFO queue allows batch_size 1-10 and no batching window",
    ),
    "sqs_large_batch": (
        {**SQS_OK, "batch_size": 100},
        "batch_size above 10 needs maximum_batching_window_in_seconds of at least 1",
    ),
    "sqs_missing_arn": (
        {**SQS_OK, "create_queue": False},
        "Set queue_arn when create_queue is false, and only then",
    ),
    "kinesis_record_age": (
        {**KINESIS_OK, "maximum_record_age_in_seconds": 100000},
        "maximum_record_age_in_seconds (100000) must not exceed the stream's retention (24 h)",
    ),
    "kinesis_timestamp": (
        {**KINESIS_OK, "starting_position": "AT_TIMESTAMP"},
        "starting_position_timestamp is required with starting_position AT_TIMESTAMP",
    ),
    "dynamodb_missing_arn": (
        {**DYNAMODB_STREAM_OK, "create_table": False},
        "Set stream_arn when create_table is false, and only then",
    ),
    "api_jwt_missing": (
        {**API_OK, "authorization_type": "JWT"},
        "Set jwt (issuer and audience) with authorization_type JWT, and only then",
    ),
    "s3_missing_destination": (
        {**S3_OK, "create_on_failure_queue": False},
        "Set on_failure_destination_arn when create_on_failure_queue is false, and only then",
    ),
    "s3_eventbridge_topic": (
        {
            **S3_OK,
            "name": "eventbridge-topic",
            "delivery": "eventbridge",
            "create_on_failure_queue": False,
            "on_failure_destination_arn": TOPIC_ARN,
        },
        'With delivery = "eventbridge", the on-failure destination must be an SQS queue',
    ),
    "s3_eventbridge_event": (
        {
            **S3_OK,
            "name": "eventbridge-replication",
            "delivery": "eventbridge",
            "events": ["s3:ObjectCreated:*", "s3:Replication:OperationFailedReplication"],
        },
        'With delivery = "eventbridge", every entry of events must be an S3 event type',
    ),
    "s3_eventbridge_long_name": (
        {**S3_OK, "name": "r" * 65, "delivery": "eventbridge"},
        'With delivery = "eventbridge", name must be at most 64 characters',
    ),
    "sns_missing_topic": (
        {**SNS_OK, "create_topic": False},
        "Set topic_arn when create_topic is false, and only then",
    ),
    "eventbridge_missing_queue": (
        {**EVENTBRIDGE_OK, "create_dead_letter_queue": False},
        "Set dead_letter_queue_arn when create_dead_letter_queue is false, and only then",
    ),
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
            key: value.replace("{tree}", tree_path) if isinstance(value, str) else value
            for key, value in inputs.items()
        }
        lines = "\n".join(f"  {key} = {json.dumps(value)}" for key, value in arguments.items())
        blocks.append(f'module "{name}" {{\n{lines}\n}}\n')
    for name, expression in (outputs or {}).items():
        blocks.append(f'output "{name}" {{\n  value = {expression}\n}}\n')
    (directory / "main.tf").write_text("\n".join(blocks))
    return directory


def write_all(tree: Path) -> dict[str, Path]:
    """The test-only configurations, beside ``tree``, by name."""
    invalid = {name: {**valid, **bad} for name, (valid, bad, _) in CASES.items()}
    invalid.update(AT_THE_LIMITS)
    failing = {name: inputs for name, (inputs, _) in PLAN_FAILURE_CASES.items()}
    return {
        INPUT_VALIDATION: write_module_calls(tree.parent / INPUT_VALIDATION, tree, invalid),
        MODULE_OPTIONS: write_module_calls(
            tree.parent / MODULE_OPTIONS, tree, OPTIONS, OPTION_OUTPUTS
        ),
        PLAN_FAILURES: write_module_calls(tree.parent / PLAN_FAILURES, tree, failing),
        ROOT_TAGS: write_module_calls(tree.parent / ROOT_TAGS, tree, {"root": ROOT_TAGS_CALL}),
    }


# modules/function's layers and architectures (tests/terraform/test_function_module.py).
LAYER_ARNS = [
    "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:7",
    *(f"arn:aws:lambda:us-east-1:123456789012:layer:orders-shared-{i}:{i}" for i in range(1, 5)),
]
"""Five layer versions (Lambda's limit), in the order the function must list them."""
FUNCTION_LAYER_CASES: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {
    "function_six_layers": (
        FUNCTION_OK,
        {"layers": [*LAYER_ARNS, f"{LAYER_ARNS[1]}0"]},
        "layers must hold at most 5 layer version ARNs",
    ),
    "function_layer_without_version": (
        FUNCTION_OK,
        {"layers": ["arn:aws:lambda:us-east-1:123456789012:layer:orders-shared"]},
        "layers must be layer version ARNs",
    ),
    "function_unknown_architecture": (
        FUNCTION_OK,
        {"architectures": ["aarch64"]},
        'architectures must be null, ["x86_64"] or ["arm64"]',
    ),
    "function_two_architectures": (
        FUNCTION_OK,
        {"architectures": ["x86_64", "arm64"]},
        'architectures must be null, ["x86_64"] or ["arm64"]',
    ),
    "function_unknown_deprecated_architecture": (
        FUNCTION_OK,
        {"architecture": "arm"},
        "architecture must be null, x86_64 or arm64",
    ),
}
CASES.update(FUNCTION_LAYER_CASES)
OPTIONS.update(
    {
        "function_arm64_layers": {
            **FUNCTION_OK,
            "function_name": "options-arm64",
            "handler": "orders.handlers.place_order",
            "architectures": ["arm64"],
            "layers": LAYER_ARNS,
        },
        "function_deprecated_architecture": {
            **FUNCTION_OK,
            "function_name": "options-legacy-architecture",
            "architecture": "arm64",
        },
    }
)
OPTION_OUTPUTS.update(
    {
        **_outputs("function_arm64_layers", "architectures"),
        **_outputs("with_sns_dead_letter", "architectures"),
        **_outputs("disabled_function", "architectures"),
    }
)
FUNCTION_BOTH_ARCHITECTURES = (
    "Set architectures or the deprecated architecture, not both: "
    'architectures = ["arm64"] replaces architecture = "arm64"'
)
PLAN_FAILURE_CASES["function_both_architectures"] = (
    {
        **FUNCTION_OK,
        "function_name": "both-architectures",
        "architecture": "arm64",
        "architectures": ["arm64"],
    },
    FUNCTION_BOTH_ARCHITECTURES,
)
