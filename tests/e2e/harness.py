"""End-to-end harness helpers: a real JupyterLab server driven by headless Chromium (Playwright).

Assertions go to the Python side: `Lab.kernel(notebook)` connects a `jupyter_client.BlockingKernelClient` to
the notebook's running kernel, so a test reads `w.labels` / `w.position` as the labeler's kernel has them.

Isolation: the server gets fresh config/data/runtime/settings/workspace dirs under a tmp dir, so nothing from
the developer's ~/.jupyter leaks in; the venv's share/jupyter (anywidget's and ipywidgets' labextensions, the
python3 kernelspec) stays on the path because it is found through sys.prefix, not through those dirs.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from jupyter_client import BlockingKernelClient
from playwright.sync_api import Page

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "test-results"
CHROMIUM = os.environ.get("RANK_WIDGET_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_TIMEOUT_S = 90
# User settings the session starts with: no news/update checks (they would make requests to the internet and
# show a toast), light theme.
USER_SETTINGS: dict[str, dict[str, Any]] = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
        "doNotDisturbMode": True,
    },
    "@jupyterlab/apputils-extension/themes.jupyterlab-settings": {"theme": "JupyterLab Light"},
    # Autosave is noise here (and would rewrite the test notebooks).
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_notebook(path: Path, cells: list[str]) -> Path:
    """Write a code-only notebook with a python3 kernelspec (without one, a kernel picker blocks the page)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


class KernelError(AssertionError):
    """Code run in the notebook's kernel raised; the message carries the kernel's traceback."""


@dataclass
class Kernel:
    """A client attached to a notebook's running kernel (the same kernel the browser talks to)."""

    client: BlockingKernelClient
    kernel_id: str

    def run(self, code: str, timeout: float = 60) -> str:
        """Execute `code` in the kernel; return its stdout. Raises KernelError with the traceback on error."""
        out: list[str] = []
        errors: list[str] = []

        def hook(msg: dict[str, Any]) -> None:
            kind = msg["header"]["msg_type"]
            content = msg["content"]
            if kind == "stream" and content.get("name") == "stdout":
                out.append(content["text"])
            elif kind == "error":
                errors.append("\n".join(content.get("traceback", [])) or content.get("evalue", ""))

        reply = self.client.execute_interactive(
            code, timeout=timeout, output_hook=hook, store_history=False, allow_stdin=False
        )
        if errors or reply["content"].get("status") != "ok":
            raise KernelError(f"kernel code failed:\n{code}\n---\n" + "\n".join(errors))
        return "".join(out)

    def json(self, expr: str, timeout: float = 60) -> Any:
        """Evaluate a Python expression in the kernel and return it decoded from JSON (default=str)."""
        marker = "@@RW-JSON@@"
        text = self.run(
            f"import json as _rw_json\nprint({marker!r} + _rw_json.dumps({expr}, default=str))",
            timeout=timeout,
        )
        line = next(ln for ln in text.splitlines() if ln.startswith(marker))
        return json.loads(line[len(marker) :])

    def close(self) -> None:
        self.client.stop_channels()


