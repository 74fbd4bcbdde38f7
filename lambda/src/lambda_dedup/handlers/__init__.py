"""Lambda handlers, one module per event source.

Each handler's ``handler`` function is the Lambda entry point
(``lambda_dedup.handlers.<module>.handler``). Handlers read their settings from the
environment on first use, so importing them has no side effect.
"""
