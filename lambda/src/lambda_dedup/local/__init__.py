"""Playing the Lambda service for a stack deployed to a local emulator (moto server).

moto accepts the whole stack through ``terraform apply`` but runs no function code and
delivers no event to a function. This package fills that gap without Docker: it reads
each function's handler and environment from the emulator's own Lambda API and invokes
the handler in this process, with a Lambda-like context.

It is the foundation of the local runner (``python -m lambda_dedup.local``); the event
sources' delivery loops build on :class:`Invoker`.
"""

from __future__ import annotations

from lambda_dedup.local.functions import (
    FunctionError,
    Invocation,
    Invoker,
    LocalContext,
    LocalFunction,
)

__all__ = ["FunctionError", "Invocation", "Invoker", "LocalContext", "LocalFunction"]
