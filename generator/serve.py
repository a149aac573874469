"""A static file server for site/ on 127.0.0.1, with the MIME types the page needs.

Used by `python build.py serve` (with `watch`, which rebuilds on changes) and by the browser
tests and benchmarks, which drive the Chromium named here.
"""
from __future__ import annotations

import functools
import http.server
import subprocess
import threading
import time
from pathlib import Path

from model.base import UserError

# Debian's chromium: Playwright's own browser download cannot work on these machines.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

MIME_TYPES = {
    ".wasm": "application/wasm",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".json": "application/json",
    ".bin": "application/octet-stream",
    ".svg": "image/svg+xml",
}


class _Handler(http.server.SimpleHTTPRequestHandler):
    # The base class's own class attribute, extended: never changed after.
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}  # noqa: RUF012

    def log_message(self, *args):  # the build prints its own progress; request logs are noise
        pass


def start(folder: Path, port: int = 0) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve `folder` in a background thread; returns the server and its base URL."""
    handler = functools.partial(_Handler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def _snapshot(folders: list[Path]) -> dict:
    return {path: path.stat().st_mtime_ns for folder in folders for path in folder.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts}


def watch(folders: list[Path], command: list[str], interval: float = 1.0) -> None:
    """Run `command` whenever a file under `folders` changes (polling: no extra dependency,
    and editors that replace files instead of writing them are caught too). Runs until Ctrl-C."""
    seen = _snapshot(folders)
    while True:
        time.sleep(interval)
        now = _snapshot(folders)
        if now != seen:
            seen = now
            print("change detected: rebuilding", flush=True)
            if subprocess.run(command).returncode != 0:
                print("rebuild failed; still serving the previous site", flush=True)


def require_browser_site(site, needs: str = "index.html") -> None:
    """For the benchmarks: a UserError (one line, run_cli's exit 2) unless headless Chromium
    can open the built `site`."""
    if not (Path(site) / needs).exists():
        raise UserError(f"{Path(site) / needs} not found: build the site first (python build.py --out {site})")
    if not Path(CHROMIUM).exists():
        raise UserError(f"{CHROMIUM} not installed: run bash setup.sh")
