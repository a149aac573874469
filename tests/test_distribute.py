"""Training under tf.distribute (model.train --strategy): the same numbers as one device, on
this CPU machine with logical devices and local processes standing in for GPUs and machines."""
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np

from model.weights import load_model

REPO = Path(__file__).resolve().parent.parent

# One process, two logical CPU devices: the same 3 updates of the same global batches under the
# default strategy and under `mirrored` (which splits each batch over the two devices).
MIRRORED = """
import json, sys
import numpy as np
from model.network import tf, keras, ModelConfig, build_model
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from model.base import Line
from model.batches import dataset, windows
from model.train import TrainConfig, compile_for_training, distribution

rng = np.random.default_rng(0)
lines = [Line(np.column_stack([rng.normal(0, 40, (50, 2)), rng.random(50) < 0.1]).astype(np.float32))
         for _ in range(24)]
inputs, targets = windows(lines, seq_len=50)  # no padding: every replica averages over as many points
config = TrainConfig(model=ModelConfig(cells=8, mixtures=2), batch_size=8, lr=1e-2)
losses = {}
for name in ("default", "mirrored"):
    strategy = distribution(name)
    keras.utils.set_random_seed(0)
    with strategy.scope():
        model = compile_for_training(build_model(config.model), config)
    history = model.fit(dataset(inputs, targets, config.batch_size), epochs=3, verbose=0)
    losses[name] = {"replicas": strategy.num_replicas_in_sync, "loss": history.history["loss"],
                    "weights": float(sum(np.abs(w).sum() for w in model.get_weights()))}
print(json.dumps(losses))
"""


def test_mirrored_over_two_devices_gives_the_one_device_numbers():
    done = subprocess.run([sys.executable, "-c", MIRRORED], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    losses = json.loads(done.stdout.strip().splitlines()[-1])
    assert (losses["default"]["replicas"], losses["mirrored"]["replicas"]) == (1, 2)
    np.testing.assert_allclose(losses["mirrored"]["loss"], losses["default"]["loss"], rtol=0, atol=1e-5)
    np.testing.assert_allclose(losses["mirrored"]["weights"], losses["default"]["weights"], rtol=1e-5)


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def test_two_local_workers_train_one_model(tmp_path):
    """Two processes talking over 127.0.0.1, sharing --out, end with the same weights; the chief
    writes the model."""
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    command = [sys.executable, "-m", "model.train", "--strategy", "multi-worker", "--data", "synthetic:8",
               "--cells", "8", "--mixtures", "2", "--seq-len", "50", "--batch-size", "4", "--epochs", "1"]
    workers = []
    for index in range(2):
        environment = {**os.environ, "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker",
                                                                                           "index": index}})}
        workers.append(subprocess.Popen([*command, "--out", str(tmp_path / "run")], cwd=REPO,
                                        env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = [worker.communicate(timeout=600)[0] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], [output[-2000:] for output in outputs]
    digests = [re.findall(r"final weights sha256 ([0-9a-f]{16})", output) for output in outputs]
    assert len(digests[0]) == 1 and digests[0] == digests[1], digests
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["final_weights_sha256"].startswith(digests[0][0])
    assert json.loads((tmp_path / "run" / "train.json").read_text())["strategy"] == "multi-worker"
    assert load_model(str(tmp_path / "run"))[1].cells == 8
    assert sorted(path.name for path in (tmp_path / "run").iterdir() if "worker" in path.name) == []


def test_multi_worker_without_tf_config_is_one_line(tmp_path):
    environment = {key: value for key, value in os.environ.items() if key != "TF_CONFIG"}
    done = subprocess.run([sys.executable, "-m", "model.train", "--strategy", "multi-worker", "--data", "synthetic:4",
                           "--out", str(tmp_path / "run")], cwd=REPO, env=environment, capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert "TF_CONFIG" in done.stderr


def test_mixed_precision_trains_a_float32_artefact(tmp_path):
    """float16 compute (for GPUs; slow but correct on a CPU): the head and the weights stay float32."""
    done = subprocess.run([sys.executable, "-m", "model.train", "--mixed-precision", "--data", "synthetic:6",
                           "--cells", "8", "--mixtures", "2", "--seq-len", "50", "--epochs", "1",
                           "--out", str(tmp_path / "run")], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    model, _, _ = load_model(str(tmp_path / "run"))
    assert {weight.dtype.name for weight in model.weights} == {"float32"}
    assert np.isfinite(json.loads((tmp_path / "run" / "metrics.json").read_text())["best_val_nll"])
