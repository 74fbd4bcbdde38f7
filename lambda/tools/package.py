"""Build the deployment zip: a team's code, ``lambda_dedup`` and their locked dependencies.

The zip is byte-for-byte reproducible -- the same sources and locks give the same bytes,
so the same ``source_code_hash`` and no spurious change in a plan:

* dependencies are the wheels pinned in ``requirements.lock`` (and in a team's lock),
  verified by sha256 and unpacked by this script (not installed by pip, whose output
  varies by version);
* entries are sorted, with a fixed timestamp (1980-01-01), fixed permissions and fixed
  compression; no directory entries, no ``__pycache__``, no ``.pyc``.

Usage::

    python lambda/tools/package.py [--source DIR ...] [--requirements LOCK]
                                   [--without-sdk] [--output ZIP]

Without options it builds ``build/lambda.zip`` from ``lambda_dedup`` and
``lambda/requirements.lock`` (``make package``). A team's function adds:

* ``--source DIR`` (repeatable): the team's code. DIR is either a directory that holds
  the team's top-level packages and modules, as a ``src/`` directory does (every
  subdirectory with an ``__init__.py`` and every ``.py`` file directly in DIR goes into the
  zip's root, with everything under those packages), or a package directory itself (it
  has an ``__init__.py``; it goes into the zip's root under its own name). Refused: a
  path that is not a directory, one that provides nothing importable, two sources that
  provide the same top-level name, and a name that would shadow ``lambda_dedup``, a
  locked dependency or a standard library module;
* ``--requirements LOCK``: the team's dependencies, hash-locked by
  ``lock.py --input requirements.in --output LOCK``. Every wheel's sha256 is verified. A
  package that both locks pin must be pinned to the same version and file;
* ``--without-sdk``: leave out boto3, botocore and those of their dependencies that the
  Lambda Python runtime provides (it includes the SDK for Python) and no other locked
  package needs. The zip is smaller and starts faster; the SDK's version is then the
  runtime's, not the lock's.

Development-only code (``lambda_dedup.local``, ``lambda_dedup.testing``) is never packaged.
Wheels are cached in ``build/wheels``; a cached wheel whose hash matches is not downloaded
again, so a rebuild works offline.
"""

from __future__ import annotations

import argparse
import base64
import email.parser
import hashlib
import re
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lock import PLATFORM, PYPROJECT, PYTHON_VERSIONS

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
DEVELOPMENT_ONLY = ("lambda_dedup/local/", "lambda_dedup/testing/")
"""The local runner plays the Lambda service on a developer's machine, and the test kit
serves a team's unit tests; no function needs either."""
EXCLUDED_SUFFIXES = (".pyc", ".pyo")

SDK = frozenset({"boto3", "botocore"})
"""What ``--without-sdk`` leaves out in any case."""
RUNTIME_PROVIDED = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}
)
"""What the Lambda Python runtime provides: the SDK for Python (Boto3) and the packages it
imports. ``--without-sdk`` may leave out only these."""

_LOCK_LINE = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[A-Za-z0-9.!+_-]+)"
    r"\s+--hash=sha256:(?P<sha256>[0-9a-f]{64})"
    r"\s+#\s+(?P<wheel>[A-Za-z0-9][A-Za-z0-9._+!-]*\.whl)\s*$"
)
_REQUESTED = re.compile(r"^#\s*requested:(?P<requirements>.*)$")
_REQUIREMENT = re.compile(r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[(?P<extras>[^\]]*)\])?")
_EXTRA_MARKER = re.compile(r"""\bextra\s*==\s*['"](?P<extra>[^'"]+)['"]""")


