"""Deprecated: moved to :mod:`lambda_dedup.reference.senders`, with the rest of the reference
domain, which is not the library's API. Kept so that existing imports keep working."""

from __future__ import annotations

import warnings

from lambda_dedup.reference.senders import *  # noqa: F403
from lambda_dedup.reference.senders import __all__ as __all__

warnings.warn(
    "lambda_dedup.senders moved to lambda_dedup.reference.senders",
    DeprecationWarning,
    stacklevel=2,
)
