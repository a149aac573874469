"""The handwriting network: LSTM layers and a mixture density head (Graves 2013, section 4.2).

The model reads a sequence of points (dx, dy, pen_up) in model units (raw offsets / 40) and,
after each point, predicts the next one as a mixture of M bivariate normals for (dx, dy) and a
Bernoulli for pen_up. The head's 1 + 6M outputs are laid out exactly as the Distill article's
model (Carter, Ha, Johnson, Olah 2016), so its weights load unchanged: the end-of-stroke logit,
then blocks of M for the pi logits, mu1, mu2, log sigma1, log sigma2 and rho before tanh.

`nll_terms` is the one negative log-likelihood of the project: training, evaluation and the
site all score points with it. `Runner` steps a built model from any state, for traces of the
cell states and for sampling, reusing the model's own layers rather than a second LSTM.
Like nanoGPT's model.py, this file imports nothing from the project: which weights fill the
network (the committed default, the article's, a training run's) is model.weights' choice.
"""
from __future__ import annotations

import contextlib
import math
import os
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np


@contextlib.contextmanager
def _stderr_closed():
    """Sends file descriptor 2 to /dev/null: TensorFlow's CUDA plugins print registration errors
    there at import on machines without a GPU, before any log level applies. Python exceptions
    still reach the caller."""
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # the CLIs speak in one-line errors, not C++ logs
with _stderr_closed():
    import tensorflow as tf
    import tf_keras as keras

LOG_2PI = math.log(2.0 * math.pi)
LOG_2 = math.log(2.0)


@dataclass
class ModelConfig:
    """The network's shape; the default is the original article's (one layer of 500 cells).

    window_mixtures > 0 makes it Graves's synthesis network (section 5, model.text_network): a soft
    window of that many Gaussians over a one-hot text of alphabet_size columns. `hands` names
    the hands a synthesis network can be told to write in, in the order of its hand codes.
    """

    layers: int = 1
    cells: int = 500
    mixtures: int = 20
    window_mixtures: int = 0
    alphabet_size: int = 0
    hands: list[str] = field(default_factory=list)

    @property
    def conditional(self) -> bool:
        """Whether the network reads a text (section 5) as well as the pen points."""
        return self.window_mixtures > 0

    @property
    def outputs(self) -> int:
        return 1 + 6 * self.mixtures


def build_model(config: ModelConfig) -> keras.Model:
    """(batch, T, 3) points in model units -> (batch, T, 1 + 6M) raw head outputs `y`."""
    points = keras.Input(shape=(None, 3), name="points")
    hidden = points
    for index in range(config.layers):
        hidden = keras.layers.LSTM(config.cells, return_sequences=True, name=f"lstm_{index}")(hidden)
    y = keras.layers.Dense(config.outputs, name="mixture", dtype="float32")(hidden)  # float32 under mixed precision
    return keras.Model(points, y, name="handwriting")


class Mixture(NamedTuple):
    """The head's outputs as distribution parameters; every field but eos_logit is (..., M)."""

    eos_logit: tf.Tensor  # (..., 1): P(pen_up) = sigmoid(eos_logit)
    log_pi: tf.Tensor
    mu1: tf.Tensor
    mu2: tf.Tensor
    log_sigma1: tf.Tensor
    log_sigma2: tf.Tensor
    rho: tf.Tensor  # tanh of the raw output, in (-1, 1)


def _head_blocks(y) -> list[tf.Tensor]:
    """Split y into [eos logit (..,1), pi logits, mu1, mu2, log sigma1, log sigma2, rho pre-tanh]."""
    y = tf.convert_to_tensor(y)
    mixtures = (y.shape[-1] - 1) // 6
    return tf.split(y, [1] + [mixtures] * 6, axis=-1)


def mixture(y) -> Mixture:
    """The mixture parameters of raw head outputs y (..., 1 + 6M), no temperature applied."""
    eos_logit, pi_logits, mu1, mu2, log_sigma1, log_sigma2, rho_pre = _head_blocks(y)
    return Mixture(eos_logit, tf.nn.log_softmax(pi_logits), mu1, mu2, log_sigma1, log_sigma2,
                   tf.tanh(rho_pre))


