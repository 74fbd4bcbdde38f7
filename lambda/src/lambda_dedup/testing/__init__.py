"""The test kit: what a project needs to unit-test its Lambda handlers and its use of
``lambda_dedup``, without AWS.

Install it with ``pip install lambda-dedup[testing]`` (it adds pytest and moto). pytest
then loads :mod:`lambda_dedup.testing.plugin` by itself, and its fixtures are in every
test: ``lambda_context``, ``fake_clock``, ``memory_store``, ``aws_credentials``, ``aws``,
``dynamodb``, ``dedup_table``, ``dedup_store``, ``read_item``, ``dynamodb_requests``,
``dynamodb_faults``.

The modules:

* :mod:`lambda_dedup.testing.events`: events as each trigger delivers them (SQS, Kinesis,
  DynamoDB Streams, S3, SNS, EventBridge, API Gateway, function URLs, direct invocation);
* :mod:`lambda_dedup.testing.context`: :class:`LambdaContext`;
* :mod:`lambda_dedup.testing.clock`: :class:`FakeClock`;
* :mod:`lambda_dedup.testing.aws`: DynamoDB tables as the modules create them, request
  and write counting, fault injection;
* :mod:`lambda_dedup.testing.moto`: moto's DynamoDB made to behave as DynamoDB does
  where tests depend on it.

Importing this package imports neither pytest nor moto; nothing of the kit is part of
the deployment package, and ``import lambda_dedup`` never imports it.

Examples:
    >>> from lambda_dedup.testing import FakeClock, LambdaContext, events
    >>> LambdaContext(function_name="orders").function_name
    'orders'
    >>> len(events.sqs_event(["a", "b"])["Records"])
    2
"""

from __future__ import annotations

from lambda_dedup.testing import events
from lambda_dedup.testing.clock import FakeClock
from lambda_dedup.testing.context import ACCOUNT_ID, REGION, LambdaContext

__all__ = ["ACCOUNT_ID", "REGION", "FakeClock", "LambdaContext", "events"]
