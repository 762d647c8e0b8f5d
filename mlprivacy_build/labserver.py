"""Start and stop the project's JupyterLab server for the tests (smoke test and browser test).

The server is the one `make lab` starts (mlprivacy_build/lab.py), on 127.0.0.1, on a free port, with
a random token, and with Jupyter's config, runtime, workspace and user-settings folders in a
temporary directory so that nothing of the tester's own setup leaks in or is changed. It is
always shut down, kernels included, also when the test fails.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from mlprivacy_build import lab

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class LabServer:
    """A running JupyterLab: its base URL, token and log file."""

    url: str
    token: str
    log: Path

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        """Call the REST API; raises for an HTTP error status."""
        headers = {"Authorization": f"token {self.token}"}
        response = requests.request(
            method, f"{self.url}{path}", headers=headers, timeout=30, **kwargs
        )
        response.raise_for_status()
        return response

    def lab_url(self, path: str = "", workspace: str | None = None) -> str:
        """The browser URL of `path` (relative to notebooks/) in JupyterLab, with the token.

        A named `workspace` opens with only that document (no tabs restored from before).
        """
        prefix = f"/lab/workspaces/{workspace}" if workspace else "/lab"
        return f"{self.url}{prefix}/tree/{path}?token={self.token}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_lab_server(
    tmp_dir: Path,
    env: dict[str, str] | None = None,
    extra_args: list[str] | None = None,
    root_dir: Path | None = None,
    start_timeout: float = 90.0,
) -> Iterator[LabServer]:
    """Start the project's JupyterLab, wait until /api/status answers, yield, shut down.

    `root_dir` serves another folder than notebooks/ (the browser test serves copies, so
    that JupyterLab's autosave never writes outputs into the committed notebooks).
    """
    port, token = free_port(), secrets.token_hex(16)
    tmp_dir.mkdir(parents=True, exist_ok=True)
    base_env = dict(os.environ if env is None else env)
    for var, sub in (
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
        ("JUPYTERLAB_SETTINGS_DIR", "user-settings"),
    ):
        base_env[var] = str(tmp_dir / sub)
    log = tmp_dir / "jupyterlab.log"
    argv = lab.lab_command(
        [
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            *(extra_args or []),
        ],
        **({"root_dir": root_dir} if root_dir else {}),
    )
    with open(log, "wb") as log_file:
        process = subprocess.Popen(
            argv,
            env=lab.lab_environment(base_env),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = LabServer(f"http://127.0.0.1:{port}", token, log)
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"JupyterLab exited with code {process.returncode} before answering:\n"
                    + log.read_text(errors="replace")[-4000:]
                )
            try:
                server.api("GET", "/api/status")
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"JupyterLab did not answer /api/status within {start_timeout:.0f} s:\n"
                        + log.read_text(errors="replace")[-4000:]
                    ) from None
                time.sleep(0.25)
        yield server
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the server's process group (kernels included), then SIGKILL after 15 s."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=15)


def execute_in_kernel(server: LabServer, kernel_id: str, code: str, timeout: float = 120.0) -> dict:
    """Run `code` in a kernel over the server's websocket; return its outputs.

    Returns {"status": "ok"|"error", "stdout": str, "stderr": str, "error": str}.
    Waits for the kernel to answer a kernel_info request first, so no message is dropped.
    """
    import websocket  # websocket-client, installed with jupyter_server

    ws_url = server.url.replace("http", "ws", 1) + f"/api/kernels/{kernel_id}/channels"
    ws = websocket.create_connection(
        ws_url, header=[f"Authorization: token {server.token}"], timeout=timeout
    )
    session = uuid.uuid4().hex

    def send(msg_type: str, content: dict) -> str:
        msg_id = uuid.uuid4().hex
        ws.send(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "username": "test",
                        "session": session,
                        "msg_type": msg_type,
                        "version": "5.3",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "content": content,
                    "channel": "shell",
                    "buffers": [],
                }
            )
        )
        return msg_id

    def wait_for(msg_id: str, until: float) -> list[dict]:
        seen = []
        while time.monotonic() < until:
            ws.settimeout(max(0.1, until - time.monotonic()))
            try:
                msg = json.loads(ws.recv())
            except websocket.WebSocketTimeoutException:
                break
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            seen.append(msg)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return seen
        raise TimeoutError(
            f"no idle status for {msg_id} in time; got {[m['msg_type'] for m in seen]}"
        )

    try:
        deadline = time.monotonic() + timeout
        while True:  # the kernel may still be starting: ask until it answers
            try:
                wait_for(send("kernel_info_request", {}), min(deadline, time.monotonic() + 5))
                break
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise
        messages = wait_for(
            send(
                "execute_request",
                {
                    "code": code,
                    "silent": False,
                    "store_history": False,
                    "user_expressions": {},
                    "allow_stdin": False,
                    "stop_on_error": True,
                },
            ),
            deadline,
        )
    finally:
        ws.close()
    out = {"status": "ok", "stdout": "", "stderr": "", "error": ""}
    for msg in messages:
        if msg["msg_type"] == "stream":
            out[msg["content"]["name"]] += msg["content"]["text"]
        elif msg["msg_type"] == "error":
            out["status"] = "error"
            out["error"] = f"{msg['content']['ename']}: {msg['content']['evalue']}"
    return out
