"""Deprecated: moved to :mod:`lambda_dedup.reference.domain`, with the rest of the reference
domain, which is not the library's API. Kept so that existing imports keep working."""

from __future__ import annotations

import warnings

from lambda_dedup.reference.domain import *  # noqa: F403
from lambda_dedup.reference.domain import __all__ as __all__

warnings.warn(
    "lambda_dedup.domain moved to lambda_dedup.reference.domain",
    DeprecationWarning,
    stacklevel=2,
)
