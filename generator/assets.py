"""Everything in site/ besides the article: browser libraries, the page's own JS and CSS,
the favicon, the model exported for TensorFlow.js, and the figures' charts.

The libraries come from node_modules/ (pinned by package-lock.json) and are copied once each
into site/assets/vendor/, shared by every figure: the page never asks a CDN. Vega-Lite charts
are compiled to Vega at build time under Node.js and drawn there into SVG, inlined in the
page as the chart's first, instant view; the compiled Vega spec is inlined beside it, and
templates/js/charts.js swaps in a live Vega view (hover, tooltips, selections) when the chart
comes near the viewport. The page so needs only Vega's runtime (177 KB gzip, loaded once and
only then), not Vega-Lite's compiler or vega-embed. The model is
exported as a TF.js LayersModel with uint8-quantised weights (a quarter of float32) to keep
the page light; the export is cached because importing tensorflowjs alone takes seconds.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

from generator.cache import files_fingerprint, fingerprint
from generator.render import TEMPLATES
from model.base import UserError

REPO_ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = REPO_ROOT / "node_modules"

# site/assets/vendor/<name> <- node_modules/<path>. TensorFlow.js comes as its core and two
# backends rather than the whole tf.min.js: the page runs the LSTM as explicit ops and loads
# the weights with tf.io, so it needs no layers or converter (160 KB gzip instead of 400).
# The browser fetches one of the three wasm builds (plain, SIMD, threaded SIMD).
VENDOR_FILES = {
    "tf-core.min.js": "@tensorflow/tfjs-core/dist/tf-core.min.js",
    "tf-backend-cpu.min.js": "@tensorflow/tfjs-backend-cpu/dist/tf-backend-cpu.min.js",
    "tf-backend-wasm.min.js": "@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js",
    "tfjs-backend-wasm.wasm": "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm",
    "tfjs-backend-wasm-simd.wasm": "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm",
    "tfjs-backend-wasm-threaded-simd.wasm": "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm",
    "vega.min.js": "vega/build/vega.min.js",  # the charts' live views (templates/js/charts.js)
}

MODEL_QUANTIZATION = "uint8"
# What the exports are made by: model.export, model.write, whose constants (FOLLOWED_NLL, ...) a
# writer's metadata carries, and what makes and reads the lines a writer's uint8 kernels are
# rounded for (model.export.CALIBRATION): a change to any remakes them.
EXPORT_CODE = [REPO_ROOT / "model" / name for name in ("export.py", "write.py", "corpus.py", "data.py", "batches.py",
                                                       "text_network.py")]


class AssetError(UserError):
    """A file the site needs is missing; the message says how to get it."""


def copy_vendor(site: Path) -> int:
    vendor = site / "assets" / "vendor"
    vendor.mkdir(parents=True, exist_ok=True)
    for name, source in sorted(VENDOR_FILES.items()):
        if not (NODE_MODULES / source).is_file():
            raise AssetError(f"missing {NODE_MODULES / source}; run `npm ci` in {REPO_ROOT}")
        shutil.copyfile(NODE_MODULES / source, vendor / name)
    return len(VENDOR_FILES)


def copy_page_files(site: Path) -> int:
    """templates/js and templates/css -> site/assets/js and site/assets/css; favicon and
    .nojekyll (GitHub Pages would otherwise hide folders starting with an underscore)."""
    count = 0
    for kind in ("js", "css"):
        for source in sorted((TEMPLATES / kind).rglob("*")):
            if source.is_file() and not source.name.startswith("."):
                target = site / "assets" / kind / source.relative_to(TEMPLATES / kind)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
                count += 1
    shutil.copyfile(TEMPLATES / "favicon.svg", site / "favicon.svg")
    (site / ".nojekyll").write_bytes(b"")
    return count + 2


# Vega-Lite spec -> Vega spec -> SVG, run by Node.js with the pinned packages in node_modules/.
RENDER_CHARTS = """
import * as vega from "vega";
import {compile} from "vega-lite";
let input = "";
for await (const chunk of process.stdin) input += chunk;
const charts = [];
for (const spec of JSON.parse(input)) {
  const compiled = compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), {renderer: "none"});
  charts.push({svg: await view.toSVG(), vega: compiled});
}
process.stdout.write(JSON.stringify(charts));
"""


def render_charts(specs: list[dict]) -> list[dict]:
    """Each Vega-Lite spec as {"svg": the chart as Vega draws it, "vega": the compiled Vega
    spec the page's live view runs}. The SVG is drawn at the spec's own width, which the page
    then fits to its column."""
    if not specs:
        return []
    if shutil.which("node") is None or not (NODE_MODULES / "vega-lite").is_dir():
        raise AssetError("charts need Node.js and node_modules/vega-lite: "
                         f"install Node.js, then run `npm ci` in {REPO_ROOT}")
    result = subprocess.run(["node", "--input-type=module", "-e", RENDER_CHARTS], input=json.dumps(specs),
                            capture_output=True, text=True, cwd=REPO_ROOT)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise AssetError(f"Vega could not draw a chart ({last}); check the figure's spec with tests/test_figures.py")
    return json.loads(result.stdout)


def figure_charts(figures, cache) -> dict[str, dict]:
    """Figure name -> its chart (render_charts), for every figure with a spec. Cached by the
    specs and, since the compute function lives here, by this file's code."""
    charted = [figure for figure in figures if figure.spec is not None]

    def compute():
        return render_charts([figure.spec for figure in charted])

    charts = cache.memo("charts", [figure.spec for figure in charted], compute)
    return {figure.name: chart for figure, chart in zip(charted, charts)}


def _export_files(model, alphabet=None) -> dict[str, bytes]:
    import tensorflow as tf

    from model.export import export_tfjs

    # The converter saves through Keras's legacy HDF5 path and reloads it, which warns twice
    # about things that do not matter for an export; the build's own progress is the signal.
    logger, level = tf.get_logger(), tf.get_logger().level
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        logger.setLevel("ERROR")
        try:
            export_tfjs(model, folder, MODEL_QUANTIZATION, alphabet=alphabet)
        finally:
            logger.setLevel(level)
        return {path.name: path.read_bytes() for path in sorted(Path(folder).iterdir())}


def _exported(ctx, folder: str, model, *key_parts, alphabet=None) -> dict[str, bytes]:
    """`model` exported by model.export into site/`folder`/ (site path -> bytes), cached by the
    quantisation, EXPORT_CODE (the cache's own code version sees only this module) and
    `key_parts`."""
    files = ctx.cache.memo(f"tfjs-{folder}", [MODEL_QUANTIZATION, files_fingerprint(*EXPORT_CODE), *key_parts],
                           lambda: _export_files(model, alphabet))
    return {f"{folder}/{name}": content for name, content in files.items()}


def export_model(ctx) -> dict[str, bytes]:
    """The model as a TF.js LayersModel: site path (model/model.json, model/ shards) -> bytes."""
    return _exported(ctx, "model", ctx.model)


def export_writer(ctx) -> dict[str, bytes]:
    """The text model (ctx.writer) for site/writer/, beside the model: weights only, its alphabet in
    model.json (model.export), stored as the model's. Site path -> bytes."""
    writer = ctx.writer
    # by its weights and their names (cache.model_fingerprint's to_json cannot serialise the window cell)
    weights = fingerprint([weight.name for weight in writer.model.weights], *writer.model.get_weights())
    return _exported(ctx, "writer", writer.model, weights, writer.alphabet.chars, alphabet=writer.alphabet)
