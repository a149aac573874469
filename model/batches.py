"""Batches of lines for the handwriting models: how a line becomes what a network reads.

Every line is teacher-forced the way evaluation scores it (`zero_start_batch`): the network
reads [0, 0, 0] and then each point but the last, and predicts each point; a mask marks the
real points. Training (model.train) cuts long lines into windows of `seq_len` steps
(`windows`, `dataset`), or keeps them whole and batches lines of similar length, one batch
made at a time (`line_batch`, `line_dataset`); a text-conditional network also reads each
line's text as codes (`text_codes`) and, given hands, its hand's code (`hand_codes`; a share of
the lines in training goes without, so that the network also learns to infer a hand), and
training may move the offsets it reads by a little noise (`input_noise`), so that it leans less
on its own last points, which drift when it writes alone.
Evaluation (model.evaluate) and the export's first input (model.export) use the same zero
start, so training, scoring and the page agree.
"""
from __future__ import annotations

import numpy as np

from model.alphabet import Alphabet
from model.base import Line
from model.hands import hand_label
from model.network import tf
from model.text_network import NO_HAND, padded_codes

HAND_DROPOUT = 0.2  # the share of training lines given NO_HAND


def zero_start_batch(lines: list[Line]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(inputs, targets, mask), each (batch, longest, ...): inputs are [0, 0, 0] then every
    point but the last, targets every point, mask 1 where a line has a point."""
    longest = max(len(line.points) for line in lines)
    targets = np.zeros((len(lines), longest, 3), np.float32)
    mask = np.zeros((len(lines), longest), np.float32)
    for row, line in enumerate(lines):
        targets[row, :len(line.points)] = line.model_inputs()
        mask[row, :len(line.points)] = 1.0
    inputs = np.concatenate([np.zeros_like(targets[:, :1]), targets[:, :-1]], axis=1)
    return inputs, targets, mask


def text_codes(lines: list[Line], alphabet: Alphabet) -> np.ndarray:
    """(B, U) int32 codes of the lines' texts, padded with TEXT_PADDING to the longest."""
    return padded_codes([alphabet.encode(line.text) for line in lines])


def hand_codes(lines: list[Line], hands: list[str], dropout: float = 0.0, rng=None) -> np.ndarray:
    """(B,) int32: each line's index in `hands`, or NO_HAND for a line of another or no hand
    and, with `dropout` and a NumPy Generator `rng`, for that share of the lines at random."""
    labels = [hand_label(line) for line in lines]
    codes = np.array([hands.index(hand) if hand in hands else NO_HAND for hand in labels], np.int32)
    if dropout:
        codes[rng.random(len(lines)) < dropout] = NO_HAND
    return codes


def windows(lines: list[Line], seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """(inputs (N, seq_len, 3), targets (N, seq_len, 4)): the zero-start sequences of the lines
    cut into windows; target channel 3 is the mask, 1 on real points and 0 on padding."""
    inputs, targets = [], []
    for line in lines:
        fed, expected, mask = zero_start_batch([line])
        padding = -len(line.points) % seq_len
        pad = ((0, 0), (0, padding), (0, 0))
        inputs.append(np.pad(fed, pad).reshape(-1, seq_len, 3))
        masked = np.concatenate([expected, mask[..., None]], axis=-1)
        targets.append(np.pad(masked, pad).reshape(-1, seq_len, 4))
    return np.concatenate(inputs), np.concatenate(targets)


def dataset(inputs: np.ndarray, targets: np.ndarray, batch_size: int, shuffle_seed: int | None = None):
    """A tf.data pipeline of (inputs, targets) batches, reshuffled every epoch when seeded."""
    data = tf.data.Dataset.from_tensor_slices((inputs, targets))
    if shuffle_seed is not None:
        data = data.shuffle(len(inputs), seed=shuffle_seed, reshuffle_each_iteration=True)
    return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def line_batch(lines: list[Line], alphabet: Alphabet | None, hands: list[str] | None = None, rng=None,
               input_noise: float = 0.0):
    """(inputs (B, T, 3), targets (B, T, 4)) of whole lines: zero-start inputs, padding masked
    by target channel 3; with an alphabet the inputs are (inputs, text codes (B, U)), texts
    padded with TEXT_PADDING, and with hands also hand codes (B,), HAND_DROPOUT of them
    NO_HAND when an `rng` is given. With an `rng` and `input_noise`, normal noise of that
    standard deviation (model units) moves the offsets the network reads, never the targets."""
    fed, expected, mask = zero_start_batch(lines)
    if rng is not None and input_noise:
        fed[..., :2] += rng.normal(0.0, input_noise, fed[..., :2].shape).astype(np.float32)
    inputs: tuple | np.ndarray = (fed, text_codes(lines, alphabet)) if alphabet else fed
    if hands:
        inputs += (hand_codes(lines, hands, HAND_DROPOUT if rng else 0.0, rng),)
    return inputs, np.concatenate([expected, mask[..., None]], axis=-1)


def line_dataset(lines: list[Line], alphabet: Alphabet | None, batch_size: int, shuffle_seed: int | None = None,
                 hands: list[str] | None = None, input_noise: float = 0.0):
    """A tf.data pipeline of line_batch batches of lines of similar length, made one at a time;
    the order of the batches reshuffled every epoch (and hands dropped and noise drawn afresh)
    when seeded."""
    ordered = sorted(lines, key=lambda line: len(line.points))
    groups = [ordered[start:start + batch_size] for start in range(0, len(ordered), batch_size)]
    epoch = [0]

    def generate():
        order, rng = np.arange(len(groups)), None
        if shuffle_seed is not None:
            rng = np.random.default_rng([shuffle_seed, epoch[0]])
            rng.shuffle(order)
            epoch[0] += 1
        for index in order:
            yield line_batch(groups[index], alphabet, hands, rng, input_noise)

    points = tf.TensorSpec((None, None, 3), tf.float32)
    inputs = (points, tf.TensorSpec((None, None), tf.int32)) if alphabet else points
    if hands:
        inputs += (tf.TensorSpec((None,), tf.int32),)
    signature = (inputs, tf.TensorSpec((None, None, 4), tf.float32))
    return tf.data.Dataset.from_generator(generate, output_signature=signature).prefetch(2)
