"""The deployment zip: reproducible, complete, and runnable on its own."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import package as package_tool
import pytest

REPO = Path(__file__).resolve().parents[2]


SUPPORTED = ("3.11", "3.12", "3.13", "3.14")
"""The Python versions the package declares (3.14 is run where an interpreter exists)."""


def _interpreters() -> dict[str, str]:
    """One real interpreter per Lambda Python version found here (pyenv's included)."""
    candidates = [sys.executable]
    for version in SUPPORTED:
        candidates += [
            str(p) for p in Path.home().glob(f".pyenv/versions/{version}*/bin/python{version}")
        ]
        candidates.append(shutil.which(f"python{version}") or "")
    found: dict[str, str] = {}
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
        )
        version = probe.stdout.strip()
        if probe.returncode == 0 and version in SUPPORTED:
            found.setdefault(version, candidate)
    return found


RUNTIMES = _interpreters()


def test_same_sources_give_the_same_bytes(tmp_path: Path, package_zip: Path) -> None:
    # GIVEN a zip built from the current sources
    # WHEN the sources are touched (new mtimes, same content) and it is built again
    for source in (REPO / "lambda" / "src").rglob("*.py"):
        os.utime(source)
    again = package_tool.build(tmp_path / "again.zip")
    # THEN it is byte-for-byte the same, so the plan's source_code_hash does not change
    assert again.read_bytes() == package_zip.read_bytes()


def test_a_changed_source_changes_the_zip(tmp_path: Path, package_zip: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(REPO / "lambda" / "src", src)
    (src / "lambda_dedup" / "keys.py").write_text("# changed\n", encoding="utf-8")
    entries = dict(package_tool.source_entries(src))
    assert entries["lambda_dedup/keys.py"] == b"# changed\n"


def test_zip_holds_the_package_and_its_locked_dependencies_only(package_zip: Path) -> None:
    with zipfile.ZipFile(package_zip) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    top_level = {name.split("/")[0] for name in names}
    assert "lambda_dedup" in top_level
    assert {"aws_lambda_powertools", "boto3", "botocore"} <= top_level
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)
    assert not any(name.startswith(("tests/", "lambda_dedup/tools")) for name in names)
    assert not any(name.startswith("lambda_dedup/local/") for name in names)  # the runner
    assert names == sorted(names)
    assert {info.date_time for info in infos} == {package_tool.FIXED_TIME}
    assert {info.external_attr for info in infos} == {package_tool.FILE_MODE}


def test_lock_pins_every_runtime_dependency() -> None:
    pyproject = tomllib.loads((REPO / "lambda" / "pyproject.toml").read_text())
    declared = {
        re.split(r"[<>=!~ ;\[]", dep, maxsplit=1)[0].lower()
        for dep in pyproject["project"]["dependencies"]
    }
    locked = {wheel.name for wheel in package_tool.read_lock()}
    assert declared == {"aws-lambda-powertools", "boto3"}
    assert declared <= locked


@pytest.mark.parametrize("version", sorted(RUNTIMES))
def test_handler_runs_from_the_unpacked_zip_alone(
    version: str, package_zip: Path, tmp_path: Path
) -> None:
    # GIVEN the zip unpacked as Lambda unpacks it to /var/task
    task = tmp_path / "task"
    with zipfile.ZipFile(package_zip) as archive:
        archive.extractall(task)
    # WHEN an interpreter without site-packages imports every handler and builds the store
    script = (
        "import sys, importlib, pkgutil; sys.path.insert(0, sys.argv[1]);"
        "import lambda_dedup.handlers as hs, lambda_dedup.runtime as r;"
        "names = [m.name for m in pkgutil.iter_modules(hs.__path__) if not m.name[0] == '_'];"
        "[importlib.import_module('lambda_dedup.handlers.' + n).handler for n in names];"
        "import boto3, aws_lambda_powertools;"
        "print(r.store().table_name, boto3.__file__.startswith(sys.argv[1]), len(names))"
    )
    env = {**os.environ, "DEDUP_TABLE_NAME": "t", "AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run(
        [RUNTIMES[version], "-I", "-S", "-c", script, str(task)],
        capture_output=True,
        text=True,
        env=env,
    )
    # THEN everything it needs came from the zip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["t", "True", "8"]  # api ... sqs: eight entry points
