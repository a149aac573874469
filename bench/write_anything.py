"""How fast the write-anything figure writes what the reader types, in headless Chromium.

Prints one JSON line: on a built site served locally, with the figure in view,
- typed_to_first_point_ms: from the input event of a 40-character sentence (filled at once, as
  a paste) to the first point the figure draws; it includes the figure's pause for more typing
  (typing_pause_ms) before it starts writing. Goal: 300 ms.
- typed_to_done_ms, first_point_to_done_ms: until the whole sentence is written (the worker
  samples, the page draws each frame's new points meanwhile).
- sampling_ms: the same rows sampled by writer-model.js alone in a page (the wasm backend, no
  worker, nothing drawn), and per row; primed_first_point_ms: the first point after a prime of
  a corpus line (its points are read first). Goal: the sentence within 2 s.
- the writer's export size (gzip) and bench/page_weight.py's totals for the whole page, which
  count the text model since the figure loads it when scrolled to (page_gzip_bytes_each_once
  counts every address once). Goal: 2.0 MB gzip.
Each timing is the median of `runs` runs (a new seed each).

    python bench/write_anything.py [--site site] [--runs 3] [--no-page-weight]
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from page_weight import BUDGET_GZIP_BYTES, PageWeightConfig
from page_weight import measure as measure_page_weight

from generator.figures.write_anything import WriteAnythingConfig
from generator.serve import CHROMIUM, CHROMIUM_ARGS, require_browser_site, start
from model.base import run_cli
from model.data import load

SENTENCE = "write what you like and see it take form"  # 40 characters of the corpus's common words
GOAL_FIRST_POINT_MS = 300.0
GOAL_SAMPLING_MS = 2000.0
TYPING_PAUSE_MS = 250  # write-anything.js's TYPING_PAUSE: it waits for more typing before writing
FIGURE = '[data-figure="write-anything"]'
BLANK_PAGE = "bench.html"  # served by a route, so nothing is written into the site

# Times, in the page, the input event and the figure's first drawn point and end after it.
WATCH = f"""() => {{
  const root = document.querySelector('{FIGURE}');
  window.__timing = {{}};
  root.querySelector('.write-anything-text').addEventListener('input', () => {{
    window.__timing = {{typed: performance.now()}};
  }}, {{capture: true}});
  new MutationObserver(() => {{
    const timing = window.__timing;
    if (!timing.typed) return;
    if (!timing.firstPoint && Number(root.dataset.drawnPoints) > 0) timing.firstPoint = performance.now();
    if (timing.firstPoint && !timing.done && root.dataset.state === 'done') timing.done = performance.now();
  }}).observe(root, {{attributes: true, attributeFilter: ['data-drawn-points', 'data-state']}});
}}"""

# The figure's rows written by the model alone: start() and step() until done, per row.
SAMPLING = """async ([sentence, rowChars, prime, seed]) => {
  const {loadWriter} = await import('./assets/js/writer-model.js');
  const {wrap} = await import('./assets/js/figures/write-anything.js');
  const writer = await loadWriter('./writer/model.json', {backend: 'wasm'});
  const write = (text, options) => {
    const begin = performance.now();
    const writing = writer.start(text, options);
    let first = null;
    let points = 0;
    for (let step = writing.step(); !step.done; step = writing.step()) {
      first ??= performance.now() - begin;
      points++;
    }
    return {ms: performance.now() - begin, firstMs: first, points};
  };
  write('warm up', {seed});
  const rows = wrap(sentence, rowChars).map((row, index) => write(row, {bias: 1, seed: seed * 1009 + index}));
  const primed = write(wrap(sentence, rowChars)[0], {bias: 1, seed, prime});
  return {backend: writer.info.backend, rows, primedFirstMs: primed.firstMs, primePoints: prime.points.length};
}"""


@dataclass
class WriteBenchConfig:
    site: str = "site"
    runs: int = 3
    page_weight: bool = True
    timeout_s: float = 120.0


def corpus_prime() -> dict:
    """A synthetic corpus line of about a dozen characters, as the figure's prime: model units."""
    line = next(line for line in load("synthetic:40") if 8 <= len(line.text) <= 14)
    return {"points": line.model_inputs().tolist(), "text": line.text}


def figure_timings(browser, url: str, config: WriteBenchConfig) -> list[dict]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url)
    page.locator(FIGURE).scroll_into_view_if_needed()
    done = f"document.querySelector('{FIGURE}').dataset.state === 'done'"
    page.wait_for_function(done, timeout=config.timeout_s * 1000)  # the model loaded, the default text written
    page.evaluate(WATCH)
    timings = []
    for run in range(config.runs):
        page.fill(".write-anything-text", "")
        page.wait_for_timeout(500)
        # A new text each run (a trailing space is collapsed away), so the figure writes afresh.
        page.fill(".write-anything-text", SENTENCE + " " * run)
        page.wait_for_function(f"window.__timing.done && {done}", timeout=config.timeout_s * 1000)
        timing = page.evaluate("window.__timing")
        timings.append({"typed_to_first_point_ms": timing["firstPoint"] - timing["typed"],
                        "typed_to_done_ms": timing["done"] - timing["typed"],
                        "first_point_to_done_ms": timing["done"] - timing["firstPoint"],
                        "drawn_points": int(page.get_attribute(FIGURE, "data-drawn-points") or 0)})
    page.close()
    return timings


def sampling_timings(browser, url: str, config: WriteBenchConfig, row_chars: int) -> list[dict]:
    page = browser.new_page()
    page.route(url + BLANK_PAGE, lambda route: route.fulfill(
        body="<!doctype html><link rel=icon href='data:,'>", content_type="text/html"))
    page.goto(url + BLANK_PAGE)
    prime = corpus_prime()
    runs = [page.evaluate(SAMPLING, [SENTENCE, row_chars, prime, seed]) for seed in range(config.runs)]
    page.close()
    return runs


def writer_gzip_bytes(site: Path) -> int:
    return sum(len(gzip.compress(path.read_bytes(), compresslevel=6, mtime=0))
               for path in (site / "writer").iterdir() if path.name != "export_config.json")


def measure(config: WriteBenchConfig) -> dict:
    from playwright.sync_api import sync_playwright

    site = Path(config.site).resolve()
    row_chars = WriteAnythingConfig().row_chars
    results: dict = {"config": asdict(config), "sentence": SENTENCE, "characters": len(SENTENCE),
                     "cpus": os.cpu_count(), "load_average_before": os.getloadavg()}
    server, url = start(site)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            figure = figure_timings(browser, url, config)
            sampling = sampling_timings(browser, url, config, row_chars)
            browser.close()
    finally:
        server.shutdown()
    median = statistics.median
    for key in figure[0]:
        results[key] = median(run[key] for run in figure)
    results["typing_pause_ms"] = TYPING_PAUSE_MS
    results["sampling_ms"] = median(sum(row["ms"] for row in run["rows"]) for run in sampling)
    results["sampling_rows"] = [{"points": row["points"], "ms": round(row["ms"], 1)} for row in sampling[0]["rows"]]
    results["primed_first_point_ms"] = median(run["primedFirstMs"] for run in sampling)
    results["prime_points"] = sampling[0]["primePoints"]
    results["backend"] = sampling[0]["backend"]
    results["writer_gzip_bytes"] = writer_gzip_bytes(site)
    if config.page_weight:
        weight = measure_page_weight(PageWeightConfig(site=str(site)))
        results["page_gzip_bytes"] = weight["gzip_bytes"]
        results["page_gzip_bytes_each_once"] = weight["gzip_bytes_each_once"]
        results["page_counts_writer"] = any(path.startswith("/writer/") for path in weight["largest_gzip"])
    results["goals"] = {
        "first_point_ms": GOAL_FIRST_POINT_MS, "sampling_ms": GOAL_SAMPLING_MS, "page_gzip_bytes": BUDGET_GZIP_BYTES,
        "first_point_met": results["typed_to_first_point_ms"] <= GOAL_FIRST_POINT_MS,
        "sampling_met": results["sampling_ms"] <= GOAL_SAMPLING_MS,
        "page_weight_met": results.get("page_gzip_bytes", 0) <= BUDGET_GZIP_BYTES}
    return results


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", default=WriteBenchConfig.site, help="a built site folder (python build.py)")
    parser.add_argument("--runs", type=int, default=WriteBenchConfig.runs)
    parser.add_argument("--no-page-weight", dest="page_weight", action="store_false",
                        help="leave out bench/page_weight.py's whole-page count (a minute or two)")
    args = parser.parse_args(argv)
    config = WriteBenchConfig(site=args.site, runs=args.runs, page_weight=args.page_weight)
    require_browser_site(config.site, "writer/model.json")
    started = time.perf_counter()
    results = measure(config)
    results["bench_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(results, sort_keys=True))


if __name__ == "__main__":
    sys.exit(run_cli(main))
