"""Smoke test: the project's JupyterLab (`make lab`) starts, serves notebooks/ and runs a kernel.

No browser: the REST API and the kernel websocket only. It would have caught a JupyterLab
that cannot even start on the pinned stack (jupyterlab 4.5.7 with packaging 22.0).
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import nbformat
from nbformat.sign import NotebookNotary

from mlprivacy_build.labserver import ROOT, execute_in_kernel, running_lab_server


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
        assert tf_version == metadata.version("tensorflow"), tf_version
        assert helpers_version
        log = server.log.read_text(errors="replace")
        assert "Skipped non-installed server" not in log, "jupyter-lsp must not look for servers"
        assert "without encryption" not in log, "kernels must talk to the server encrypted"


def test_a_folder_the_user_names_is_served_instead_of_the_default(tmp_path):
    """`make lab LAB_ARGS="--notebook-dir=DIR"` (or --ServerApp.root_dir) serves DIR."""
    from mlprivacy_build import lab

    for args in (
        ["--ServerApp.root_dir=/x"],
        ["--notebook-dir=/x"],
        ["--notebook-dir", "/x"],
        ["--ServerApp.root_dir", "/x"],
    ):
        argv = lab.lab_command(args)
        named = [a for a in argv if a.partition("=")[0] in lab.ROOT_DIR_OPTIONS]
        assert len(named) == 1 and lab.user_root_dir(argv) == "/x", argv
    default = lab.lab_command(["--port=9999"])
    assert lab.user_root_dir(default) == str(lab.SOLVED_DIR)

    own = tmp_path / "my-notebooks"
    own.mkdir()
    (own / "mine.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook()))
    with running_lab_server(tmp_path / "lab", extra_args=[f"--notebook-dir={own}"]) as server:
        listing = server.api("GET", "/api/contents/").json()
        assert [item["name"] for item in listing["content"]] == ["mine.ipynb"]


def test_the_served_notebooks_are_signed_so_the_server_does_not_call_them_untrusted(tmp_path):
    from mlprivacy_build import lab

    folder = tmp_path / "served"
    folder.mkdir()
    clean = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    executed = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    executed.cells[0].outputs = [nbformat.v4.new_output("stream", text="2\n")]
    nbformat.write(clean, folder / "clean.ipynb")
    nbformat.write(executed, folder / "executed.ipynb")
    env = {"JUPYTER_DATA_DIR": str(tmp_path / "data")}

    assert lab.trust_notebooks(folder, env) == [folder / "clean.ipynb"]

    notary = NotebookNotary(data_dir=str(tmp_path / "data"))
    assert notary.check_signature(nbformat.read(folder / "clean.ipynb", as_version=4))
    assert not notary.check_signature(nbformat.read(folder / "executed.ipynb", as_version=4))