def _api(url: str, token: str, path: str, method: str = "GET", body: Any = None) -> Any:
    """A Jupyter server REST call with the token; the decoded JSON reply (None for an empty one)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        f"{url}{path}",
        data=data,
        method=method,
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else None


@dataclass
class Lab:
    """A running JupyterLab (or Notebook 7) server."""

    url: str
    token: str
    root: Path
    runtime_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    extra: dict[str, Any] = field(default_factory=dict)

    def api(self, path: str, method: str = "GET", body: Any = None) -> Any:
        return _api(self.url, self.token, path, method, body)

    def notebook_url(self, name: str) -> str:
        # `reset`: an empty workspace, so notebooks of earlier tests do not reopen (and start kernels)
        return f"{self.url}/lab/tree/{name}?reset&token={self.token}"

    def session_for(self, name: str) -> dict[str, Any] | None:
        for s in self.api("/api/sessions"):
            if s.get("path") == name or s.get("notebook", {}).get("path") == name:
                return dict(s)
        return None

    def kernel_id(self, name: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s = self.session_for(name)
            if s and s.get("kernel"):
                return str(s["kernel"]["id"])
            time.sleep(0.2)
        sessions = self.api("/api/sessions")
        raise AssertionError(f"no kernel session for notebook {name!r} after {timeout} s: {sessions}")

    def kernel(self, name: str) -> Kernel:
        """Attach to the running kernel of notebook `name` (relative to the server root)."""
        kid = self.kernel_id(name)
        conn = self.runtime_dir / f"kernel-{kid}.json"
        deadline = time.monotonic() + 30
        while not conn.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        client = BlockingKernelClient()
        client.load_connection_file(str(conn))
        client.start_channels()
        client.wait_for_ready(timeout=60)
        return Kernel(client, kid)

    def shutdown_session(self, name: str) -> None:
        s = self.session_for(name)
        if s:
            with contextlib.suppress(urllib.error.URLError):
                self.api(f"/api/sessions/{s['id']}", method="DELETE")

    def set_setting(self, plugin: str, values: dict[str, Any]) -> None:
        """Change a JupyterLab user setting through the settings REST API (e.g. the theme)."""
        self.api(f"/lab/api/settings/{plugin}", method="PUT", body={"raw": json.dumps(values)})


def start_lab(base: Path, app: Literal["lab", "notebook"] = "lab") -> Lab:
    """Start an isolated Jupyter server under `base`: JupyterLab (``app="lab"``) or Notebook 7
    (``app="notebook"``, i.e. ``jupyter notebook``; open its notebooks with :func:`notebook7_url`).
    ``Lab.api`` and ``Lab.kernel`` work the same for both. Stop it with :func:`stop_lab`, or start it with
    :func:`running_lab` to have it stopped."""
    root = base / "root"
    dirs = {name: base / name for name in ("config", "data", "runtime", "settings", "workspaces")}
    for d in [root, *dirs.values()]:
        d.mkdir(parents=True, exist_ok=True)
    for rel, values in USER_SETTINGS.items():
        target = dirs["settings"] / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    token = secrets.token_hex(16)
    port = _free_port()
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(dirs["config"]),
        JUPYTER_DATA_DIR=str(dirs["data"]),
        JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
        JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
        JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]),
        JUPYTER_PLATFORM_DIRS="1",
        PYTHONUNBUFFERED="1",
        # the kernel imports rank_widget from this checkout (editable install), never from /work/shared
        RANK_WIDGET_E2E="1",
    )
    env.pop("JUPYTERHUB_USER", None)
    if app == "lab":
        app_args = [
            f"--LabApp.user_settings_dir={dirs['settings']}", f"--LabApp.workspaces_dir={dirs['workspaces']}",
            "--LabApp.news_url=None", "--LabServerApp.extra_labextensions_path=[]",
        ]  # fmt: skip
        log_path = base / "jupyterlab.log"
    elif app == "notebook":
        app_args = [
            f"--JupyterNotebookApp.user_settings_dir={dirs['settings']}",
            f"--JupyterNotebookApp.workspaces_dir={dirs['workspaces']}",
        ]
        log_path = base / "notebook7.log"
    else:
        raise ValueError(f"app must be 'lab' or 'notebook', not {app!r}")
    jupyter = Path(sys.executable).parent / "jupyter"
    cmd = [
        str(jupyter), app, "--no-browser", f"--port={port}", "--ip=127.0.0.1", "--allow-root",
        f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0",
        *app_args, "--ServerApp.open_browser=False",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    # up once /api/status answers with the token (a 403 before the server is ready does not count)
    status = functools.partial(_api, url, token, "/api/status")
    proc = serve(cmd, f"{url}/api/status", log_path, cwd=root, env=env, name=f"jupyter {app}", probe=status)
    return Lab(url=url, token=token, root=root, runtime_dir=dirs["runtime"], process=proc, log_path=log_path)


@contextlib.contextmanager
def running_lab(base: Path, app: Literal["lab", "notebook"] = "lab") -> Iterator[Lab]:
    """:func:`start_lab` for the length of a with-block; after it the server's kernels are shut down, the
    server is stopped and its log copied to test-results/."""
    server = start_lab(base, app)
    try:
        yield server
    finally:
        # stop kernels cleanly first so they do not linger
        with contextlib.suppress(Exception):
            for s in server.api("/api/sessions"):
                server.api(f"/api/sessions/{s['id']}", method="DELETE")
        stop_lab(server.process)
        keep_log(server.log_path)


def serve(
    cmd: Sequence[str],
    url: str,
    log_path: Path,
    *,
    cwd: Path,
    env: Mapping[str, str],
    name: str,
    timeout: float = SERVER_START_TIMEOUT_S,
    probe: Callable[[], object] | None = None,
) -> subprocess.Popen[bytes]:
    """Start a server (`cmd` in `cwd`, in its own process group, its output in `log_path`) and return once it
    is up: `url` answers HTTP (any status), or `probe` returns without an OSError (e.g. a URLError).

    Raises RuntimeError with the end of the log if the process exits first, or if `timeout` (s) passes (the
    server is stopped then). `name` names it in those messages. Stop it with :func:`stop_lab`.
    """
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            list(cmd), cwd=cwd, env=dict(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    check = probe or functools.partial(_answers, url)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}:\n{log_path.read_text()[-4000:]}")
        try:
            check()
            return proc
        except (urllib.error.URLError, ConnectionError, OSError):
            if time.monotonic() > deadline:
                stop_lab(proc)
                raise RuntimeError(
                    f"{name} did not answer {url} in {timeout} s:\n{log_path.read_text()[-4000:]}"
                ) from None
            time.sleep(0.25)


def _answers(url: str) -> None:
    """Raises (an OSError) unless `url` answers HTTP; an error status counts as an answer."""
    with contextlib.suppress(urllib.error.HTTPError):  # the server answered
        urllib.request.urlopen(url, timeout=5).close()


@contextlib.contextmanager
def serving(
    cmd: Sequence[str], url: str, log_path: Path, **options: Any
) -> Iterator[subprocess.Popen[bytes]]:
    """:func:`serve` (`options` are its keyword arguments) for the length of a with-block; after it the
    server is stopped, and its log copied to test-results/ (also when the server did not come up)."""
    try:
        proc = serve(cmd, url, log_path, **options)
        try:
            yield proc
        finally:
            stop_lab(proc)
    finally:
        keep_log(log_path)


def keep_log(log_path: Path) -> None:
    """Copy a server's log to test-results/ (same file name), for debugging a failure after the tmp dir is
    gone."""
    with contextlib.suppress(OSError):
        RESULTS.mkdir(exist_ok=True)
        shutil.copy(log_path, RESULTS / log_path.name)


def venv_tool(name: str, install_hint: str) -> Path:
    """The executable `name` of this venv (else the one on PATH); fails the test, with `install_hint`, if
    there is none."""
    import pytest

    exe = Path(sys.executable).parent / name
    found = exe if exe.exists() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: {install_hint}")
    return Path(found)


def stop_lab(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    # the server started its kernels in its own process group: end the whole group, ours only
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


@dataclass
class PageLog:
    """What the page did: every request URL, console message and dialog, for assertions and debugging."""

    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)


def foreign_requests(log: PageLog, lab: Lab) -> list[str]:
    """Requests to anywhere but the JupyterLab server (anywidget loads its ESM from a same-origin blob)."""
    local = (lab.url + "/", f"blob:{lab.url}/", "data:")
    return [u for u in log.requests if not u.startswith(local)]


def page_log(pg: Page) -> PageLog:
    return pg.rw_log  # type: ignore[attr-defined, no-any-return]


# ---------------------------------------------------------------------------------------------------------
# Notebook driving


def open_notebook(page: Page, lab: Lab, name: str, timeout: float = 60) -> None:
    """Open a notebook in JupyterLab and wait until its kernel is running and idle.

    JupyterLab sometimes asks "Select Kernel" even for a notebook with a kernelspec (a race with the specs
    fetch on a fresh server); the dialog's default is the notebook's own kernelspec, so accept it.
    """
    page.goto(lab.notebook_url(name))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=timeout * 1000)
    idle = page.locator(
        ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator[data-status='idle']"
    )
    dialog = page.locator(".jp-Dialog")
    deadline = time.monotonic() + timeout
    ready_since: float | None = None
    while True:
        now = time.monotonic()
        if dialog.count():
            ready_since = None
            text = dialog.first.inner_text()
            if "Select Kernel" in text:
                dialog.first.locator(".jp-mod-accept").click()
        elif idle.count() and lab.session_for(name):
            ready_since = ready_since or now
            if now - ready_since > 0.5:  # stays ready (no late dialog)
                return
        else:
            ready_since = None
        if now > deadline:
            raise AssertionError(f"notebook {name} did not get an idle kernel in {timeout} s")
        time.sleep(0.1)


def wait_kernel_idle(page: Page, timeout: float = 60_000) -> None:
    # the toolbar's kernel status indicator: data-status="idle" once the kernel is ready
    page.wait_for_selector(
        ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator[data-status='idle']",
        timeout=timeout,
    )


def menu(page: Page, top: str, entry: str) -> None:
    """Click a main-menu entry, e.g. menu(page, "Run", "Run All Cells")."""
    page.locator(".lm-MenuBar-itemLabel", has_text=top).first.click()
    item = page.locator(".lm-Menu .lm-Menu-item:not(.lm-mod-disabled)").filter(
        has=page.locator(".lm-Menu-itemLabel").get_by_text(entry, exact=True)
    )
    item.first.wait_for(state="visible")
    item.first.click()
    page.locator(".lm-Menu").first.wait_for(state="detached")


def run_all(page: Page) -> None:
    """Run every cell and wait until the first one has started (its prompt is no longer blank)."""
    menu(page, "Run", "Run All Cells")
    page.wait_for_function(
        "() => { const p = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputPrompt');"
        " return p && /\\[(\\*|\\d+)\\]/.test(p.textContent || ''); }"
    )


def accept_dialog(page: Page, button_text: str) -> None:
    """Click a JupyterLab dialog's button (e.g. the 'Restart' of Restart Kernel...)."""
    page.locator(".jp-Dialog .jp-Dialog-button", has_text=button_text).first.click()
    page.wait_for_selector(".jp-Dialog", state="detached")


# ---------------------------------------------------------------------------------------------------------
# Notebook 7 (start_lab(base, app="notebook"): the same isolation; its own page URLs)


def notebook7_url(server: Lab, name: str) -> str:
    """A notebook's page in Notebook 7 (one document per page, no workspace)."""
    return f"{server.url}/notebooks/{name}?token={server.token}"