def nll_terms(y, targets) -> tuple[tf.Tensor, tf.Tensor]:
    """Per point negative log-likelihoods (nll_xy, nll_eos), each (...,), in nats.

    y (..., 1 + 6M) are the raw head outputs predicting targets (..., 3) = [dx, dy, pen_up]
    in model units; nll_xy is for the density per model unit^2. Stable for any y: the sum
    over components is a log-sum-exp, sigmas stay in log form, and log(1 - rho^2) comes from
    the pre-tanh value a as log sech^2(a) = 2 (log 2 - |a| - log1p(exp(-2|a|))), so rho is
    never rounded to +-1.
    """
    y = tf.convert_to_tensor(y)
    targets = tf.cast(targets, y.dtype)
    eos_logit, pi_logits, mu1, mu2, log_sigma1, log_sigma2, rho_pre = _head_blocks(y)
    dx, dy, pen_up = targets[..., 0:1], targets[..., 1:2], targets[..., 2]
    z1 = (dx - mu1) * tf.exp(-log_sigma1)
    z2 = (dy - mu2) * tf.exp(-log_sigma2)
    rho = tf.tanh(rho_pre)
    abs_pre = tf.abs(rho_pre)
    log_one_minus_rho2 = 2.0 * (LOG_2 - abs_pre - tf.math.log1p(tf.exp(-2.0 * abs_pre)))
    log_normal = (-LOG_2PI - log_sigma1 - log_sigma2 - 0.5 * log_one_minus_rho2
                  - 0.5 * (z1 * z1 + z2 * z2 - 2.0 * rho * z1 * z2) * tf.exp(-log_one_minus_rho2))
    nll_xy = -tf.reduce_logsumexp(tf.nn.log_softmax(pi_logits) + log_normal, axis=-1)
    nll_eos = tf.nn.sigmoid_cross_entropy_with_logits(labels=pen_up, logits=eos_logit[..., 0])
    return nll_xy, nll_eos


def line_nll_sums(y, targets) -> tuple[tf.Tensor, tf.Tensor]:
    """Per line (nll_xy, nll_eos), each (B,), summed over its real points: targets (B, T, 4) are
    a line batch's (model.batches), channel 3 the padding mask."""
    nll_xy, nll_eos = nll_terms(y, targets[..., :3])
    mask = tf.cast(targets[..., 3], nll_xy.dtype)
    return tf.reduce_sum(nll_xy * mask, axis=1), tf.reduce_sum(nll_eos * mask, axis=1)


class Trace(NamedTuple):
    """What `Runner.run` returns; arrays are NumPy, per step t after feeding inputs[t]."""

    y: np.ndarray  # (T, 1 + 6M) raw head outputs: the prediction for the point after inputs[t]
    h: np.ndarray  # (T, layers, cells)
    c: np.ndarray  # (T, layers, cells): the cell states the article's cell figures show
    state: list  # [(h, c)] per layer, each (cells,): pass to run or sample to continue


class _EmitStateCell(keras.layers.Layer):
    """Wraps a model's own LSTMCell so an RNN emits [h, c] at every step, not only h."""

    def __init__(self, cell, **kwargs):
        super().__init__(**kwargs)
        self.cell = cell
        self.state_size = cell.state_size
        self.output_size = 2 * cell.units

    def call(self, inputs, states):
        _hidden, new_states = self.cell(inputs, states)
        return tf.concat(new_states, axis=-1), new_states


