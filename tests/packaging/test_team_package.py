"""A team's own function: its code (--source) and its locked dependencies (--requirements)
in the zip with lambda_dedup, refusals, --without-sdk, and lock.py for a team.

The team's dependency is a wheel built here, so that no test needs the network beyond
the project's own locked wheels (cached by ``make package``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

import lock as lock_tool
import package as package_tool
import pytest

TEAM_HANDLER = """\
import teamdep
from lambda_dedup import Deduplicator, InMemoryStore
from pricing import PRICE

DEDUP = Deduplicator(InMemoryStore(), namespace="orders")


def place_order(event, context):
    return [teamdep.VALUE, PRICE, DEDUP.run_once("o-1", lambda claim: "placed").result]
"""


def make_wheel(directory: Path, name: str, version: str, requires: Iterable[str] = ()) -> Path:
    """A pure-Python wheel of one package ``name`` whose ``VALUE`` is its name."""
    dist = f"{name}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {requirement}\n" for requirement in requires)
    files = {
        f"{name}/__init__.py": f"VALUE = {name!r}\n",
        f"{dist}/METADATA": metadata,
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{dist}/RECORD": "",
    }
    path = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in files.items():
            archive.writestr(zipfile.ZipInfo(member, date_time=package_tool.FIXED_TIME), text)
    return path


def lock_line(name: str, version: str, wheel: Path) -> str:
    sha256 = hashlib.sha256(wheel.read_bytes()).hexdigest()
    return f"{name}=={version} --hash=sha256:{sha256}  # {wheel.name}"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def top_level(zip_path: Path) -> set[str]:
    with zipfile.ZipFile(zip_path) as archive:
        return {name.split("/")[0] for name in archive.namelist()}


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory, package_zip: Path) -> Path:
    """A team's checkout: ``src/orders`` (a source root), ``lib/pricing`` (a package
    given by itself), a lock of ``teamdep`` (which needs urllib3, as the project pins it),
    and a wheel cache holding the project's wheels and teamdep's."""
    root = tmp_path_factory.mktemp("team")
    write(root / "src" / "orders" / "__init__.py", "")
    write(root / "src" / "orders" / "handlers.py", TEAM_HANDLER)
    write(root / "lib" / "pricing" / "__init__.py", "PRICE = 42\n")
    cache = root / "wheels"
    cache.mkdir()
    project = package_tool.read_lock()
    for wheel in package_tool.fetch_wheels(project):
        shutil.copy2(wheel, cache / wheel.name)
    teamdep = make_wheel(cache, "teamdep", "1.0", requires=["urllib3>=2"])
    urllib3 = next(w for w in project if w.name == "urllib3")
    write(
        root / "requirements.lock",
        "# written by hand for the tests\n# requested: teamdep\n"
        f"{lock_line('teamdep', '1.0', teamdep)}\n"
        f"urllib3=={urllib3.version} --hash=sha256:{urllib3.sha256}  # {urllib3.wheel}\n",
    )
    return root


def build_team(team: Path, output: Path, *, without_sdk: bool = False) -> Path:
    return package_tool.build(
        output,
        cache=team / "wheels",
        sources=[team / "src", team / "lib" / "pricing"],
        requirements=team / "requirements.lock",
        without_sdk=without_sdk,
    )


@pytest.fixture(scope="module")
def team_zip(team: Path) -> Path:
    return build_team(team, team / "out" / "full.zip")


@pytest.fixture(scope="module")
def team_zip_without_sdk(team: Path) -> Path:
    return build_team(team, team / "out" / "without-sdk.zip", without_sdk=True)


def refusal(team: Path, **options: object) -> str:
    """The message with which building with ``options`` is refused."""
    arguments: dict[str, object] = {
        "cache": team / "wheels",
        "sources": [team / "src"],
        "requirements": team / "requirements.lock",
        **options,
    }
    with pytest.raises(SystemExit) as refused:
        package_tool.build(team / "out" / "refused.zip", **arguments)  # type: ignore[arg-type]
    return str(refused.value)


def run_unpacked(task: Path, script: str, *extra_paths: Path) -> list[str]:
    """Run ``script`` in an interpreter without site-packages whose path is ``task``
    (as Lambda's /var/task), then ``extra_paths``; its printed words."""
    prelude = f"import sys; sys.path[:0] = {[str(p) for p in (task, *extra_paths)]!r}\n"
    env = {**os.environ, "DEDUP_TABLE_NAME": "t", "AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", prelude + script],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_the_zip_holds_the_teams_code_its_dependencies_and_lambda_dedup(
    team_zip: Path, tmp_path: Path
) -> None:
    names = top_level(team_zip)
    assert {"orders", "pricing", "teamdep", "teamdep-1.0.dist-info", "lambda_dedup"} <= names
    assert {"aws_lambda_powertools", "boto3", "botocore", "urllib3"} <= names
    with zipfile.ZipFile(team_zip) as archive:
        archive.extractall(tmp_path / "task")
    # WHEN the team's handler runs from the unpacked zip alone
    # THEN its package, its dependency and lambda_dedup are all there
    script = "import orders.handlers as h; print(*h.place_order({}, None))"
    assert run_unpacked(tmp_path / "task", script) == ["teamdep", "42", "placed"]


def test_the_same_team_sources_give_the_same_bytes(
    team: Path, team_zip_without_sdk: Path, tmp_path: Path
) -> None:
    # GIVEN the team's sources touched (new mtimes, same content)
    for source in (team / "src").rglob("*.py"):
        os.utime(source)
    # WHEN built again through the command line, the sources in the other order
    again = tmp_path / "again.zip"
    package_tool.main(
        [
            *("--source", str(team / "lib" / "pricing"), "--source", str(team / "src")),
            *("--requirements", str(team / "requirements.lock"), "--without-sdk"),
            *("--wheel-cache", str(team / "wheels"), "--output", str(again)),
        ]
    )
    # THEN the zip is byte-for-byte the same
    assert again.read_bytes() == team_zip_without_sdk.read_bytes()


def test_without_sdk_leaves_boto3_and_botocore_out_and_keeps_powertools(
    team_zip_without_sdk: Path, package_zip: Path, tmp_path: Path
) -> None:
    names = top_level(team_zip_without_sdk)
    # THEN the SDK and what only it needs are left out...
    assert not names & {"boto3", "botocore", "s3transfer", "dateutil", "six.py"}
    # ...while powertools stays with what it needs, and urllib3 stays for teamdep
    assert {"aws_lambda_powertools", "jmespath", "typing_extensions.py"} <= names
    assert {"urllib3", "teamdep", "orders", "pricing", "lambda_dedup"} <= names
    # AND the handlers run with the SDK from the runtime (here: the full zip's copy)
    runtime = tmp_path / "runtime"
    with zipfile.ZipFile(package_zip) as archive:
        provided = ("boto3/", "botocore/", "s3transfer/", "dateutil/", "six.py")
        archive.extractall(runtime, [n for n in archive.namelist() if n.startswith(provided)])
    with zipfile.ZipFile(team_zip_without_sdk) as archive:
        archive.extractall(tmp_path / "task")
    script = (
        "import lambda_dedup.handlers.sqs, orders.handlers as h, boto3, aws_lambda_powertools\n"
        "print(*h.place_order({}, None), boto3.__file__.startswith(sys.path[1]),"
        " aws_lambda_powertools.__file__.startswith(sys.path[0]))"
    )
    words = run_unpacked(tmp_path / "task", script, runtime)
    assert words == ["teamdep", "42", "placed", "True", "True"]


def test_without_sdk_the_project_zip_leaves_out_exactly_what_the_runtime_provides() -> None:
    assembly = package_tool.assemble(without_sdk=True)
    assert assembly.left_out == (
        "boto3",
        "botocore",
        "python-dateutil",
        "s3transfer",
        "six",
        "urllib3",
    )
    assert {name.split("/")[0] for name in assembly.entries} >= {
        "aws_lambda_powertools",
        "jmespath",
    }


def test_a_wheel_that_does_not_match_its_lock_is_refused(
    team: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a lock whose sha256 for teamdep is not the wheel's (tampered, or re-uploaded)
    cache = tmp_path / "wheels"
    shutil.copytree(team / "wheels", cache)
    lock = write(
        tmp_path / "requirements.lock",
        "# a team's lock\n# requested: teamdep\n"
        f"teamdep==1.0 --hash=sha256:{'0' * 64}  # teamdep-1.0-py3-none-any.whl\n",
    )
    # AND a download that brings the same (unlocked) file again
    wheel = (cache / "teamdep-1.0-py3-none-any.whl").read_bytes()

    def download(wheels: list[package_tool.LockedWheel], into: Path) -> None:
        for locked in wheels:
            (into / locked.wheel).write_bytes(wheel)

    monkeypatch.setattr(package_tool, "_download", download)
    # WHEN the zip is built THEN it is refused, naming the lock line
    message = refusal(team, cache=cache, requirements=lock)
    assert message.startswith(f"{lock}:3: teamdep-1.0-py3-none-any.whl"), message
    assert "does not match its locked sha256 " + "0" * 64 in message


def _never_download(wheels: list[package_tool.LockedWheel], into: Path) -> None:
    raise AssertionError(f"a refused lock must not download anything: {wheels}")


def test_a_pin_other_than_the_projects_is_refused_naming_both(
    team: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(package_tool, "_download", _never_download)
    boto3 = next(w for w in package_tool.read_lock() if w.name == "boto3")
    lock = write(
        tmp_path / "requirements.lock",
        "# requested: boto3\n"
        f"boto3==1.0.0 --hash=sha256:{'0' * 64}  # boto3-1.0.0-py3-none-any.whl\n",
    )
    message = refusal(team, requirements=lock)
    assert f"{lock}:2: boto3==1.0.0" in message
    assert f"{boto3.origin}: boto3=={boto3.version}" in message
    assert "lock.py --input" in message


@pytest.mark.parametrize(
    "line",
    [
        "teamdep==1.0",  # unhashed
        "teamdep==1.0  # teamdep-1.0-py3-none-any.whl",  # unhashed, with its wheel
        f"teamdep>=1.0 --hash=sha256:{'0' * 64}  # teamdep-1.0-py3-none-any.whl",  # a range
        "teamdep==1.0 --hash=sha256:abc  # teamdep-1.0-py3-none-any.whl",  # a short hash
        f"teamdep==1.0 --hash=sha256:{'0' * 64}",  # no wheel file
    ],
)
def test_an_unhashed_or_malformed_line_is_refused_with_its_number(
    team: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str
) -> None:
    monkeypatch.setattr(package_tool, "_download", _never_download)
    lock = write(tmp_path / "requirements.lock", f"# a team's lock\n\n{line}\n")
    assert refusal(team, requirements=lock).startswith(f"{lock}:3: ")


def test_two_sources_providing_one_name_are_refused(team: Path, tmp_path: Path) -> None:
    write(tmp_path / "other" / "orders" / "__init__.py", "")
    message = refusal(team, sources=[team / "src", tmp_path / "other"])
    assert (
        message == f"--source {tmp_path / 'other'} and --source {team / 'src'} both provide orders"
    )
    # the same directory twice, or a package and the directory that holds it, too
    assert "both provide orders" in refusal(team, sources=[team / "src", team / "src"])
    twice = [team / "src", team / "src" / "orders"]
    assert "both provide orders" in refusal(team, sources=twice)


@pytest.mark.parametrize(
    ("entry", "shadowed"),
    [
        ("lambda_dedup/__init__.py", "lambda_dedup itself"),
        ("boto3/__init__.py", "boto3 of boto3=="),  # left out with --without-sdk, too
        ("jmespath.py", "jmespath of jmespath=="),
        ("teamdep/__init__.py", "teamdep of teamdep==1.0"),
        ("json/__init__.py", "the standard library's json"),
    ],
)
def test_a_source_that_shadows_a_package_is_refused(
    team: Path, tmp_path: Path, entry: str, shadowed: str
) -> None:
    write(tmp_path / "shadow" / entry, "")
    message = refusal(team, sources=[tmp_path / "shadow"], without_sdk=True)
    assert message.startswith(f"--source {tmp_path / 'shadow'}: "), message
    assert f"would shadow {shadowed}" in message


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d: d / "missing", "no such directory"),
        (lambda d: write(d / "file.py", ""), "not a directory"),
        (lambda d: write(d / "docs" / "README.md", "").parent, "holds no package"),
    ],
    ids=["missing", "a file", "no code"],
)
def test_a_source_that_is_not_a_code_directory_is_refused(
    team: Path, tmp_path: Path, make: Callable[[Path], Path], expected: str
) -> None:
    source = make(tmp_path)
    assert refusal(team, sources=[source]).startswith(f"--source {source}: {expected}")


