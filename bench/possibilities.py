"""Possibility-space speed in headless Chromium, as one JSON line.

Two goals (issue 6): the default view is drawn within 1 s of the figure scrolling into view,
and any other setting for a 600-point human line is sampled in the page (50 futures at every
point, in the model's Web Worker) within 30 s. Opens a built site on a local static server
with Debian's Chromium via Playwright, scrolls to the figure, then picks the longest human
line and times each requested number of steps at another variation (the model is loaded
first and timed apart). The machine's load average is reported: on a shared machine it
slows everything down.

    python bench/possibilities.py [--site site] [--steps 4 10] [--variation 0.5]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from generator.serve import CHROMIUM, CHROMIUM_ARGS, require_browser_site, start
from model.base import run_cli

REPO_ROOT = Path(__file__).resolve().parent.parent

FIGURE = '[data-figure="possibilities"]'
DEFAULT_VIEW_GOAL_S = 1.0
LIVE_GOAL_S = 30.0
MODEL_BACKEND = ("import('./assets/js/model-client.js').then((client) => client.getModel())"
                 ".then((model) => model.info.backend)")


@dataclass
class PossibilitiesBenchConfig:
    site: str = "site"
    steps: list[int] = field(default_factory=lambda: [4, 10])
    variation: float = 0.5
    width: int = 1280
    height: int = 900
    timeout_s: float = 300.0


def seconds_until_shown(page, shown: str, timeout_s: float) -> float:
    started = time.perf_counter()
    page.wait_for_selector(f'{FIGURE}[data-state="done"][data-shown="{shown}"]', timeout=timeout_s * 1000)
    return round(time.perf_counter() - started, 3)


def measure(config: PossibilitiesBenchConfig) -> dict:
    from playwright.sync_api import sync_playwright

    server, url = start(Path(config.site).resolve())
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": config.width, "height": config.height})
            page.goto(url)
            page.wait_for_load_state("load")
            data = json.loads(page.locator("#figure-data-possibilities").text_content())
            figure = page.locator(FIGURE)
            default_steps = figure.locator(".poss-steps").input_value()
            default_variation = figure.locator(".poss-variation").input_value()
            figure.scroll_into_view_if_needed()
            default_view_s = seconds_until_shown(page, f"0/{default_steps}/{default_variation}", config.timeout_s)

            # The model loads once per page, on the first setting off the default view; time it apart.
            started = time.perf_counter()
            backend = page.evaluate(MODEL_BACKEND)
            model_load_s = round(time.perf_counter() - started, 3)

            humans = [index for index, line in enumerate(data["lines"]) if line["kind"] == "human"]
            longest = max(humans, key=lambda index: data["lines"][index]["points"])
            figure.locator(".poss-line-select").select_option(str(longest))
            figure.locator(".poss-variation").fill(str(config.variation))
            variation = figure.locator(".poss-variation").input_value()
            live = []
            for steps in config.steps:
                figure.locator(".poss-steps").fill(str(steps))
                seconds = seconds_until_shown(page, f"{longest}/{steps}/{variation}", config.timeout_s)
                live.append({"steps": steps, "seconds": seconds, "within_goal": seconds <= LIVE_GOAL_S,
                             "points_per_second": round(data["lines"][longest]["points"] / seconds, 1)})
            browser.close()
    finally:
        server.shutdown()
    return {
        "default_view_seconds": default_view_s,
        "default_view_within_goal": default_view_s <= DEFAULT_VIEW_GOAL_S,
        "line": data["lines"][longest]["name"], "line_points": data["lines"][longest]["points"],
        "futures_per_point": data["futures"], "variation": config.variation, "backend": backend,
        "model_load_seconds": model_load_s, "load_average": round(os.getloadavg()[0], 1),
        "live": live, "config": asdict(config),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", default=str(REPO_ROOT / "site"), help="a built site (default: site/)")
    parser.add_argument("--steps", type=int, nargs="+", default=[4, 10], help="steps to time (default: 4 10)")
    parser.add_argument("--variation", type=float, default=0.5, help="variation to time at (default: 0.5)")
    args = parser.parse_args(argv)
    config = PossibilitiesBenchConfig(site=args.site, steps=args.steps, variation=args.variation)
    if any(not 1 <= n <= 10 for n in config.steps):
        parser.error("--steps must be between 1 and 10 (the figure's range)")
    require_browser_site(config.site)
    print(json.dumps(measure(config), sort_keys=True))


if __name__ == "__main__":
    sys.exit(run_cli(main))
