"""Playing the Lambda service for a stack deployed to a local emulator (moto server).

moto accepts the whole stack through ``terraform apply`` but runs no function code and
delivers no event to a function. This package fills that gap without Docker: the
:class:`~lambda_dedup.local.runner.Runner` (``python -m lambda_dedup.local``) reads the
stack's wiring from the emulator's own APIs and runs each function's deployed zip in an
execution environment of its own (:mod:`.sandbox`: a process with the function's
environment), with events shaped as Lambda delivers them and a Lambda-like context:

* SQS: :mod:`.sqs` polls each mapped queue, with partial batch responses;
* Kinesis and DynamoDB Streams: :mod:`.streams` reads each shard in order, with
  retries, bisect and failure records;
* S3, SNS, EventBridge: :mod:`.s3`, :mod:`.sns`, :mod:`.eventbridge` find the events,
  :mod:`.asynchronous` invokes as Lambda does asynchronously (retries, then the
  on-failure destination);
* API Gateway (HTTP API): :mod:`.api` serves each API on loopback.

It is a development tool: the deployment zip leaves it out.
"""

from __future__ import annotations

from lambda_dedup.local.functions import (
    FunctionError,
    Invocation,
    Invoker,
    LocalContext,
    LocalFunction,
)
from lambda_dedup.local.runner import Runner

__all__ = ["FunctionError", "Invocation", "Invoker", "LocalContext", "LocalFunction", "Runner"]
