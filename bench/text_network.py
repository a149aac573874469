"""Training throughput of the synthesis network (Graves 2013, section 5; model/text_network.py).

Trains the real window cell with the real loss (model.train.compile_for_training) on random
points and text of one shape, after a warm-up batch, and prints one JSON object: points per
second of wall time and per CPU-second of this process (the machine is shared: CPU time says
more about the code).

    python bench/text_network.py [--cells 256 --layers 1 --batch-size 32 --steps 360 --chars 16 --repeats 4 --jit]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

from model.base import run_cli


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name, default in (("cells", 256), ("layers", 1), ("window-mixtures", 10), ("batch-size", 32),
                          ("steps", 360), ("chars", 16), ("repeats", 4)):
        parser.add_argument(f"--{name}", type=int, default=default)
    parser.add_argument("--jit", action="store_true", help="compile the training step with XLA")
    args = parser.parse_args()

    import numpy as np

    from model.alphabet import Alphabet
    from model.network import ModelConfig, keras
    from model.text_network import build_synthesis_model
    from model.train import TrainConfig, compile_for_training, use_threads

    use_threads()
    keras.utils.set_random_seed(0)
    alphabet = Alphabet.default()
    config = ModelConfig(args.layers, args.cells, 20, args.window_mixtures, alphabet.size)
    model = compile_for_training(build_synthesis_model(config), TrainConfig())
    model.jit_compile = args.jit
    rng = np.random.default_rng(0)
    shape = (args.batch_size * args.repeats, args.steps)
    points = (rng.normal(0, 0.1, (*shape, 3))).astype(np.float32)
    targets = np.concatenate([points, np.ones((*shape, 1), np.float32)], axis=-1)
    codes = rng.integers(0, alphabet.size, (shape[0], args.chars)).astype(np.int32)
    warm = slice(0, args.batch_size)
    model.fit([points[warm], codes[warm]], targets[warm], batch_size=args.batch_size, verbose=0)
    wall, cpu = time.perf_counter(), time.process_time()
    model.fit([points, codes], targets, batch_size=args.batch_size, shuffle=False, verbose=0)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(json.dumps({**vars(args), "points": int(np.prod(shape)), "points_per_s": round(np.prod(shape) / wall),
                      "points_per_cpu_s": round(np.prod(shape) / cpu), "load_average": os.getloadavg()[0]}))


if __name__ == "__main__":
    sys.exit(run_cli(main))
