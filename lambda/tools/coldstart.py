"""The cold import time of the handlers, from the unpacked deployment zip, against boto3.

The part ``coldstart`` of ``make bench`` (``bench.py --only coldstart``); it runs alone as
well: ``python lambda/tools/coldstart.py [--runs N]``.

How it measures:

* the zip is built as ``make package`` builds it (``package.py``, default contents, written
  to a temporary directory) and unpacked into another one: that is ``/var/task``;
* every measurement is a fresh interpreter, ``python -S -P``, with a clean environment and
  ``PYTHONPATH`` = the unpacked directory: ``-S`` leaves out ``site``, so the dev
  virtualenv's site-packages are not on ``sys.path`` (each run checks that every module
  came from the unpacked directory), ``-P`` leaves out the working directory;
* ``PYTHONDONTWRITEBYTECODE=1``: the zip holds no ``.pyc`` (``package.py`` leaves them
  out) and Lambda cannot write any, since ``/var/task`` is read-only, so on Lambda every
  cold start compiles every module it imports from the zip. Without the variable the
  first run would write ``__pycache__`` into the unpacked directory and every later run
  would be warm; with it, each run compiles again, as Lambda does. (The standard library
  keeps its own precompiled ``.pyc``, as on Lambda.);
* the interpreter is the one that runs the benchmark (the dev virtualenv's Python; only
  its standard library is used);
* the child times the ``import`` statement alone (``time.perf_counter`` around it), not the
  interpreter's start-up, which is the same for every module and which Lambda's runtime
  has paid before it imports the handler;
* the baseline is ``import boto3`` in exactly the same conditions, from the same unpacked
  directory; the modules are run in turns, round after round, so that the machine's
  load drifts over all of them alike; each figure is the median of ``--runs`` runs, shown
  with the fastest run, which a loaded machine disturbs less. The goal is checked on the
  medians.

Measured: each reference handler module (``lambda_dedup.handlers.<name>``) and a minimal
team handler on the toolkit, a temporary module that does
``from lambda_dedup import Deduplicator, batch_handler`` and defines a ``@batch_handler``
record function. It creates its client on the first event, not at import, as the
reference handlers do: a client is not an import, and ``import boto3`` creates none.

The goal (issue 12, section 6): at most 1.15 times ``import boto3``. It is a goal, not a
hard target: a miss is reported, with the largest import-time contributors of the worst
module beyond what ``import boto3`` imports (``-X importtime``), but does not fail the
benchmark.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
REPO = TOOLS.parents[1]
PACKAGE_TOOL = TOOLS / "package.py"

HANDLERS = ("sqs", "kinesis", "dynamodb_stream", "s3", "sns", "eventbridge", "inbox", "api")
BASELINE = "boto3"
TEAM_MODULE = "team_orders"
"""The minimal team handler's module name (written into a temporary directory)."""
TEAM_SOURCE = '''\
"""A team's own SQS consumer on the toolkit, as the README shows it."""

import functools
import json

from lambda_dedup import Deduplicator, batch_handler, effects


@functools.cache
def dedup():
    return Deduplicator.from_env("orders")  # its client, on the first event


@batch_handler
def handler(record):
    order = json.loads(record.body)
    return dedup().transact_once(
        order["order_id"], [effects.put("orders", order)], payload=order
    )
'''
GOAL = 1.15
"""At most this many times ``import boto3`` (a goal, not a hard target)."""

MODULES = (*(f"lambda_dedup.handlers.{name}" for name in HANDLERS), TEAM_MODULE)

_CHILD = textwrap.dedent(
    """\
    import time
    started = time.perf_counter_ns()
    import {module}
    elapsed = time.perf_counter_ns() - started
    import json, sys
    files = [getattr(m, "__file__", None) or "" for m in list(sys.modules.values())]
    print(json.dumps({{"ns": elapsed, "files": files}}))
    """
)


@dataclass
class Task:
    """The unpacked zip (``/var/task``) and the directory of the team's module."""

    root: Path
    team: Path
    zip_bytes: int

    def environment(self) -> dict[str, str]:
        """A clean environment: only what the interpreter and the imports need."""
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "PYTHONPATH": os.pathsep.join((str(self.root), str(self.team))),
            "PYTHONDONTWRITEBYTECODE": "1",
            "AWS_DEFAULT_REGION": "us-east-1",
        }


