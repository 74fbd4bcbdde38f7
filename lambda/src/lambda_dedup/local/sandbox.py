"""Execution environments: each function's deployed code in a process of its own.

Lambda runs a function in an execution environment: the deployment package unpacked in
``/var/task``, the function's environment variables, the handler imported once (init),
then one invocation at a time until the environment is discarded. Here an environment
is a subprocess (:mod:`._bootstrap`) of this interpreter, started with exactly the
function's environment (plus the runner's, which points the SDK at the emulator), in a
directory holding the zip the emulator was given. The code comes from the emulator
(``GetFunction``'s ``Code.Location``), checked against its ``CodeSha256``; nothing of
the runner's own path is on the function's. Two functions never share a process, so
neither modules nor environment leak from one to the other.

An invocation that outlives the function's timeout is stopped as Lambda stops it: the
process is killed and the next invocation starts a new one (a cold start).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BOOTSTRAP = Path(__file__).with_name("_bootstrap.py")
INIT_TIMEOUT_S = 10.0
"""Lambda's limit on the init phase (importing the handler's module)."""


@dataclass
class Outcome:
    """What one init or invocation gave: the function's output and its result."""

    output: str = ""
    response: str | None = None
    """The response, as JSON text."""
    error: dict[str, Any] | None = None
    """The error, in the runtime's shape (``errorMessage``, ``errorType``...)."""
    timed_out: bool = False
    exit_code: int | None = None
    """Set when the process ended instead of answering."""

    def lines(self) -> list[str]:
        return [line for line in self.output.splitlines() if line]


def fetch_code(lambda_client: Any, name: str, root: Path) -> Path:
    """The directory holding ``name``'s deployed zip, unpacked (once per ``CodeSha256``)."""
    found = lambda_client.get_function(FunctionName=name)
    config, code = found["Configuration"], found.get("Code") or {}
    if config.get("PackageType", "Zip") != "Zip" or "Location" not in code:
        raise RuntimeError(f"{name}: only functions deployed as a zip can run locally")
    expected = config["CodeSha256"]
    directory = root / hashlib.sha256(expected.encode()).hexdigest()[:32]
    if directory.is_dir():
        return directory
    try:
        with urllib.request.urlopen(code["Location"], timeout=30) as answer:
            package = answer.read()
    except OSError as error:
        raise RuntimeError(
            f"{name}: cannot download the deployed code from {code['Location']} ({error});"
            " the project's emulator (lambda/tools/emulator.py) serves it"
        ) from error
    actual = base64.b64encode(hashlib.sha256(package).digest()).decode()
    if actual != expected:
        raise RuntimeError(f"{name}: the code downloaded has CodeSha256 {actual}, not {expected}")
    staging = root / f"{directory.name}.{os.getpid()}.{threading.get_ident()}"
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        archive.extractall(staging)
    try:
        staging.rename(directory)
    except OSError:  # another thread unpacked it first
        shutil.rmtree(staging, ignore_errors=True)
    return directory


class Sandbox:
    """One execution environment: a process running one function's handler."""

    def __init__(self, code_dir: Path, handler: str, environment: dict[str, str]) -> None:
        self.key: tuple[Any, ...] = ()
        """What the environment was made from; another key needs another environment."""
        self._process = subprocess.Popen(
            [sys.executable, "-I", str(BOOTSTRAP), str(code_dir), handler],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=environment,
            cwd=code_dir,
            start_new_session=True,  # its own process group: killed with what it started
        )
        self._messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.ready = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stdout = self._process.stdout
        assert stdout is not None
        with stdout:
            for line in stdout:
                with contextlib.suppress(ValueError):
                    self._messages.put(json.loads(line))
        self._messages.put(None)

    def _await(self, timeout_s: float) -> Outcome:
        """Collect the output until the next result, the process's end or the timeout."""
        outcome = Outcome()
        chunks: list[str] = []
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                message = self._messages.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                outcome.timed_out = True
                self.kill()
                break
            if message is None:
                outcome.exit_code = self._process.wait()
                break
            if "log" in message:
                chunks.append(message["log"])
                continue
            outcome.response = message.get("response")
            outcome.error = message.get("error")
            break
        outcome.output = "".join(chunks)
        return outcome

    def init(self) -> Outcome:
        """Wait for the handler's import; an error (or the end of the process) is init's."""
        outcome = self._await(INIT_TIMEOUT_S)
        self.ready = outcome.error is None and not outcome.timed_out and outcome.exit_code is None
        if not self.ready:
            self.kill()
        return outcome

    def invoke(self, request: dict[str, Any], timeout_s: float) -> Outcome:
        """Send one invocation and wait for its result until ``timeout_s``."""
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(json.dumps(request).encode("ascii") + b"\n")
            self._process.stdin.flush()
        except OSError:
            pass  # it ended: _await finds out
        outcome = self._await(timeout_s)
        if outcome.timed_out or outcome.exit_code is not None:
            self.ready = False
        return outcome

    @property
    def alive(self) -> bool:
        return self.ready and self._process.poll() is None

    def kill(self) -> None:
        """Stop the process and what it started."""
        self.ready = False
        if self._process.poll() is None:
            with contextlib.suppress(OSError):
                os.killpg(self._process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=10)
        if self._process.stdin is not None:
            with contextlib.suppress(OSError):
                self._process.stdin.close()