class Runner:
    """Steps a built model from a given state, sharing its weights (no copy of the LSTM).

    A state is a list with one (h, c) pair per layer, each (batch, cells) or, for one
    sequence, (cells,). `None` is the zero state.
    """

    def __init__(self, model: keras.Model):
        self.model = model
        self.lstms = [layer for layer in model.layers if layer.name.startswith("lstm_")]
        self.head = model.get_layer("mixture")
        self.cells = self.lstms[0].cell.units
        self._trace_model = self._build_trace_model()
        # Both compiled once for any batch size and length: run eagerly, the RNN would step in
        # Python (~20 ms a step), and a graph per shape would retrace for every line.
        pair = [tf.TensorSpec((None, self.cells))] * 2
        self._trace = tf.function(lambda inputs: self._trace_model(inputs, training=False),
                                  input_signature=[[tf.TensorSpec((None, None, 3))] + pair * len(self.lstms)])
        self._sample_loop = tf.function(self._sample_graph, input_signature=[
            [tuple(pair)] * len(self.lstms), tf.TensorSpec([], tf.int32), tf.TensorSpec([]),
            tf.TensorSpec([], tf.int32)])

    def _build_trace_model(self) -> keras.Model:
        points = keras.Input(shape=(None, 3))
        initial = [(keras.Input(shape=(self.cells,)), keras.Input(shape=(self.cells,)))
                   for _ in self.lstms]
        hidden, per_step, final = points, [], []
        for lstm, (h0, c0) in zip(self.lstms, initial):
            rnn = keras.layers.RNN(_EmitStateCell(lstm.cell), return_sequences=True, return_state=True)
            both, h_last, c_last = rnn(hidden, initial_state=[h0, c0])
            hidden = both[..., :self.cells]
            per_step.append(both)
            final += [h_last, c_last]
        flat_initial = [tensor for pair in initial for tensor in pair]
        return keras.Model([points, *flat_initial], [self.head(hidden), *per_step, *final])

    def zero_state(self, batch: int = 1) -> list:
        zeros = np.zeros((batch, self.cells), np.float32)
        return [(zeros, zeros) for _ in self.lstms]

    def _batched_state(self, state, batch: int) -> list:
        if state is None:
            return self.zero_state(batch)
        pairs = []
        for h, c in state:
            h, c = (np.asarray(v, np.float32).reshape(-1, self.cells) for v in (h, c))
            if h.shape[0] != batch:  # one state, many continuations
                h, c = np.repeat(h, batch, axis=0), np.repeat(c, batch, axis=0)
            pairs.append((h, c))
        return pairs

    def run(self, inputs, state=None) -> Trace:
        """Feed inputs (T, 3) (or (batch, T, 3)) in model units from `state`."""
        inputs = np.asarray(inputs, np.float32)
        single = inputs.ndim == 2
        batch_inputs = inputs[None] if single else inputs
        state = self._batched_state(state, batch_inputs.shape[0])
        flat_state = [tensor for pair in state for tensor in pair]
        outputs = [np.asarray(t) for t in self._trace([batch_inputs, *flat_state])]
        layers = len(self.lstms)
        y, per_step, final = outputs[0], outputs[1:1 + layers], outputs[1 + layers:]
        h = np.stack([both[..., :self.cells] for both in per_step], axis=-2)
        c = np.stack([both[..., self.cells:] for both in per_step], axis=-2)
        final_state = [(final[2 * i], final[2 * i + 1]) for i in range(layers)]
        if single:
            return Trace(y[0], h[0], c[0], [(fh[0], fc[0]) for fh, fc in final_state])
        return Trace(y, h, c, final_state)

    def _step(self, points, state):
        hidden, new_state = points, []
        for lstm, pair in zip(self.lstms, state):
            hidden, pair = lstm.cell(hidden, list(pair))
            new_state.append(tuple(pair))
        return self.head(hidden), new_state

    def _sample_graph(self, state, steps, temperature, seed):
        batch = tf.shape(state[0][0])[0]
        y = self.head(state[-1][0])
        drawn = tf.TensorArray(tf.float32, size=steps)
        for t in tf.range(steps):
            seeds = tf.stack([tf.fill([3], seed), 3 * t + tf.range(3)], axis=1)
            points = sample_points(y, temperature, seeds, batch)
            drawn = drawn.write(t, points)
            y, state = self._step(points, state)
        return tf.transpose(drawn.stack(), [1, 0, 2])

    def sample(self, steps: int, batch: int = 1, temperature: float = 0.65, seed: int = 0,
               state=None) -> np.ndarray:
        """(batch, steps, 3) sampled points in model units, continuing `state`.

        From `None` the model is first fed [0, 0, 0] (the zero-start convention); a given
        state is the one after the last point already written, as `run` returns it.
        """
        if state is None:
            state = self.run(np.zeros((batch, 1, 3), np.float32)).state
        state = [tuple(tf.constant(v) for v in pair) for pair in self._batched_state(state, batch)]
        points = self._sample_loop(state, tf.constant(steps, tf.int32),
                                   tf.constant(temperature, tf.float32), tf.constant(seed, tf.int32))
        return points.numpy()


def sample_points(y, temperature, seeds, batch, bias=0.0) -> tf.Tensor:
    """Draw one point per row of y (batch, 1 + 6M) as the article does, or with Graves's bias.

    Temperature tau sharpens the mixture weights, pi' = softmax(log pi / tau), and scales the
    chosen component's sigmas by tau; mu, rho and the end-of-stroke probability are unchanged.
    Bias b (Graves 2013, section 5.4) does the same with pi' = softmax(log pi (1 + b)) and
    sigmas times exp(-b); the article uses tau with b = 0, model.write b with tau = 1. Bias also
    sharpens the pen's choice as it does the component's, e' = sigmoid(logit (1 + b)) (ours:
    Graves biases only the offsets): a stray lift mid-stroke or a missed one splits or joins
    letters, and the offset drawn after a stray lift lands anywhere.
    seeds is (3, 2) int32: one stateless seed for the component, the normals, the pen.
    """
    params = mixture(y)
    # (1 + b) first, so that with b = 0 the numbers are exactly the article's log pi / tau
    component = tf.random.stateless_categorical(params.log_pi * (1.0 + bias) / temperature, 1, seed=seeds[0])[:, 0]

    def chosen(block):
        return tf.gather(block, component, axis=-1, batch_dims=1)

    spread = temperature * tf.exp(-bias)
    sigma1 = tf.exp(chosen(params.log_sigma1)) * spread
    sigma2 = tf.exp(chosen(params.log_sigma2)) * spread
    rho = chosen(params.rho)
    z = tf.random.stateless_normal([batch, 2], seed=seeds[1])
    dx = chosen(params.mu1) + sigma1 * (tf.sqrt(1.0 - rho * rho) * z[:, 0] + rho * z[:, 1])
    dy = chosen(params.mu2) + sigma2 * z[:, 1]
    uniform = tf.random.stateless_uniform([batch], seed=seeds[2])
    pen_up = tf.cast(uniform < tf.sigmoid(params.eos_logit[:, 0] * (1.0 + bias)), tf.float32)
    return tf.stack([dx, dy, pen_up], axis=1)
