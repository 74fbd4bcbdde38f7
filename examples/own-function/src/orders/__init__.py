"""The orders team's functions, built on lambda-dedup's toolkit.

* :mod:`orders.consumer`: order events from an SQS queue, each recorded once;
* :mod:`orders.api`: ``POST /orders`` (once per ``Idempotency-Key``) and
  ``GET /orders/{order_id}``.
"""
