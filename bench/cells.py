"""How fast the cell heatmaps (`cells`, `cells-sorted`) draw and recolour in headless Chromium,
and how many bytes they ship.

Prints JSON: per figure, the time from its script starting to the first heatmap and strokes
drawn (data-render-ms: includes fetching the first line's file), milliseconds to recolour the
strokes after a click on a row (the click handler alone, and until the next frame), and the
time to switch to another line; then the bytes inlined into the page and the per-line files.
Goals (issue 7): render within 1 s, recolour within 100 ms (median over the clicks; the max
is printed too, and on a busy machine it shows the load more than the figure).

    python bench/cells.py [--site site] [--clicks 20]

Build the site first (`python build.py --weights distill` for the article's 500 cells).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from generator.serve import CHROMIUM, CHROMIUM_ARGS, require_browser_site, start
from model.base import run_cli

FIGURES = ("cells", "cells-sorted")
GOAL_RENDER_MS = 1000.0
GOAL_RECOLOUR_MS = 100.0


@dataclass
class BenchConfig:
    site: str = "site"
    clicks: int = 20  # rows clicked per figure, spread over the heatmap
    timeout_s: float = 60.0


# Clicks `count` rows spread over the heatmap; per click, the handler's own timing and the time
# until the frame after it (rendering included).
RECOLOUR = """async ([name, count]) => {
  const root = document.querySelector(`[data-figure="${name}"]`);
  const heatmap = root.querySelector(".cells-heatmap");
  const rows = Number(root.querySelector(".cells-number").max) + 1;
  const handler = [], frame = [];
  for (let i = 0; i < count; i++) {
    const box = heatmap.getBoundingClientRect();
    const row = Math.floor(((i * 0.618) % 1) * rows);
    const begun = performance.now();
    heatmap.dispatchEvent(new MouseEvent("click", {bubbles: true, clientX: box.left + box.width / 2,
                                                  clientY: box.top + (row + 0.5) * box.height / rows}));
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
    frame.push(performance.now() - begun);
    handler.push(Number(root.dataset.recolourMs));
  }
  return {handler, frame};
}"""

SWITCH_LINE = """async (name) => {
  const root = document.querySelector(`[data-figure="${name}"]`);
  const select = root.querySelector(".cells-line");
  if (select.options.length < 2) return null;
  const begun = performance.now();
  select.value = String(select.options.length - 1);
  select.dispatchEvent(new Event("change"));
  while (root.dataset.state !== "ready" || root.dataset.line !== select.value) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return performance.now() - begun;
}"""

INLINED_BYTES = """(name) => {
  const script = document.getElementById(`figure-data-${name}`);
  return script ? new TextEncoder().encode(script.textContent).length : 0;
}"""


def summary(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 2), "max": round(max(values), 2)}


def measure(config: BenchConfig) -> dict:
    from playwright.sync_api import sync_playwright

    site = Path(config.site)
    files = sorted((site / "data" / "cells").glob("*.bin"))
    server, url = start(site)
    result = {"config": asdict(config), "figures": {}}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(url)
            for name in FIGURES:
                root = page.locator(f'[data-figure="{name}"]')
                root.scroll_into_view_if_needed()
                page.wait_for_selector(f'[data-figure="{name}"][data-state="ready"]',
                                       timeout=config.timeout_s * 1000)
                render_ms = float(root.get_attribute("data-render-ms"))
                recolour = page.evaluate(RECOLOUR, [name, config.clicks])
                result["figures"][name] = {
                    "cells": int(root.locator(".cells-number").get_attribute("max")) + 1,
                    "points": int(root.get_attribute("data-drawn-points")),
                    "render_ms": round(render_ms, 1),
                    "recolour_handler_ms": summary(recolour["handler"]),
                    "recolour_to_next_frame_ms": summary(recolour["frame"]),
                    "switch_line_ms": round(page.evaluate(SWITCH_LINE, name) or 0, 1),
                    "inlined_bytes": page.evaluate(INLINED_BYTES, name),
                    "ok": (render_ms <= GOAL_RENDER_MS
                           and statistics.median(recolour["frame"]) <= GOAL_RECOLOUR_MS),
                }
            browser.close()
    finally:
        server.shutdown()
    first_file = site / "data" / "cells" / "line-0.bin"
    result["bytes"] = {
        "line_files": len(files), "line_files_total": sum(path.stat().st_size for path in files),
        "first_view": sum(figure["inlined_bytes"] for figure in result["figures"].values())
                      + (first_file.stat().st_size if first_file.is_file() else 0),
    }
    result["goals"] = {"render_ms": GOAL_RENDER_MS, "recolour_ms": GOAL_RECOLOUR_MS}
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", default=BenchConfig.site, help="a site built by build.py (default: site)")
    parser.add_argument("--clicks", type=int, default=BenchConfig.clicks, help="rows clicked per figure")
    args = parser.parse_args(argv)
    config = BenchConfig(site=args.site, clicks=args.clicks)
    require_browser_site(config.site, "data/cells")
    print(json.dumps(measure(config), indent=2))


if __name__ == "__main__":
    sys.exit(run_cli(main))
