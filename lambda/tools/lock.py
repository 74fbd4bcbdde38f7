"""Write a lock: the exact, hash-pinned dependencies that ``package.py`` puts in the zip.

Requirements (ranges) are resolved by pip for Linux x86_64 and every supported Lambda
runtime (python3.12-3.14), wheels only. Each pinned wheel is recorded with its sha256, so
that ``package.py`` downloads exactly these files. The runtimes must agree on one set; if
they do not, the lock cannot serve all of them and this fails.

Usage:

* ``python lambda/tools/lock.py`` (``make lock``): the package's ``dependencies`` from
  ``pyproject.toml`` into ``lambda/requirements.lock``;
* ``python lambda/tools/lock.py --input requirements.in --output requirements.lock``: a
  team's requirements (pip's requirements-file format), resolved with the project's lock
  as constraints, so that every package both need is pinned as the project pins it (pip
  fails if the team's ranges exclude a project pin). The lock's ``# requested:`` line
  names the packages asked for directly (names and extras; the ranges stay in the input),
  whose dependencies ``package.py --without-sdk`` keeps. A package whose
  wheels are built for each CPython version (``cp312``, ``cp313``...) cannot serve every
  runtime from one lock: add ``--python 3.13``, the function's runtime.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

LAMBDA_DIR = Path(__file__).resolve().parents[1]
PYPROJECT = LAMBDA_DIR / "pyproject.toml"
LOCK = LAMBDA_DIR / "requirements.lock"
PYTHON_VERSIONS = ("3.12", "3.13", "3.14")
PLATFORM = "manylinux2014_x86_64"


Pins = dict[str, tuple[str, str, str]]
"""``{name: (version, wheel filename, sha256)}``."""


def resolve(
    requirements: list[str], python_version: str, constraints: Path | None = None
) -> tuple[Pins, list[str]]:
    """What pip resolves ``requirements`` (pip arguments: specifiers, or ``-r FILE``) to
    for a runtime, and the requested ones as ``name[extras]``."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        subprocess.run(
            [
                sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
                "--quiet", "--report", str(report), "--only-binary=:all:",
                "--platform", PLATFORM, "--python-version", python_version,
                "--implementation", "cp", *(["-c", str(constraints)] if constraints else []),
                *requirements,
            ],
            check=True,
        )  # fmt: skip
        resolved = json.loads(report.read_text())
    pins: Pins = {}
    requested = []
    for entry in resolved["install"]:
        info = entry["download_info"]
        sha256 = info.get("archive_info", {}).get("hashes", {}).get("sha256")
        if not sha256:
            raise SystemExit(f"pip reported no sha256 for {info['url']}")
        name = canonical(entry["metadata"]["name"])
        pins[name] = (entry["metadata"]["version"], info["url"].rsplit("/", 1)[-1], sha256)
        if entry.get("requested"):
            extras = sorted(canonical(e) for e in entry.get("requested_extras") or [])
            requested.append(name + (f"[{','.join(extras)}]" if extras else ""))
    return pins, sorted(requested)


def canonical(name: str) -> str:
    """A name as PEP 503 compares names (the lock's spelling)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def resolve_everywhere(
    requirements: list[str],
    constraints: Path | None = None,
    versions: tuple[str, ...] = PYTHON_VERSIONS,
) -> tuple[Pins, list[str]]:
    """One resolution that serves every runtime of ``versions``, or a refusal."""
    per_runtime = {v: resolve(requirements, v, constraints) for v in versions}
    reference = per_runtime[versions[0]]
    for version, resolution in per_runtime.items():
        if resolution != reference:
            diff = set(resolution[0].items()) ^ set(reference[0].items())
            raise SystemExit(
                f"Python {version} resolves differently from {versions[0]}: {sorted(diff)}; "
                "a lock for one runtime (--python) may serve"
            )
    return reference


def lock_lines(pins: Pins) -> list[str]:
    return [
        f"{name}=={version} --hash=sha256:{sha256}  # {wheel}"
        for name, (version, wheel, sha256) in sorted(pins.items())
    ]


def project_pins(lock: Path = LOCK) -> list[str]:
    """``name==version`` of every line of the project's lock (pip constraints)."""
    return [
        line.split()[0]
        for line in lock.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]


def lock_team(
    requirements_in: Path,
    output: Path,
    project_lock: Path = LOCK,
    versions: tuple[str, ...] = PYTHON_VERSIONS,
) -> int:
    """Lock a team's requirements against the project's pins into ``output``."""
    if not requirements_in.is_file():
        raise SystemExit(f"--input {requirements_in}: no such file")
    with tempfile.TemporaryDirectory() as scratch:
        constraints = Path(scratch) / "constraints.txt"
        constraints.write_text("\n".join(project_pins(project_lock)) + "\n")
        pins, requested = resolve_everywhere(["-r", str(requirements_in)], constraints, versions)
    lines = [
        "# Exact dependencies of a team's code in the deployment zip, for Python "
        + ", ".join(versions) + f" on {PLATFORM}.",
        f"# Generated by lambda/tools/lock.py --input {requirements_in.as_posix()}, resolved "
        "against the pins of lambda/requirements.lock; do not edit.",
        "# requested: " + " ".join(requested),
        *lock_lines(pins),
    ]  # fmt: skip
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("\n".join(lines) + "\n")
    print(f"wrote {output} ({len(pins)} wheels)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a hash-pinned lock for the zip.")
    parser.add_argument(
        "--input",
        type=Path,
        help="a team's requirements file; without it, the package's dependencies",
    )
    parser.add_argument("--output", type=Path, help="the team's lock (required with --input)")
    parser.add_argument(
        "--python",
        action="append",
        choices=PYTHON_VERSIONS,
        help="a runtime the team's lock serves (repeatable; default: all of them)",
    )
    args = parser.parse_args(argv)
    if args.input is not None or args.output is not None:
        if args.input is None or args.output is None:
            parser.error("--input and --output go together")
        versions = tuple(sorted(set(args.python))) if args.python else PYTHON_VERSIONS
        return lock_team(args.input, args.output, versions=versions)
    if args.python:
        parser.error("--python applies to a team's lock (--input) only")
    requirements = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    pins, _ = resolve_everywhere(requirements)
    lines = [
        "# Exact runtime dependencies of the deployment zip, for Python "
        + ", ".join(PYTHON_VERSIONS) + f" on {PLATFORM}.",
        "# Generated by lambda/tools/lock.py (make lock) from pyproject.toml; do not edit.",
        *lock_lines(pins),
    ]  # fmt: skip
    LOCK.write_text("\n".join(lines) + "\n")
    print(f"wrote {LOCK.relative_to(LAMBDA_DIR.parent)} ({len(pins)} wheels)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
