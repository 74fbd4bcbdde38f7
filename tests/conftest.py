"""Fixtures shared by every test.

Unit tests run the package against moto in-process (``mock_aws``). Terraform tests run the
CLI against moto server (a subprocess on a free loopback port), with the provider
installed from the local mirror through a CLI config written here, on a staged copy of
the Terraform tree so that nothing is written into the checkout.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import emulator as emulator_tool
import package as package_tool
import pytest
import tfharness

REPO = Path(__file__).resolve().parents[1]
_session_dir: Path | None = None
_emulator: emulator_tool.Emulator | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Stage the Terraform tree and write the CLI config before pytest-terraform starts.

    pytest-terraform runs Terraform in the module directory it finds under
    ``--tf-mod-dir`` and takes its environment from ``os.environ``: both point into a
    scratch directory here, removed when the session ends.
    """
    global _session_dir
    if hasattr(config, "workerinput"):  # pragma: no cover - xdist workers share the parent's
        return
    _session_dir = Path(tempfile.mkdtemp(prefix="lambda-dedup-tests-"))
    staged = tfharness.stage(_session_dir / "pytest-terraform")
    cli_config = tfharness.write_cli_config(_session_dir / "terraform.rc")
    os.environ.update(tfharness.base_environment(cli_config))
    config.option.dest_tf_mod_dir = str(staged / "examples")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop the emulator after every fixture (pytest-terraform's destroy included) is done."""
    if _emulator is not None:
        _emulator.stop()
    # pytest-terraform's xdist support (active whenever pytest-xdist is installed, which it
    # depends on) leaves its log files open.
    for plugin in config.pluginmanager.get_plugins():
        if type(plugin).__name__ == "XDistTerraform":
            for name in ("test_log_writer", "test_log_reader"):
                handle = getattr(plugin, name, None)
                if handle is not None:
                    handle.close()
    if _session_dir is not None:
        shutil.rmtree(_session_dir, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def _moto_as_the_emulator_serves_it() -> None:
    """moto in-process gets the emulator's fixes: atomic conditional writes, no phantom
    stream records, no delivery to functions (the local runner's job), TLS-only bucket
    policies that stand aside for plain HTTP..."""
    emulator_tool.behave_like_aws()


@pytest.fixture(autouse=True)
def _isolated_aws_environment(aws_credentials: None) -> None:
    """Never reach a real account, and never send in-process moto requests elsewhere: the
    test kit's ``aws_credentials`` (fake credentials, no endpoint or profile), for every
    test."""


@pytest.fixture(scope="session")
def session_dir() -> Path:
    assert _session_dir is not None
    return _session_dir


@pytest.fixture(scope="session")
def staged_tree(session_dir: Path) -> Path:
    """A staged copy of the Terraform tree (root, modules/, examples/) for plan tests.

    pytest-terraform has its own copy, so that the two never share a working directory.
    """
    return tfharness.stage(session_dir / "plans")


@pytest.fixture(scope="session")
def package_zip() -> Path:
    """The deployment zip, built from the current sources (``make package``)."""
    return package_tool.build()


@pytest.fixture(scope="session")
def emulator() -> emulator_tool.Emulator:
    """moto server on a free port of 127.0.0.1, started on first use.

    It is stopped in ``pytest_unconfigure``, not here: pytest-terraform destroys the
    applied stack while session fixtures are torn down, and needs the server until then.
    ``TF_VAR_endpoint_url`` points examples/emulator's provider at it.
    """
    global _emulator
    if _emulator is None:
        _emulator = emulator_tool.Emulator().start()
        # Terraform matches TF_VAR_<name> case-sensitively against `variable "endpoint_url"`.
        os.environ["TF_VAR_endpoint_url"] = _emulator.endpoint  # noqa: SIM112
    return _emulator


@pytest.fixture(scope="session")
def tf(session_dir: Path, emulator: emulator_tool.Emulator) -> tfharness.Terraform:
    """The Terraform CLI: provider from the local mirror, AWS calls to the emulator."""
    return tfharness.Terraform(session_dir / "terraform.rc", emulator.environment())
