"""Smoke test: the project's JupyterLab (`make lab`) starts, serves notebooks/ and runs a kernel.

No browser: the REST API and the kernel websocket only. It would have caught a JupyterLab
that cannot even start on the pinned stack (jupyterlab 4.5.7 with packaging 22.0).
"""

from __future__ import annotations

from pathlib import Path

from labserver import ROOT, execute_in_kernel, running_lab_server


def test_jupyterlab_serves_the_notebooks_and_runs_a_kernel(tmp_path):
    with running_lab_server(tmp_path) as server:
        status = server.api("GET", "/api/status").json()
        assert "started" in status

        listing = server.api("GET", "/api/contents/").json()
        served = sorted(item["name"] for item in listing["content"] if item["type"] == "notebook")
        expected = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
        assert served == expected and len(expected) >= 3

        settings = server.api(
            "GET", "/lab/api/settings/@jupyterlab/apputils-extension:notification"
        ).json()
        # jupyter/settings/overrides.json replaces the schema's defaults (user settings are empty).
        defaults = {k: v.get("default") for k, v in settings["schema"]["properties"].items()}
        assert defaults["fetchNews"] == "false", "the news pop-up must be off"
        assert defaults["checkForUpdates"] is False

        kernel = server.api("POST", "/api/kernels", json={"name": "python3"}).json()
        try:
            result = execute_in_kernel(
                server,
                kernel["id"],
                "import sys, mlprivacy_helpers, tensorflow as tf\n"
                "print(sys.prefix, mlprivacy_helpers.__version__, tf.__version__)",
            )
        finally:
            server.api("DELETE", f"/api/kernels/{kernel['id']}")
        assert result["status"] == "ok", result
        prefix, helpers_version, tf_version = result["stdout"].split()
        assert Path(prefix).resolve() == Path(__import__("sys").prefix).resolve(), (
            "the kernel must run in the project's environment"
        )
        assert tf_version.startswith("2.15"), tf_version
        assert helpers_version
