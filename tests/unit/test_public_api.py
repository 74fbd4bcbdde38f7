"""The public API: every name in ``__all__`` resolves, every toolkit entry point has an
example, the examples in docstrings run, and the names that moved still import."""

from __future__ import annotations

import doctest
import importlib
import sys
import warnings

import pytest

import lambda_dedup
from lambda_dedup import Deduplicator

PUBLIC_MODULES = [
    "lambda_dedup",
    "lambda_dedup.asynchronous",
    "lambda_dedup.batch",
    "lambda_dedup.deduplicator",
    "lambda_dedup.effects",
    "lambda_dedup.exceptions",
    "lambda_dedup.http",
    "lambda_dedup.keys",
    "lambda_dedup.processor",
    "lambda_dedup.runtime",
    "lambda_dedup.storable",
    "lambda_dedup.store",
    "lambda_dedup.store.memory",
    "lambda_dedup.testing",
    "lambda_dedup.testing.events",
]

ENTRY_POINTS = [
    lambda_dedup.process_batch,
    lambda_dedup.batch_handler,
    lambda_dedup.process_event,
    lambda_dedup.event_handler,
    lambda_dedup.handle_event,
    lambda_dedup.parse_or_reject,
    Deduplicator.from_env,
    Deduplicator.once,
    "lambda_dedup.http.IdempotencyKey",
    "lambda_dedup.http.current_request",
    "lambda_dedup.http.add_effects",
    "lambda_dedup.http.http_handler",
    "lambda_dedup.http.resolve",
    "lambda_dedup.processor.KeyedBatchProcessor",
    "lambda_dedup.runtime.deduplicator",
    "lambda_dedup.runtime.once",
    "lambda_dedup.testing.plugin.dedup_env",
]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_every_public_name_resolves(name: str) -> None:
    module = importlib.import_module(name)
    for public in getattr(module, "__all__", []):
        assert getattr(module, public) is not None, f"{name}.{public}"


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=lambda entry: str(entry).split()[1:2])
def test_every_entry_point_documents_an_example(entry: object) -> None:
    if isinstance(entry, str):
        module, _, name = entry.rpartition(".")
        entry = getattr(importlib.import_module(module), name)
    assert "Examples:" in (entry.__doc__ or ""), entry


@pytest.mark.parametrize(
    "name",
    [
        "lambda_dedup.asynchronous",
        "lambda_dedup.batch",
        "lambda_dedup.deduplicator",
        "lambda_dedup.exceptions",
        "lambda_dedup.http",
        "lambda_dedup.runtime",
    ],
)
def test_the_docstring_examples_run(name: str) -> None:
    # GIVEN a toolkit module's docstrings / WHEN their >>> examples run / THEN they hold
    module = importlib.import_module(name)
    failed, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert attempted > 0
    assert failed == 0


def test_the_reference_domain_left_the_api_but_its_old_imports_still_work() -> None:
    # GIVEN the reference domain's new home
    from lambda_dedup.reference import domain, senders

    # THEN it is not in the library's API
    assert "domain" not in lambda_dedup.__all__
    assert "senders" not in lambda_dedup.__all__
    # AND its old module names still import, with a deprecation warning
    for old, new in (("lambda_dedup.domain", domain), ("lambda_dedup.senders", senders)):
        sys.modules.pop(old, None)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            module = importlib.import_module(old)
        assert any(issubclass(w.category, DeprecationWarning) for w in caught)
        assert all(getattr(module, name) is getattr(new, name) for name in new.__all__)
