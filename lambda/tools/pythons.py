"""Run the package's unit tests on every other Python version it supports.

``make test`` runs the whole suite on the default interpreter; this runs ``tests/unit``
again on each version named (default: those of ``DEFAULT_VERSIONS``), each in a virtual
environment of its own (``<prefix>-<version>``), with the package and its dev group
installed, as ``make setup`` installs them. An interpreter is looked up on ``PATH``
(``python3.12``) and then among pyenv's versions. A version that cannot be found fails
the run with a message that says how to get it: a missing version is never skipped.

Usage: ``python lambda/tools/pythons.py [--venv-prefix PREFIX] [VERSION ...]``
(``make test-pythons``; ``PYTHONS="3.12"`` narrows it).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = REPO / "lambda" / "pyproject.toml"
DEFAULT_VERSIONS = ("3.12", "3.13")
"""The supported versions besides the default interpreter's that this machine can install
(Lambda's python3.14 cannot be installed here: no package source offers it)."""


def find_interpreter(version: str) -> str | None:
    """A working ``python<version>``: on PATH, else one of pyenv's versions."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [shutil.which(f"python{version}") or ""]
    candidates += sorted(
        (str(p) for p in pyenv_root.glob(f"versions/{version}*/bin/python{version}")),
        reverse=True,
    )
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    return None


def ensure_venv(interpreter: str, venv: Path) -> Path:
    """The venv's python, created and installed unless the same pyproject already was."""
    python = venv / "bin" / "python"
    stamp = venv / ".installed"
    digest = hashlib.sha256(PYPROJECT.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return python
    subprocess.run([interpreter, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip>=25.1"], check=True)
    subprocess.run([*pip, "-e", str(REPO / "lambda"), "--group", f"{PYPROJECT}:dev"], check=True)
    stamp.write_text(digest)
    return python


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("versions", nargs="*", default=list(DEFAULT_VERSIONS))
    parser.add_argument(
        "--venv-prefix",
        default=str(REPO / ".venv"),
        help="each version's virtual environment is <prefix>-<version> (default .venv-3.12...)",
    )
    args = parser.parse_args(argv)
    missing = [v for v in args.versions if find_interpreter(v) is None]
    if missing:
        print(
            f"Python {', '.join(missing)} not found on PATH or in pyenv: install it"
            " (pyenv install <version>), or name the versions to test in PYTHONS.",
            file=sys.stderr,
        )
        return 2
    results: dict[str, int] = {}
    for version in args.versions:
        interpreter = find_interpreter(version)
        assert interpreter is not None
        print(f"--- unit tests on Python {version} ({interpreter})", flush=True)
        python = ensure_venv(interpreter, Path(f"{args.venv_prefix}-{version}"))
        command = [str(python), "-m", "pytest", "tests/unit", "-q", "-n", "2"]
        results[version] = subprocess.run(command, cwd=REPO).returncode
    for version, code in results.items():
        print(f"Python {version}: {'passed' if code == 0 else f'FAILED (pytest exit {code})'}")
    return 0 if all(code == 0 for code in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
