"""Build the deployment zip: ``lambda_dedup`` plus its locked runtime dependencies.

The zip is byte-for-byte reproducible -- the same sources and lock give the same bytes,
so the same ``source_code_hash`` and no spurious change in a plan:

* dependencies are the wheels pinned in ``requirements.lock``, verified by sha256 and
  unpacked by this script (not installed by pip, whose output varies by version);
* entries are sorted, with a fixed timestamp (1980-01-01), fixed permissions and fixed
  compression; no directory entries, no ``__pycache__``, no ``.pyc``.

Usage: ``python lambda/tools/package.py [--output build/lambda.zip]`` (``make package``).
Wheels are cached in ``build/wheels``; a cached wheel whose hash matches is not downloaded
again, so a rebuild works offline.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lock import PLATFORM, PYTHON_VERSIONS

LAMBDA_DIR = Path(__file__).resolve().parents[1]
REPO = LAMBDA_DIR.parent
SOURCE = LAMBDA_DIR / "src"
PACKAGES = ("lambda_dedup",)
LOCK = LAMBDA_DIR / "requirements.lock"  # written by lock.py
DEFAULT_OUTPUT = REPO / "build" / "lambda.zip"
WHEEL_CACHE = REPO / "build" / "wheels"

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644 << 16  # regular file, rw-r--r--
COMPRESSION = zipfile.ZIP_DEFLATED
COMPRESS_LEVEL = 9
EXCLUDED_PARTS = frozenset({"__pycache__"})
DEVELOPMENT_ONLY = ("lambda_dedup/local/",)
"""The local runner plays the Lambda service on a developer's machine; no function needs it."""
EXCLUDED_SUFFIXES = (".pyc", ".pyo")

_LOCK_LINE = re.compile(
    r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>\S+)\s+--hash=sha256:(?P<sha256>[0-9a-f]{64})"
    r"\s+#\s+(?P<wheel>\S+\.whl)\s*$"
)


@dataclass(frozen=True)
class LockedWheel:
    name: str
    version: str
    sha256: str
    wheel: str


def read_lock(lock: Path = LOCK) -> list[LockedWheel]:
    wheels = []
    for number, line in enumerate(lock.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        match = _LOCK_LINE.match(line)
        if not match:
            raise SystemExit(f"{lock}:{number}: not a lock line: {line!r}")
        wheels.append(LockedWheel(**match.groupdict()))
    return wheels


def _matches(path: Path, sha256: str) -> bool:
    return path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == sha256


def fetch_wheels(wheels: list[LockedWheel], cache: Path = WHEEL_CACHE) -> list[Path]:
    """The locked wheel files, downloaded by pip with ``--require-hashes`` if not cached.

    Each cached wheel is hashed once; a downloaded one is hashed again after pip.
    """
    cache.mkdir(parents=True, exist_ok=True)
    missing = [w for w in wheels if not _matches(cache / w.wheel, w.sha256)]
    if missing:
        requirements = cache / "requirements.txt"
        requirements.write_text(
            "".join(f"{w.name}=={w.version} --hash=sha256:{w.sha256}\n" for w in missing)
        )
        subprocess.run(
            [
                sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                "--only-binary=:all:", "--platform", PLATFORM,
                "--python-version", PYTHON_VERSIONS[0], "--implementation", "cp",
                "--require-hashes", "-r", str(requirements), "--dest", str(cache),
            ],
            check=True,
        )  # fmt: skip
        for w in missing:
            if not _matches(cache / w.wheel, w.sha256):
                raise SystemExit(f"{w.wheel} is missing or does not match its locked sha256")
    return [cache / w.wheel for w in wheels]


def _wanted(name: str) -> bool:
    parts = name.split("/")
    return not EXCLUDED_PARTS.intersection(parts) and not name.endswith(EXCLUDED_SUFFIXES)


def wheel_entries(wheel: Path) -> Iterator[tuple[str, bytes]]:
    """(path in the zip, content) for each file a wheel installs into site-packages."""
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            if info.is_dir() or not _wanted(info.filename):
                continue
            name = info.filename
            head, _, rest = name.partition("/")
            if head.endswith(".data"):
                scheme, _, inner = rest.partition("/")
                if scheme not in ("purelib", "platlib"):
                    continue  # scripts, headers and data do not belong in a Lambda zip
                name = inner
            yield name, archive.read(info)


def source_entries(
    root: Path = SOURCE, packages: tuple[str, ...] = PACKAGES
) -> Iterator[tuple[str, bytes]]:
    for package in packages:
        for path in sorted((root / package).rglob("*")):
            relative = path.relative_to(root).as_posix()
            if relative.startswith(DEVELOPMENT_ONLY):
                continue
            if path.is_file() and _wanted(relative):
                yield relative, path.read_bytes()


def write_zip(entries: dict[str, bytes], output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w") as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.external_attr = FILE_MODE
            info.create_system = 3  # Unix, so that the mode bits are honoured
            info.compress_type = COMPRESSION
            archive.writestr(info, entries[name], compresslevel=COMPRESS_LEVEL)
    partial.replace(output)


def build(output: Path = DEFAULT_OUTPUT, lock: Path = LOCK, cache: Path = WHEEL_CACHE) -> Path:
    """Build the zip at ``output`` and return its path."""
    entries: dict[str, bytes] = {}
    origins: dict[str, str] = {}
    locked = read_lock(lock)
    sources: list[tuple[str, Iterator[tuple[str, bytes]]]] = [
        (wheel.name, wheel_entries(path))
        for wheel, path in zip(locked, fetch_wheels(locked, cache), strict=True)
    ]
    sources.append(("lambda/src", source_entries()))
    for origin, files in sources:
        for name, data in files:
            if name in entries and entries[name] != data:
                raise SystemExit(f"{name} is provided by both {origins[name]} and {origin}")
            entries[name] = data
            origins[name] = origin
    write_zip(entries, output)
    return output


def source_code_hash(path: Path) -> str:
    """What Terraform's ``filebase64sha256`` gives for the file."""
    return base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode("ascii")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the reproducible deployment zip.")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    path = build(args.output.resolve())
    size = path.stat().st_size / 1_000_000
    print(f"built {path} ({size:.1f} MB, source_code_hash {source_code_hash(path)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
