"""How long `python build.py` takes cold, and again after a template edit, as one JSON line.

Builds the site with the default inputs (or the build options given) into a temporary folder
with a fresh cache, three ways, each the wall time of the whole command as a user waits for it:
- cold: an empty cache, the whole way (TensorFlow, every precompute, the export, the charts);
- precomputes_cached: the model's stages computed again, but every precompute and export
  read from the cache (the stored stage removed first): what a template edit cost before
  the build kept its model's stages whole;
- template_rebuild: the model's stages as cached (same model, lines, seed and code), the
  page rendered and its files copied. A rebuild re-renders every template and copies every
  page file whatever changed, so it needs no edit of the shared templates/ to be measured.
The best of --repeat runs counts for the warm ones (the machine is shared; the ratios say
more than the seconds).

    python bench/rebuild.py [--repeat 3] [build.py options, e.g. --data synthetic:16]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from model.base import REPO_ROOT, UserError, run_cli


def timed_build(options: list[str]) -> float:
    began = time.perf_counter()
    done = subprocess.run([sys.executable, str(REPO_ROOT / "build.py"), *options], cwd=REPO_ROOT,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:  # build.py's own one-line error, its last line, says why
        said = done.stderr.strip().splitlines() or [f"exit {done.returncode}"]
        raise UserError(f"python build.py {' '.join(options)}: {said[-1].removeprefix('error: ')}")
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per warm measurement; the best counts")
    args, build_options = parser.parse_known_args()
    with tempfile.TemporaryDirectory() as folder:
        cache = Path(folder) / "cache"
        options = [*build_options, "--out", str(Path(folder) / "site"), "--cache", str(cache)]
        cold = timed_build(options)
        template_rebuild = min(timed_build(options) for _ in range(args.repeat))

        def without_stage():
            for stage in cache.glob("site-stage-*.pkl"):
                stage.unlink()
            return timed_build(options)

        precomputes_cached = min(without_stage() for _ in range(args.repeat))
    print(json.dumps({"options": build_options, "cold_seconds": round(cold, 2),
                      "precomputes_cached_seconds": round(precomputes_cached, 2),
                      "template_rebuild_seconds": round(template_rebuild, 2),
                      "cold_over_template_rebuild": round(cold / template_rebuild, 1),
                      "precomputes_cached_over_template_rebuild": round(precomputes_cached / template_rebuild, 1)}))


if __name__ == "__main__":
    sys.exit(run_cli(main))
