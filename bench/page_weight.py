"""Page weight: everything a reader's browser fetches with every figure loaded, as one JSON line.

Opens a built site in headless Chromium (Debian's, via Playwright) on a local static server,
scrolls every figure and chart into view (a chart's live view loads Vega), picks another line
in every figure that offers a choice, and waits until the network is quiet. Every response
(the page's and its workers') is counted; its size is that of the file served, and its gzip
size what a compressing host such as GitHub Pages sends (gzip level 6). Budget: 2.0 MB gzip in total.

    python bench/page_weight.py [--site site] [--wait 4]
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from generator.serve import CHROMIUM, CHROMIUM_ARGS, require_browser_site, start
from model.base import run_cli

REPO_ROOT = Path(__file__).resolve().parent.parent

BUDGET_GZIP_BYTES = 2_000_000


@dataclass
class PageWeightConfig:
    site: str = "site"
    wait: float = 4.0  # seconds of network quiet after each interaction, for workers and lazy loads
    width: int = 1280
    height: int = 900


def load_everything(page, config: PageWeightConfig) -> None:
    page.wait_for_load_state("networkidle")
    for index in range(page.locator("[data-figure]").count()):
        figure = page.locator("[data-figure]").nth(index)
        figure.scroll_into_view_if_needed()
        page.wait_for_timeout(config.wait * 250)
        choices = figure.locator("select")
        for choice in range(choices.count()):  # another line: its per-line data is fetched now
            options = choices.nth(choice).locator("option")
            if options.count() > 1 and choices.nth(choice).is_enabled():
                choices.nth(choice).select_option(index=1)
        page.wait_for_load_state("networkidle")
    for index in range(page.locator("[data-chart]").count()):  # charts go live (Vega) only when near
        chart = page.locator("[data-chart]").nth(index)
        chart.scroll_into_view_if_needed()
        page.wait_for_selector(f'[data-chart="{chart.get_attribute("data-chart")}"][data-live]')
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(config.wait * 1000)


def measure(config: PageWeightConfig) -> dict:
    from playwright.sync_api import sync_playwright

    site = Path(config.site).resolve()
    server, url = start(site)
    fetched: list[str] = []
    started = time.perf_counter()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": config.width, "height": config.height})
            context.on("response", lambda response: fetched.append(response.url))
            page = context.new_page()
            page.goto(url)
            load_everything(page, config)
            browser.close()
    finally:
        server.shutdown()
    sizes: dict[str, tuple[int, int]] = {}  # address: (bytes, gzip bytes)
    for address in fetched:
        path = site / unquote(urlparse(address).path).lstrip("/")
        path = path / "index.html" if path.is_dir() else path
        content = path.read_bytes() if path.is_file() else b""
        sizes.setdefault(address, (len(content), len(gzip.compress(content, compresslevel=6, mtime=0))))
    per_request = [sizes[address] for address in fetched]
    gzip_bytes = sum(size[1] for size in per_request)
    largest = sorted(sizes.items(), key=lambda item: -item[1][1])[:12]
    return {
        "requests": len(fetched),
        "bytes": sum(size[0] for size in per_request),
        "gzip_bytes": gzip_bytes,
        # each address once: what a host that lets the browser cache sends, should a file be fetched twice
        "gzip_bytes_each_once": sum(size[1] for size in sizes.values()),
        "budget_gzip_bytes": BUDGET_GZIP_BYTES,
        "within_budget": gzip_bytes <= BUDGET_GZIP_BYTES,
        "largest_gzip": {urlparse(address).path: size[1] for address, size in largest},
        "seconds": round(time.perf_counter() - started, 1),
        "config": asdict(config),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", default=str(REPO_ROOT / "site"), help="a built site (default: site/)")
    parser.add_argument("--wait", type=float, default=4.0, help="seconds to let each figure load (default: 4)")
    args = parser.parse_args(argv)
    config = PageWeightConfig(site=args.site, wait=args.wait)
    require_browser_site(config.site)
    print(json.dumps(measure(config), sort_keys=True))


if __name__ == "__main__":
    sys.exit(run_cli(main))