def canonical(name: str) -> str:
    """A distribution's (or an extra's) name as PEP 503 compares names
    (``Typing_Extensions`` is ``typing-extensions``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Dependency:
    """One requirement: ``name[extras]``, needed only for the extras ``only_for`` if set."""

    name: str
    extras: frozenset[str] = frozenset()
    only_for: frozenset[str] | None = None


def parse_requirement(text: str) -> Dependency | None:
    """A ``Requires-Dist`` or requirement line's name, extras and the extras its marker
    names; any other condition of a marker (a Python version...) is taken as met."""
    requirement, _, marker = text.partition(";")
    match = _REQUIREMENT.match(requirement)
    if not match:
        return None
    extras = frozenset(canonical(e) for e in (match["extras"] or "").split(",") if e.strip())
    only_for = frozenset(canonical(e) for e in _EXTRA_MARKER.findall(marker)) or None
    return Dependency(canonical(match["name"]), extras, only_for)


@dataclass(frozen=True)
class LockedWheel:
    name: str
    version: str
    sha256: str
    wheel: str
    origin: str = field(default="", compare=False)
    """``<lock file>:<line>``, for messages."""


@dataclass(frozen=True)
class Lock:
    path: Path
    wheels: tuple[LockedWheel, ...]
    requested: dict[str, frozenset[str]] | None
    """The packages asked for directly, with their extras (lock.py's ``# requested:``
    line), if recorded."""


def parse_lock(lock: Path) -> Lock:
    """Every line of ``lock``: a comment, or ``name==version --hash=sha256:<hex>  # wheel``.

    Anything else is refused with its line number, an unhashed pin in particular.
    """
    if not lock.is_file():
        raise SystemExit(f"{lock}: no such lock file")
    wheels: dict[str, LockedWheel] = {}
    requested: dict[str, frozenset[str]] | None = None
    for number, line in enumerate(lock.read_text(encoding="utf-8").splitlines(), 1):
        origin = f"{lock}:{number}"
        if line.startswith("#"):
            header = _REQUESTED.match(line)
            if header:
                roots = map(parse_requirement, header["requirements"].split())
                requested = {d.name: d.extras for d in roots if d}
            continue
        if not line.strip():
            continue
        match = _LOCK_LINE.match(line)
        if not match:
            if "==" in line and "--hash=sha256:" not in line:
                raise SystemExit(
                    f"{origin}: not hash-locked (no --hash=sha256:<64 hex digits>): {line!r}; "
                    "write the lock with lambda/tools/lock.py"
                )
            raise SystemExit(
                f"{origin}: not a lock line (name==version --hash=sha256:<64 hex digits>"
                f"  # wheel file): {line!r}"
            )
        pin = match.groupdict()
        wheel = LockedWheel(
            canonical(pin["name"]), pin["version"], pin["sha256"], pin["wheel"], origin
        )
        if wheel.name in wheels:
            raise SystemExit(
                f"{origin}: {wheel.name} is pinned twice (also at {wheels[wheel.name].origin})"
            )
        wheels[wheel.name] = wheel
    return Lock(lock, tuple(wheels.values()), requested)


def read_lock(lock: Path = LOCK) -> list[LockedWheel]:
    return list(parse_lock(lock).wheels)


def merge_locks(project: Lock, team: Lock | None) -> list[LockedWheel]:
    """The wheels of both locks, by name; a package both pin must be the same file."""
    merged = {wheel.name: wheel for wheel in project.wheels}
    for wheel in team.wheels if team else ():
        pinned = merged.setdefault(wheel.name, wheel)
        if pinned == wheel:
            continue
        what = "another file of" if pinned.version == wheel.version else "another version than"
        raise SystemExit(
            f"{wheel.origin}: {wheel.name}=={wheel.version} ({wheel.sha256[:12]}...) is "
            f"{what} {pinned.origin}: {pinned.name}=={pinned.version} "
            f"({pinned.sha256[:12]}...); re-lock the team's requirements with "
            "lambda/tools/lock.py --input ..., which resolves them against the project's pins"
        )
    return [merged[name] for name in sorted(merged)]


def _matches(path: Path, sha256: str) -> bool:
    return path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == sha256


def _python_version(wheel: str) -> str:
    """A Python version the wheel file installs on: its ``cpXY`` tag's, or the oldest
    runtime's (``py3``, ``py2.py3``)."""
    python_tag = wheel.removesuffix(".whl").split("-")[-3]
    match = re.search(r"cp(\d)(\d+)", python_tag)
    return f"{match[1]}.{match[2]}" if match else PYTHON_VERSIONS[0]


def _download(wheels: list[LockedWheel], cache: Path) -> None:
    """Download ``wheels`` into ``cache`` with pip, which checks each one's sha256."""
    by_python: dict[str, list[LockedWheel]] = {}
    for wheel in wheels:
        by_python.setdefault(_python_version(wheel.wheel), []).append(wheel)
    for python, group in sorted(by_python.items()):
        requirements = cache / "requirements.txt"
        requirements.write_text(
            "".join(f"{w.name}=={w.version} --hash=sha256:{w.sha256}\n" for w in group)
        )
        try:
            subprocess.run(
                [
                    sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                    "--only-binary=:all:", "--platform", PLATFORM,
                    "--python-version", python, "--implementation", "cp",
                    "--require-hashes", "-r", str(requirements), "--dest", str(cache),
                ],
                check=True,
            )  # fmt: skip
        except subprocess.CalledProcessError:
            pins = ", ".join(f"{w.name}=={w.version} ({w.origin})" for w in group)
            raise SystemExit(
                f"pip could not download {pins} with their locked sha256 (pip's error is above)"
            ) from None


def fetch_wheels(wheels: list[LockedWheel], cache: Path = WHEEL_CACHE) -> list[Path]:
    """The locked wheel files, downloaded by pip with ``--require-hashes`` if not cached.

    Each cached wheel is hashed once; a downloaded one is hashed again after pip. A
    cached file that does not match its lock is replaced, never used.
    """
    cache.mkdir(parents=True, exist_ok=True)
    missing = [w for w in wheels if not _matches(cache / w.wheel, w.sha256)]
    if missing:
        for w in missing:
            (cache / w.wheel).unlink(missing_ok=True)
        _download(missing, cache)
        for w in missing:
            if not _matches(cache / w.wheel, w.sha256):
                raise SystemExit(
                    f"{w.origin}: {w.wheel} is missing or does not match its locked "
                    f"sha256 {w.sha256}"
                )
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


def wheel_requires(wheel: Path) -> list[Dependency]:
    """The wheel's ``Requires-Dist``: a marker's extras are heeded, any other condition
    is taken as met (counting too many keeps a package that could have been left out,
    never the reverse)."""
    with zipfile.ZipFile(wheel) as archive:
        metadata = [n for n in archive.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
        if len(metadata) != 1:
            raise SystemExit(f"{wheel.name}: not a wheel (no single .dist-info/METADATA)")
        headers = email.parser.BytesParser().parsebytes(archive.read(metadata[0]), True)
    found = (parse_requirement(r) for r in headers.get_all("Requires-Dist") or [])
    return [dependency for dependency in found if dependency]


def top_level_names(paths: Iterable[str]) -> set[str]:
    """The importable top-level names that these paths in a wheel provide."""
    names = set()
    for path in paths:
        head, slash, rest = path.partition("/")
        if head.endswith(".data") and rest.startswith(("purelib/", "platlib/")):
            head, slash, _ = rest.partition("/")[2].partition("/")
        if slash:
            if not head.endswith((".dist-info", ".data")):
                names.add(head)
        elif head.endswith(".py"):
            names.add(head.removesuffix(".py"))
        elif head.endswith((".so", ".pyd")):
            names.add(head.split(".", 1)[0])
    return names


@dataclass(frozen=True)
class Source:
    """One ``--source``: ``entries`` (files or package directories) of ``root``."""

    given: Path
    root: Path
    entries: tuple[str, ...]

    def names(self) -> set[str]:
        return {entry.removesuffix(".py") for entry in self.entries}


def read_source(given: Path) -> Source:
    """What a ``--source DIR`` provides (see the module's docstring), or a refusal."""
    if not given.exists():
        raise SystemExit(f"--source {given}: no such directory")
    if not given.is_dir():
        raise SystemExit(
            f"--source {given}: not a directory; give the directory that holds your "
            "packages (e.g. src/) or a package directory"
        )
    path = given.resolve()
    if (path / "__init__.py").is_file():
        if not path.name.isidentifier():
            raise SystemExit(f"--source {given}: {path.name!r} is not an importable name")
        return Source(given, path.parent, (path.name,))
    packages = {
        child.name
        for child in path.iterdir()
        if child.is_dir() and child.name.isidentifier() and (child / "__init__.py").is_file()
    }
    modules = {
        child.name
        for child in path.iterdir()
        if child.is_file() and child.suffix == ".py" and child.stem.isidentifier()
    }
    both = packages & {m.removesuffix(".py") for m in modules}
    if both:
        raise SystemExit(f"--source {given}: {sorted(both)} are both a package and a module")
    if not packages and not modules:
        raise SystemExit(
            f"--source {given}: holds no package (a directory with __init__.py) and no "
            "module (a .py file); give the directory that holds them, e.g. src/"
        )
    return Source(given, path, tuple(sorted(packages | modules)))


def read_sources(given: Sequence[Path]) -> list[Source]:
    """Each ``--source``, refused if it collides with another or shadows ``lambda_dedup``
    or the standard library (dependencies are checked once their wheels are read)."""
    sources = [read_source(path) for path in given]
    providers: dict[str, Source] = {}
    for source in sources:
        for name in sorted(source.names()):
            if name in PACKAGES:
                raise SystemExit(f"--source {source.given}: {name} would shadow {name} itself")
            if name in sys.stdlib_module_names:
                raise SystemExit(
                    f"--source {source.given}: {name} would shadow the standard library's "
                    f"{name}; rename it"
                )
            other = providers.setdefault(name, source)
            if other is not source:
                raise SystemExit(
                    f"--source {source.given} and --source {other.given} both provide {name}"
                )
    return sources


def source_entries(
    root: Path = SOURCE, packages: Sequence[str] = PACKAGES
) -> Iterator[tuple[str, bytes]]:
    """(path in the zip, content) of each package directory or module in ``root``."""
    for package in packages:
        top = root / package
        paths = [top] if top.is_file() else sorted(top.rglob("*"))
        for path in paths:
            relative = path.relative_to(root).as_posix()
            if relative.startswith(DEVELOPMENT_ONLY):
                continue
            if path.is_file() and _wanted(relative):
                yield relative, path.read_bytes()


def project_roots(pyproject: Path = PYPROJECT) -> dict[str, frozenset[str]]:
    """The distributions ``lambda_dedup`` asks for directly, with their extras."""
    dependencies = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    found = (parse_requirement(d) for d in dependencies)
    return {d.name: d.extras for d in found if d}


def left_out_without_sdk(
    requires: dict[str, list[Dependency]], roots: dict[str, frozenset[str]]
) -> set[str]:
    """What ``--without-sdk`` leaves out of the locked packages (``requires``: each one's
    dependencies; ``roots``: what was asked for, with extras): boto3, botocore, and the
    runtime-provided packages that no kept package needs and nobody asked for."""
    active: dict[str, set[str]] = {}  # kept package -> its extras in use
    pending = [(name, frozenset[str]()) for name in requires if name not in RUNTIME_PROVIDED]
    pending += [(name, extras) for name, extras in roots.items() if name in requires]
    while pending:
        name, extras = pending.pop()
        if name in SDK or (name in active and extras <= active[name]):
            continue
        in_use = active.setdefault(name, set())
        in_use |= extras
        pending += [
            (dependency.name, dependency.extras)
            for dependency in requires[name]
            if dependency.name in requires
            and (dependency.only_for is None or dependency.only_for & in_use)
        ]
    return {name for name in requires if name not in active}


@dataclass(frozen=True)
class Assembly:
    entries: dict[str, bytes]
    left_out: tuple[str, ...]
    """Locked distributions not packaged (``--without-sdk``)."""
    native: tuple[str, ...]
    """Packaged wheels that hold platform-specific code."""


def assemble(
    lock: Path = LOCK,
    cache: Path = WHEEL_CACHE,
    *,
    sources: Sequence[Path] = (),
    requirements: Path | None = None,
    without_sdk: bool = False,
) -> Assembly:
    """Every file of the zip, by path, after every check."""
    project = parse_lock(lock)
    team = parse_lock(requirements) if requirements else None
    locked = merge_locks(project, team)
    team_sources = read_sources(sources)
    paths = dict(zip((w.name for w in locked), fetch_wheels(locked, cache), strict=True))
    left_out: set[str] = set()
    if without_sdk:
        requires = {name: wheel_requires(path) for name, path in paths.items()}
        roots = project_roots()
        if team:  # a lock that does not record its request: all of it is asked for
            asked = team.requested or {wheel.name: frozenset() for wheel in team.wheels}
            for name, extras in asked.items():
                roots[name] = roots.get(name, frozenset()) | extras
        left_out = left_out_without_sdk(requires, roots)

    origins: dict[str, str] = {}
    entries: dict[str, bytes] = {}
    wheel_names: dict[str, str] = {}
    for wheel in locked:  # left out or not: the runtime would provide those
        with zipfile.ZipFile(paths[wheel.name]) as archive:
            for name in top_level_names(archive.namelist()):
                wheel_names.setdefault(name, f"{wheel.name}=={wheel.version} ({wheel.origin})")
    packaged: list[tuple[str, Iterable[tuple[str, bytes]]]] = [
        (w.wheel, wheel_entries(paths[w.name])) for w in locked if w.name not in left_out
    ]
    packaged.append((str(SOURCE.relative_to(REPO)), source_entries()))
    for source in team_sources:
        shadowed = sorted(source.names() & wheel_names.keys())
        if shadowed:
            name = shadowed[0]
            raise SystemExit(
                f"--source {source.given}: {name} would shadow {name} of {wheel_names[name]}"
            )
        packaged.append((str(source.given), source_entries(source.root, source.entries)))
    for origin, files in packaged:
        for name, data in files:
            if name in entries and entries[name] != data:
                raise SystemExit(f"{name} is provided by both {origins[name]} and {origin}")
            entries[name] = data
            origins[name] = origin
    native = tuple(w.wheel for w in locked if w.name not in left_out and not _pure(w.wheel))
    return Assembly(entries, tuple(sorted(left_out)), native)


def _pure(wheel: str) -> bool:
    """Whether a wheel's file name says it runs on any platform (``...-none-any.whl``)."""
    return wheel.removesuffix(".whl").split("-")[-1] == "any"


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


def build(
    output: Path = DEFAULT_OUTPUT,
    lock: Path = LOCK,
    cache: Path = WHEEL_CACHE,
    *,
    sources: Sequence[Path] = (),
    requirements: Path | None = None,
    without_sdk: bool = False,
) -> Path:
    """Build the zip at ``output`` and return its path."""
    assembly = assemble(
        lock, cache, sources=sources, requirements=requirements, without_sdk=without_sdk
    )
    write_zip(assembly.entries, output)
    return output


def source_code_hash(path: Path) -> str:
    """What Terraform's ``filebase64sha256`` gives for the file."""
    return base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode("ascii")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Build the reproducible deployment zip: the team's code (--source), "
        "lambda_dedup, and the locked dependencies of both."
    )
    parser.add_argument(
        "--source",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="a directory holding the team's top-level packages and modules (e.g. src/), "
        "or a package directory itself; repeatable",
    )
    parser.add_argument(
        "--requirements",
        type=Path,
        metavar="LOCK",
        help="the team's hash-locked dependencies, written by "
        "lock.py --input requirements.in --output LOCK",
    )
    parser.add_argument(
        "--without-sdk",
        action="store_true",
        help="leave out boto3, botocore and what only they need: the Lambda runtime provides them",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, metavar="ZIP")
    parser.add_argument(
        "--wheel-cache",
        type=Path,
        default=WHEEL_CACHE,
        metavar="DIR",
        help="where verified wheels are kept between builds (default build/wheels)",
    )
    args = parser.parse_args(argv)
    assembly = assemble(
        LOCK,
        args.wheel_cache,
        sources=args.source,
        requirements=args.requirements,
        without_sdk=args.without_sdk,
    )
    path = args.output.resolve()
    write_zip(assembly.entries, path)
    size = path.stat().st_size / 1_000_000
    print(f"built {path} ({size:.1f} MB, source_code_hash {source_code_hash(path)})")
    if assembly.left_out:
        print(f"left out, as the Lambda runtime provides them: {', '.join(assembly.left_out)}")
    for wheel in assembly.native:
        abi = wheel.removesuffix(".whl").split("-")[-2]  # cp313: that Python only
        runtime = f" on python{_python_version(wheel)}" if abi.startswith("cp") else ""
        print(
            f"note: {wheel} holds native code for Linux x86_64 ({PLATFORM}): deploy with "
            f'architectures = ["x86_64"]{runtime}'
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
