"""Inputs/outputs tables of every Terraform README, in terraform-docs' markdown layout.

Each README has hand-written usage first, then the generated part between
``<!-- BEGIN_TF_DOCS -->`` and ``<!-- END_TF_DOCS -->``, produced from the
configuration's ``versions.tf``, ``variables.tf`` and ``outputs.tf``::

    python lambda/tools/tfdocs.py           # rewrite the generated parts
    python lambda/tools/tfdocs.py --check   # exit 1 if one is out of date

(terraform-docs is a Go binary from GitHub, out of reach offline; this covers the subset
of its markdown-table output that this repository uses.)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2
import tfharness

BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"
_NO_DEFAULT = object()


@dataclass(frozen=True)
class Variable:
    name: str
    description: str
    type: str
    default: Any  # _NO_DEFAULT when the variable is required

    @property
    def required(self) -> bool:
        return self.default is _NO_DEFAULT


@dataclass(frozen=True)
class Output:
    name: str
    description: str


@dataclass(frozen=True)
class Configuration:
    directory: Path
    requirements: dict[str, str]
    variables: list[Variable]
    outputs: list[Output]


def _text(value: Any) -> str:
    """python-hcl2 keeps quotes around strings and ``${}`` around expressions."""
    text = str(value)
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1]
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = json.loads(text)
    return text


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {_text(k): _plain(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return _text(value)
    return value


def _parsed(directory: Path) -> list[dict[str, Any]]:
    parsed = []
    for path in sorted(directory.glob("*.tf")):
        with path.open() as handle:
            parsed.append(hcl2.load(handle))
    return parsed


def _blocks(files: list[dict[str, Any]], kind: str) -> list[tuple[str, dict[str, Any]]]:
    """``(name, body)`` of every ``kind "name" {}`` block (variable, output)."""
    return [
        (_text(name), body)
        for parsed in files
        for block in parsed.get(kind, [])
        for name, body in block.items()
    ]


def read(directory: Path) -> Configuration:
    """The documented interface of the configuration in ``directory``."""
    files = _parsed(directory)
    variables = [
        Variable(
            name=name,
            description=_text(body.get("description", "")),
            type=_text(body.get("type", "any")),
            default=_plain(body["default"]) if "default" in body else _NO_DEFAULT,
        )
        for name, body in _blocks(files, "variable")
    ]
    outputs = [
        Output(name, _text(body.get("description", ""))) for name, body in _blocks(files, "output")
    ]
    requirements: dict[str, str] = {}
    for block in (b for parsed in files for b in parsed.get("terraform", [])):
        if "required_version" in block:
            requirements["terraform"] = _text(block["required_version"])
        for providers in block.get("required_providers", []):
            for name, spec in _plain(providers).items():
                requirements[name] = spec["version"]
    return Configuration(
        directory,
        requirements,
        sorted(variables, key=lambda v: v.name),
        sorted(outputs, key=lambda o: o.name),
    )


def _cell(text: str) -> str:
    return re.sub(r"\s+", " ", text).replace("|", "\\|").strip()


def _code(value: str) -> str:
    return f"`{_cell(value)}`"


def _default(variable: Variable) -> str:
    if variable.required:
        return "n/a"
    return _code(json.dumps(variable.default) if variable.default is not None else "null")


def _anchor(kind: str, name: str) -> str:
    return f'<a name="{kind}_{name}"></a> [{name}](#{kind}_{name})'


def render(configuration: Configuration) -> str:
    """The generated part of a README: requirements, inputs and outputs tables."""
    lines = [BEGIN, "## Requirements", "", "| Name | Version |", "|------|---------|"]
    requirements = sorted(configuration.requirements.items(), key=lambda kv: kv[0] != "terraform")
    lines += [f"| {_anchor('requirement', n)} | {_cell(v)} |" for n, v in requirements]
    lines += ["", "## Inputs", ""]
    if configuration.variables:
        lines += [
            "| Name | Description | Type | Default | Required |",
            "|------|-------------|------|---------|:--------:|",
        ]
        lines += [
            f"| {_anchor('input', v.name)} | {_cell(v.description)} | {_code(v.type)} "
            f"| {_default(v)} | {'yes' if v.required else 'no'} |"
            for v in configuration.variables
        ]
    else:
        lines.append("No inputs.")
    lines += ["", "## Outputs", ""]
    if configuration.outputs:
        lines += ["| Name | Description |", "|------|-------------|"]
        lines += [
            f"| {_anchor('output', o.name)} | {_cell(o.description)} |"
            for o in configuration.outputs
        ]
    else:
        lines.append("No outputs.")
    lines.append(END)
    return "\n".join(lines)


def updated_readme(directory: Path) -> tuple[Path, str, str]:
    """(README path, current text, text with the generated part regenerated)."""
    readme = directory / "README.md"
    current = readme.read_text() if readme.exists() else ""
    if BEGIN not in current or END not in current:
        raise SystemExit(f"{readme} needs the {BEGIN} / {END} markers")
    head, _, rest = current.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return readme, current, head + render(read(directory)) + tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the Terraform READMEs' tables.")
    parser.add_argument("--check", action="store_true", help="fail if a README is stale")
    args = parser.parse_args(argv)
    stale = []
    for directory in tfharness.terraform_directories():
        readme, current, wanted = updated_readme(directory)
        if current != wanted:
            stale.append(readme.relative_to(tfharness.REPO))
            if not args.check:
                readme.write_text(wanted)
    if args.check and stale:
        print("out of date (run `make docs`): " + ", ".join(map(str, stale)), file=sys.stderr)
        return 1
    for path in stale:
        print(f"updated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