def test_development_only_code_is_left_out(tmp_path: Path, team_zip: Path) -> None:
    # GIVEN lambda_dedup with its local runner and a test kit (testing/)
    src = tmp_path / "src"
    shutil.copytree(package_tool.SOURCE, src, ignore=shutil.ignore_patterns("__pycache__"))
    write(src / "lambda_dedup" / "testing" / "__init__.py", "")
    write(src / "lambda_dedup" / "testing" / "fakes.py", "")
    assert (src / "lambda_dedup" / "local").is_dir()
    # THEN neither goes into a zip
    names = [name for name, _ in package_tool.source_entries(src)]
    assert "lambda_dedup/__init__.py" in names
    assert not [n for n in names if n.startswith(("lambda_dedup/testing/", "lambda_dedup/local/"))]
    with zipfile.ZipFile(team_zip) as archive:
        packaged = archive.namelist()
    assert not [n for n in packaged if n.startswith(package_tool.DEVELOPMENT_ONLY)]


def test_lock_py_locks_a_teams_requirements_against_the_projects_pins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a team's requirements, and pip's resolution (faked: no network here)
    requirements = write(tmp_path / "requirements.in", "teamdep[fast]>=1\n")
    seen: list[tuple[list[str], str, str]] = []

    def resolve(
        asked: list[str], python: str, constraints: Path | None = None
    ) -> tuple[lock_tool.Pins, list[str]]:
        assert constraints is not None
        seen.append((asked, python, constraints.read_text()))
        pins = {"teamdep": ("1.0", "teamdep-1.0-py3-none-any.whl", "a" * 64)}
        return pins, ["teamdep[fast]"]

    monkeypatch.setattr(lock_tool, "resolve", resolve)
    output = tmp_path / "requirements.lock"
    # WHEN it is locked for one runtime
    lock_tool.main(["--input", str(requirements), "--output", str(output), "--python", "3.13"])
    # THEN pip resolved it for that runtime, constrained by every project pin
    project = {f"{w.name}=={w.version}" for w in package_tool.read_lock()}
    assert [(asked, python) for asked, python, _ in seen] == [(["-r", str(requirements)], "3.13")]
    assert set(seen[0][2].split()) == project
    # AND package.py reads the lock back, with what was requested
    lock = package_tool.parse_lock(output)
    assert [(w.name, w.version, w.sha256) for w in lock.wheels] == [("teamdep", "1.0", "a" * 64)]
    assert lock.requested == {"teamdep": frozenset({"fast"})}
    assert "for Python 3.13 on manylinux2014_x86_64" in output.read_text()
