"""The Python code is ruff-clean, ruff-formatted and mypy-clean (strict)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "lambda" / "pyproject.toml"
PATHS = ["lambda/src", "lambda/tools", "tests"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True)


def test_ruff_lint() -> None:
    result = run("ruff", "check", "--config", str(CONFIG), "--output-format", "concise", *PATHS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = run("ruff", "format", "--check", "--config", str(CONFIG), *PATHS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict() -> None:
    result = run(
        "mypy", "--config-file", str(CONFIG), "lambda/src/lambda_dedup", "lambda/tools", "tests"
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_team_example_is_clean_by_its_own_settings() -> None:
    # examples/own-function is a team's project, linted as the team would (its pyproject.toml)
    example = REPO / "examples" / "own-function"
    for args in (
        ("ruff", "check", "."),
        ("ruff", "format", "--check", "."),
        ("mypy", "src", "tests"),
    ):
        result = subprocess.run(
            [sys.executable, "-m", *args], cwd=example, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr
