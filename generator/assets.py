"""Everything in site/ besides the article: browser libraries, the page's own JS and CSS,
the favicon, and the model exported for TensorFlow.js.

The libraries come from node_modules/ (pinned by package-lock.json) and are copied once each
into site/assets/vendor/, shared by every figure: the page never asks a CDN. The model is
exported as a TF.js LayersModel with uint8-quantised weights (a quarter of float32) to keep
the page light; the export is cached because importing tensorflowjs alone takes seconds.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from generator.render import TEMPLATES

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
    "vega.min.js": "vega/build/vega.min.js",
    "vega-lite.min.js": "vega-lite/build/vega-lite.min.js",
    "vega-embed.min.js": "vega-embed/build/vega-embed.min.js",
}

MODEL_QUANTIZATION = "uint8"


class AssetError(RuntimeError):
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


def _export_files(model) -> dict[str, bytes]:
    from model.export import export_tfjs

    with tempfile.TemporaryDirectory() as folder:
        export_tfjs(model, folder, MODEL_QUANTIZATION)
        return {path.name: path.read_bytes() for path in sorted(Path(folder).iterdir())}


def export_model(ctx, site: Path) -> int:
    """The model as a TF.js LayersModel in site/model/ (model.json + weight shards)."""
    files = ctx.cache.memo("tfjs-model", [MODEL_QUANTIZATION], lambda: _export_files(ctx.model))
    (site / "model").mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (site / "model" / name).write_bytes(content)
    return len(files)
