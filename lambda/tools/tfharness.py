"""Running Terraform offline: the CLI config, a staged copy of the tree, and a runner.

* :func:`write_cli_config` writes the Terraform CLI config this project uses. When a local
  filesystem mirror of ``hashicorp/aws`` exists it installs the provider from there and
  never from the registry; without one (a machine with internet), it is a plain
  ``direct`` installation, i.e. Terraform's default behaviour.
* :func:`stage` copies the repository's Terraform files to a scratch directory, so that
  ``init`` writes its ``.terraform`` and lock files there and never into the checkout.
  An example that consumes the modules by git source (``examples/own-function``) gets
  them from this repository's own git history, at the ref it names, with no network.
* :class:`Terraform` runs the CLI with that config and a given environment.

Run directly to write the CLI config and print its path::

    python lambda/tools/tfharness.py cli-config build/terraform.rc
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PROVIDER = "registry.terraform.io/hashicorp/aws"
MIRROR_ENV = "TF_PROVIDER_MIRROR"
MIRROR_CANDIDATES = (
    Path("/opt/tf-plugins"),
    Path.home() / ".terraform.d" / "plugins",
    Path.home() / ".local" / "share" / "terraform" / "plugins",
    Path("/usr/local/share/terraform/plugins"),
    Path("/usr/share/terraform/plugins"),
)
TERRAFORM_FILES = ("*.tf", "*.tftest.hcl", "README.md")
GIT_SOURCE = "git::https://github.com/<your-org>/lambda-dedup.git"
"""How the examples written for a team name this repository in a module source."""
"""What :func:`stage` copies from each Terraform directory."""


def _platform() -> str:
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
    return f"{platform.system().lower()}_{arch.get(machine, machine)}"


def find_provider_mirror() -> Path | None:
    """The filesystem mirror that holds ``hashicorp/aws`` for this platform, if any.

    ``$TF_PROVIDER_MIRROR`` wins; otherwise the usual mirror directories are searched,
    in both the unpacked and the packed layout.
    """
    override = os.environ.get(MIRROR_ENV)
    candidates = [Path(override)] if override else list(MIRROR_CANDIDATES)
    for root in candidates:
        provider_dir = root / PROVIDER
        if not provider_dir.is_dir():
            continue
        unpacked = any(p.is_dir() for p in provider_dir.glob(f"*/{_platform()}"))
        packed = any(provider_dir.glob(f"terraform-provider-aws_*_{_platform()}.zip"))
        if unpacked or packed:
            return root
    if override:
        raise FileNotFoundError(f"${MIRROR_ENV}={override} holds no {PROVIDER} for {_platform()}")
    return None


def cli_config_text(mirror: Path | None) -> str:
    """The CLI config: the mirror for ``hashicorp/aws`` if there is one, else the registry."""
    if mirror is None:
        return "# No local provider mirror: providers come from their registries.\n"
    return (
        "# Written by lambda/tools/tfharness.py: hashicorp/aws comes from the local\n"
        "# filesystem mirror only; any other provider from its registry.\n"
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path    = {json.dumps(str(mirror))}\n"
        f'    include = ["{PROVIDER}"]\n'
        "  }\n"
        "  direct {\n"
        f'    exclude = ["{PROVIDER}"]\n'
        "  }\n"
        "}\n"
    )


def write_cli_config(path: Path) -> Path:
    """Write the CLI config to ``path`` (creating its directory) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(cli_config_text(find_provider_mirror()))
    return path


def base_environment(cli_config: Path) -> dict[str, str]:
    """Variables every Terraform run here gets (added to the caller's environment)."""
    return {
        "TF_CLI_CONFIG_FILE": str(cli_config),
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        # No update check: it would call checkpoint-api.hashicorp.com.
        "CHECKPOINT_DISABLE": "1",
    }


def terraform_directories(root: Path = REPO) -> list[Path]:
    """Every directory holding Terraform configuration: root, modules and examples."""
    dirs = [root]
    for parent in ("modules", "examples"):
        base = root / parent
        if base.is_dir():
            dirs.extend(sorted(p for p in base.iterdir() if any(p.glob("*.tf"))))
    return dirs


def stage(destination: Path, root: Path = REPO) -> Path:
    """Copy the Terraform tree (root, modules/, examples/) to ``destination``.

    ``build/`` is linked, not copied, so that the deployment zip is the one ``make
    package`` built. Returns ``destination``.
    """
    for directory in terraform_directories(root):
        target = destination / directory.relative_to(root)
        target.mkdir(parents=True, exist_ok=True)
        for pattern in TERRAFORM_FILES:
            for file in directory.glob(pattern):
                shutil.copy2(file, target / file.name)
                if file.suffix == ".tf":
                    text = file.read_text()
                    local = text.replace(GIT_SOURCE, f"git::file://{root}")
                    if local != text:
                        (target / file.name).write_text(local)
    build = root / "build"
    build.mkdir(exist_ok=True)
    link = destination / "build"
    if not link.exists():
        link.symlink_to(build, target_is_directory=True)
    return destination


class TerraformError(RuntimeError):
    """A Terraform command failed; the message carries its output."""


@dataclass
class Terraform:
    """The Terraform CLI with this project's CLI config and a fixed environment."""

    cli_config: Path
    environment: Mapping[str, str] = field(default_factory=dict)
    binary: str = "terraform"

    def env(self) -> dict[str, str]:
        return {**os.environ, **base_environment(self.cli_config), **self.environment}

    def run(
        self, directory: Path, *args: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run ``terraform -chdir=directory args...``; raise :class:`TerraformError` on failure."""
        command = [self.binary, f"-chdir={directory}", *args]
        result = subprocess.run(command, env=self.env(), capture_output=True, text=True)
        if check and result.returncode != 0:
            raise TerraformError(
                f"{' '.join(command)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
            )
        return result

    def init(self, directory: Path) -> None:
        self.run(directory, "init", "-input=false", "-no-color")

    def validate(self, directory: Path) -> dict[str, Any]:
        result = self.run(directory, "validate", "-json", "-no-color", check=False)
        report: dict[str, Any] = json.loads(result.stdout)
        return report

    def plan(self, directory: Path) -> dict[str, Any]:
        """Plan and return ``terraform show -json`` of the saved plan."""
        self.run(directory, "plan", "-input=false", "-no-color", "-out=tfplan")
        shown = self.run(directory, "show", "-json", "tfplan")
        plan: dict[str, Any] = json.loads(shown.stdout)
        return plan

    def plan_errors(self, directory: Path) -> list[dict[str, Any]]:
        """Plan, expecting failure, and return the error diagnostics (``plan -json``).

        Each has ``summary``, ``detail`` and, when Terraform knows it, the ``address`` of
        the resource whose condition failed.
        """
        result = self.run(directory, "plan", "-json", "-input=false", "-no-color", check=False)
        messages = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
        return [
            message["diagnostic"]
            for message in messages
            if message.get("type") == "diagnostic"
            and message["diagnostic"].get("severity") == "error"
        ]

    def fmt_check(self, directory: Path) -> subprocess.CompletedProcess[str]:
        """``terraform fmt -check -recursive`` over ``directory`` (non-raising)."""
        return self.run(directory, "fmt", "-check", "-recursive", "-diff", "-no-color", check=False)


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "cli-config":
        print(write_cli_config(Path(argv[1]).resolve()))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
