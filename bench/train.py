"""Training throughput of the handwriting model (Graves 2013, section 4.2) as model/train.py runs it.

Trains the real network with the real loss (model.train.compile_for_training) on full batches of
windows of the synthetic corpus for a few steps after a warm-up, timed from batch end to batch end
(`fit` sometimes idles for seconds after its last batch), and prints one JSON object: points per second
of wall time and per CPU-second of this process (the machine is shared, so CPU time says more
about the code; on an idle 2-core machine wall throughput approaches twice the CPU figure),
peak memory, and the load average while it ran. The goal (issue 16): 15,000 points/s for one
layer of 500 cells, batch 32, sequence 300, on 2 cores.

`--compare` runs each setting below in its own process (TensorFlow's thread pools are fixed
at start) and adds each one's ratio to the first. `--ceiling` times only what no LSTM code can
avoid: each time step's recurrent matrix products, one forward (h U) and two backward (dgates U^T,
h^T dgates), in serial loops as Keras runs them, and prints the points/s a step made of nothing
else would reach on this machine:

    python bench/train.py [--cells 500 --batch-size 32 --seq-len 300 --steps 5]
    python bench/train.py --compare
    python bench/train.py --ceiling
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

from model.base import run_cli

# (name, extra arguments, environment): model.train's settings first, then other thread pools
# (0: TensorFlow's choice), oneDNN off, the LSTM code path and XLA.
SETTINGS = [
    ("default", [], {}),
    ("TensorFlow's thread pools", ["--intra", "0", "--inter", "0"], {}),
    ("intra 1, inter 1", ["--intra", "1", "--inter", "1"], {}),
    ("intra 2, inter 1", ["--intra", "2", "--inter", "1"], {}),
    ("oneDNN off", [], {"TF_ENABLE_ONEDNN_OPTS": "0"}),
    ("generic RNN(LSTMCell) loop", ["--lstm", "cell"], {}),
    ("jit_compile (XLA)", ["--jit"], {}),
]


def measure(args) -> dict:
    from model import network
    from model.batches import dataset, windows
    from model.data import load
    from model.train import TrainConfig, compile_for_training, use_threads

    use_threads(args.intra, args.inter)

    if args.lstm == "cell":  # the same weights in Keras's generic RNN loop; build_model reads keras.layers.LSTM
        keras = network.keras
        keras.layers.LSTM = lambda units, **kw: keras.layers.RNN(keras.layers.LSTMCell(units), **kw)
    config = TrainConfig(model=network.ModelConfig(args.layers, args.cells, args.mixtures),
                         batch_size=args.batch_size, seq_len=args.seq_len, seed=0)
    network.keras.utils.set_random_seed(config.seed)
    inputs, targets = windows(load(f"synthetic:{args.lines}"), config.seq_len)
    full = len(inputs) // config.batch_size * config.batch_size  # every batch full: each step has the points counted
    inputs, targets = inputs[:full], targets[:full]
    model = compile_for_training(network.build_model(config.model), config)
    model.jit_compile = args.jit
    batches = dataset(inputs, targets, config.batch_size, shuffle_seed=0).repeat()
    clocks = []  # (wall, CPU) at the end of each batch: what `fit` does after the last one is no training
    clock = network.keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: clocks.append((time.perf_counter(), time.process_time())))
    model.fit(batches, steps_per_epoch=args.warmup + args.steps, epochs=1, verbose=0, callbacks=[clock])
    (wall_start, cpu_start), (wall_end, cpu_end) = clocks[args.warmup - 1], clocks[-1]
    wall, cpu = wall_end - wall_start, cpu_end - cpu_start
    points = args.steps * config.batch_size * config.seq_len
    return {"shape": f"{args.layers}x{args.cells}x{args.mixtures}", "batch_size": args.batch_size,
            "seq_len": args.seq_len, "steps": args.steps, "points_per_s": round(points / wall),
            "points_per_cpu_s": round(points / cpu), "peak_memory_mb": round(resource.getrusage(
                resource.RUSAGE_SELF).ru_maxrss / 1024), "load_average": round(os.getloadavg()[0], 2)}


def ceiling(args) -> dict:
    import tensorflow as tf

    from model.train import use_threads

    use_threads(args.intra, args.inter)
    rng = tf.random.Generator.from_seed(0)
    h = rng.normal([args.batch_size, args.cells])
    gates = rng.normal([args.batch_size, 4 * args.cells])
    recurrent = rng.normal([args.cells, 4 * args.cells]) * 0.01  # small, so values stay finite over the steps
    steps = tf.constant(args.seq_len)

    @tf.function
    def forward_and_backward():  # tanh, slice and tile: the least element-wise work that chains step to step
        def forward(step, h):
            return step + 1, tf.tanh(tf.matmul(h, recurrent)[:, :args.cells])

        def backward(step, d_gates, d_recurrent):  # the two products side by side, as in Keras's gradient loop
            d_h = tf.matmul(d_gates, recurrent, transpose_b=True)
            return step + 1, tf.tile(tf.tanh(d_h), [1, 4]), d_recurrent + tf.matmul(h, d_gates, transpose_a=True)

        last = tf.while_loop(lambda step, _: step < steps, forward, (0, h))[1]
        d_gates = gates + tf.tile(last, [1, 4])  # the backward loop starts once the forward one has ended
        return tf.while_loop(lambda step, *_: step < steps, backward, (0, d_gates, tf.zeros_like(recurrent)))[2]

    forward_and_backward()  # traced and warmed up
    best = float("inf")
    for _ in range(args.steps):
        start = time.perf_counter()
        forward_and_backward().numpy()
        best = min(best, time.perf_counter() - start)
    seconds = best * args.layers
    flops = args.layers * args.seq_len * 3 * 2 * args.batch_size * args.cells * 4 * args.cells
    return {"shape": f"{args.layers}x{args.cells}", "batch_size": args.batch_size, "seq_len": args.seq_len,
            "recurrent_products_s": round(seconds, 3), "gflop_per_s": round(flops / seconds / 1e9, 1),
            "points_per_s_at_most": round(args.batch_size * args.seq_len / seconds),
            "load_average": round(os.getloadavg()[0], 2)}


def compare(argv: list[str]) -> dict:
    results: dict[str, dict] = {}
    for name, extra, environment in SETTINGS:
        run = subprocess.run([sys.executable, __file__, *argv, *extra], capture_output=True, text=True,
                             env={**os.environ, **environment})
        if run.returncode:
            results[name] = {"error": (run.stderr.strip().splitlines() or ["failed"])[-1]}
            continue
        results[name] = json.loads(run.stdout.strip().splitlines()[-1])
        baseline = results["default"]
        for key in ("points_per_s", "points_per_cpu_s"):
            results[name][f"{key}_ratio"] = round(results[name][key] / baseline[key], 2)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name, default in (("layers", 1), ("cells", 500), ("mixtures", 20), ("batch-size", 32), ("seq-len", 300),
                          ("steps", 5), ("warmup", 2), ("lines", 40), ("intra", 1), ("inter", os.cpu_count() or 1)):
        parser.add_argument(f"--{name}", type=int, default=default, help="default %(default)s")
    parser.add_argument("--lstm", choices=("keras", "cell"), default="keras",
                        help="the LSTM code path: Keras's LSTM layer (default) or a generic RNN(LSTMCell) loop")
    parser.add_argument("--jit", action="store_true", help="compile the train step with XLA")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--compare", action="store_true", help="run every setting and print ratios")
    mode.add_argument("--ceiling", action="store_true", help="time only the LSTM's recurrent matrix products, "
                      "best of --steps runs: the most points/s any step can reach")
    args, _ = parser.parse_known_args()
    if args.warmup < 1:
        parser.error("--warmup: at least 1 (the clock starts at the end of its last batch)")
    if args.compare:
        passed = [arg for arg in sys.argv[1:] if arg != "--compare"]
        print(json.dumps(compare(passed)))
    elif args.ceiling:
        print(json.dumps(ceiling(args)))
    else:
        print(json.dumps(measure(args)))


if __name__ == "__main__":
    sys.exit(run_cli(main))