def unpack(workdir: Path) -> Task:
    """Build the deployment zip (``package.py``'s default contents) into ``workdir`` and
    unpack it there; write the team's module beside it."""
    archive = workdir / "lambda.zip"
    subprocess.run(
        [sys.executable, str(PACKAGE_TOOL), "--output", str(archive)],
        cwd=REPO,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    root = workdir / "task"
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(root)
    if any(root.rglob("*.pyc")):
        raise SystemExit(f"{archive} holds .pyc files; the measurement assumes it has none")
    team = workdir / "team"
    team.mkdir()
    (team / f"{TEAM_MODULE}.py").write_text(TEAM_SOURCE, encoding="utf-8")
    return Task(root, team, archive.stat().st_size)


def _python(module: str, *options: str) -> list[str]:
    return [sys.executable, "-S", "-P", *options, "-c", _CHILD.format(module=module)]


def import_ms(task: Task, module: str) -> float:
    """One cold import of ``module`` in a fresh interpreter, in milliseconds."""
    done = subprocess.run(
        _python(module),
        env=task.environment(),
        cwd=task.team,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"import {module} failed:\n{done.stderr}")
    found = json.loads(done.stdout.strip().splitlines()[-1])
    outside = [
        name
        for name in found["files"]
        if name
        and not name.startswith((str(task.root), str(task.team)))
        and not name.startswith(sys.base_prefix)
    ]
    if outside:
        raise SystemExit(f"import {module} used modules outside the unpacked zip: {outside[:5]}")
    return float(found["ns"]) / 1e6


@dataclass
class ColdStart:
    """Import times in milliseconds, by module, one per run."""

    runs: dict[str, list[float]] = field(default_factory=dict)

    def median(self, module: str) -> float:
        return statistics.median(self.runs[module])

    def ratio(self, module: str) -> float:
        return self.median(module) / self.median(BASELINE)

    def min_ratio(self, module: str) -> float:
        """The ratio of the fastest runs: steadier than the medians on a loaded machine."""
        return min(self.runs[module]) / min(self.runs[BASELINE])

    def worst(self) -> str:
        return max(MODULES, key=self.median)


def measure(task: Task, runs: int, modules: Sequence[str] = MODULES) -> ColdStart:
    """``runs`` rounds; each imports the baseline and every module once, in turns (the
    order rotates from round to round)."""
    order = [BASELINE, *modules]
    result = ColdStart({module: [] for module in order})
    for number in range(runs):
        shift = number % len(order)
        for module in order[shift:] + order[:shift]:
            result.runs[module].append(import_ms(task, module))
    return result


# -- where the time goes -----------------------------------------------------------------


@dataclass
class Imported:
    """One line of ``-X importtime``: a module, its own and its cumulative time (us)."""

    name: str
    self_us: int
    cumulative_us: int
    depth: int
    children: list[Imported] = field(default_factory=list)


def import_tree(task: Task, module: str) -> list[Imported]:
    """``-X importtime`` of one cold import: its modules, each with those it imported
    first (the roots are the modules imported at the top level)."""
    done = subprocess.run(
        _python(module, "-X", "importtime"),
        env=task.environment(),
        cwd=task.team,
        capture_output=True,
        text=True,
        check=True,
    )
    roots: list[Imported] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|")
        if not own.strip().isdigit():
            continue  # the header line
        stripped = name.lstrip(" ")
        node = Imported(stripped, int(own), int(cumulative), (len(name) - len(stripped) - 1) // 2)
        # Lines come children first: the deeper ones just before are this one's children.
        while roots and roots[-1].depth > node.depth:
            node.children.insert(0, roots.pop())
        roots.append(node)
    return roots


def _walk(nodes: list[Imported]) -> list[Imported]:
    found: list[Imported] = []
    for node in nodes:
        found.append(node)
        found.extend(_walk(node.children))
    return found


@dataclass
class Contributors:
    """What ``module`` imports beyond ``import boto3``."""

    module: str
    extra_us: int
    """The self time of every module that ``import boto3`` alone does not import."""
    by_package: list[tuple[str, int, int]]
    """(top-level package, self time, modules) of those modules, largest first."""
    edges: list[tuple[str, str, int]]
    """(lambda_dedup module, what it imports first from outside lambda_dedup, the self
    time of that import's modules that ``import boto3`` does not import), largest first:
    the imports the package could defer or avoid."""
    modules: list[tuple[str, int]]
    """(module, self time) of those modules, largest first."""
    own: list[tuple[str, int]]
    """(lambda_dedup module, self time), largest first."""


def contributors(task: Task, module: str) -> Contributors:
    """The import-time contributors of ``module`` beyond those of ``import boto3``."""
    baseline = {node.name for node in _walk(import_tree(task, BASELINE))}
    nodes = _walk(import_tree(task, module))
    extra = [node for node in nodes if node.name not in baseline]
    packages: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for node in extra:
        package = node.name.split(".")[0]
        packages[package][0] += node.self_us
        packages[package][1] += 1

    def beyond_boto3(node: Imported) -> int:
        return sum(n.self_us for n in _walk([node]) if n.name not in baseline)

    edges = [
        (parent.name, child.name, beyond_boto3(child))
        for parent in nodes
        if parent.name.split(".")[0] in ("lambda_dedup", TEAM_MODULE)
        for child in parent.children
        if child.name.split(".")[0] not in ("lambda_dedup", TEAM_MODULE)
    ]
    own = [(node.name, node.self_us) for node in nodes if node.name.startswith("lambda_dedup")]
    return Contributors(
        module,
        sum(node.self_us for node in extra),
        sorted(((p, s, n) for p, (s, n) in packages.items()), key=lambda row: -row[1]),
        sorted(edges, key=lambda row: -row[2]),
        sorted(((n.name, n.self_us) for n in extra), key=lambda row: -row[1]),
        sorted(own, key=lambda row: -row[1]),
    )


# -- report ------------------------------------------------------------------------------


def report(result: ColdStart, runs: int, task: Task) -> bool:
    """Print the table and the goal; on a miss, the worst module's contributors. Returns
    ``True``: the goal is not a hard target (a failed import has raised already)."""
    print(f"\nCold import from the unpacked deployment zip ({task.zip_bytes / 1e6:.1f} MB),")
    print("fresh `python -S -P` per run, PYTHONDONTWRITEBYTECODE=1 (no .pyc, as on Lambda),")
    print(f"median and fastest of {runs} runs, each against `import boto3` alike (x boto3).\n")
    print(f"{'module':<38} {'median ms':>9} {'x boto3':>8} {'min ms':>7} {'x boto3':>8}")
    for module in (BASELINE, *MODULES):
        label = f"{module} (team, toolkit)" if module == TEAM_MODULE else module
        print(
            f"{label:<38} {result.median(module):>9.1f} {result.ratio(module):>8.2f}"
            f" {min(result.runs[module]):>7.1f} {result.min_ratio(module):>8.2f}"
        )
    worst = result.worst()
    value = result.ratio(worst)
    met = value <= GOAL
    verdict = "met" if met else "MISSED (a goal, not a hard target: exit status unchanged)"
    print(f"\ngoal    cold import, worst module ({worst}) x boto3   {value:.2f} <= {GOAL:.2f}")
    print(f"        {verdict}")
    if not met:
        print_contributors(contributors(task, worst))
    return True


def print_contributors(found: Contributors, top: int = 12) -> None:
    """The largest contributors of ``found.module``'s import time beyond ``import boto3``."""
    extra_ms = found.extra_us / 1000
    print(f"\nWhere {found.module} spends import time beyond `import boto3`: {extra_ms:.1f} ms")
    print("of self time in modules that `import boto3` does not import (-X importtime of one")
    print("cold run, which inflates every figure a little). A module imported through")
    print("importlib.import_module (lambda_dedup's attributes loaded on first use) has no line")
    print("of its own: its time counts in the module that asked for it.\n")
    print(f"{'package':<38} {'self ms':>8} {'modules':>8}")
    for package, self_us, count in found.by_package[:top]:
        print(f"{package:<38} {self_us / 1000:>8.1f} {count:>8}")
    print(f"\n{'module':<66} {'self ms':>8}")
    for name, self_us in found.modules[:top]:
        print(f"{name:<66} {self_us / 1000:>8.1f}")
    print(f"\n{'lambda_dedup module':<38} {'imports first (outside lambda_dedup)':<48} {'ms':>6}")
    for parent, child, beyond in found.edges[:top]:
        if beyond >= 100:  # 0.1 ms
            print(f"{parent:<38} {child:<48} {beyond / 1000:>6.1f}")
    print(f"\n{'lambda_dedup module (its own code)':<38} {'self ms':>8}")
    for name, self_us in found.own[:top]:
        print(f"{name:<38} {self_us / 1000:>8.1f}")


def run(runs: int) -> bool:
    """Build, unpack, measure and report; returns whether the hard targets hold (there
    are none here: see :func:`report`)."""
    with tempfile.TemporaryDirectory(prefix="bench-coldstart-") as workdir:
        task = unpack(Path(workdir))
        result = measure(task, runs)
        return report(result, runs, task)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7, help="runs per module (default 7)")
    args = parser.parse_args(argv)
    return 0 if run(args.runs) else 1


if __name__ == "__main__":
    sys.exit(main())
