"""The synthesis network: handwriting conditioned on a text (Graves 2013, section 5).

The unconditional network of model.network predicts each pen point from the points before
it. Here the first LSTM layer also reads a *soft window* over the one-hot characters
c_1..c_U of the text, so the network learns where in the text it is writing. After layer 1
has read x_t and the previous window w_{t-1}, its output h1 sets K Gaussians over the
character positions u = 1..U (section 5.1, equations 46-51):

    (a, b, k) = W h1 + bias,   alpha = exp(a),   beta = exp(b),   kappa_t = kappa_{t-1} + exp(k)
    phi(t, u) = sum_k alpha_k exp(-beta_k (kappa_k - u)^2)
    w_t = sum_u phi(t, u) c_u

kappa only moves forward, so the window slides along the text as the pen moves. w_t feeds
every later layer and the head (with one layer the head reads [h1, w_t]); w_t also feeds
layer 1 at the next step. Later layers read [x_t, h_{l-1}, w_t], as Graves's skip
connections do. The head and the loss are the unconditional model's: `network.nll_terms`.

A network given hands (ModelConfig.hands) also reads which hand to write in: layer 1 reads
[x_t, w_{t-1}, hand one-hot] at every step, so it need not guess the hand afresh from the
strokes so far (one 256-cell layer left to guess mixed the hands letter by letter; how far
being told helps is measured in the writer's card). Hand code -1 is the zero vector, "no hand
given": trained on a share of lines without their label, the network then infers the hand
from the strokes, as Graves's does.

`WindowCell` is a Keras RNN cell whose state is (h, c) per layer, kappa (K) and w (alphabet
size), with the one-hot text (and hand) as the RNN's constants. Texts in a batch are padded
with code -1, whose one-hot vector is zero, so padding adds nothing to w. `build_synthesis_model`
wraps it as a model of (points (B, T, 3), text codes (B, U) int32[, hand codes (B,) int32])
-> y (B, T, 1 + 6M); `WindowCell.step` is the same update, also returning phi for inspection
and the stop rule.
"""
from __future__ import annotations

import math

import numpy as np

from model.network import ModelConfig, keras, tf

TEXT_PADDING = -1  # a padded character position: one-hot of -1 is all zeros
NO_HAND = -1  # the hand code of a line whose hand is not given: the zero vector
# The synthetic corpus writes about 27 points per character (clean()ed, model/corpus.py):
# kappa's bias starts the window moving at that pace, so it begins roughly in step.
POINTS_PER_CHARACTER = 27.0


class WindowCell(keras.layers.Layer):
    """LSTM layers with Graves's soft attention window over a one-hot text (section 5.1).

    State: [h_0, c_0, ..., h_{L-1}, c_{L-1}, kappa (K), w (alphabet)]. Output per step:
    [h_{L-1}, w_t], what the mixture head reads. Constants: the one-hot text (B, U, alphabet)
    and, with hands (their names, in the order of their codes), the one-hot hand (B, len(hands)).
    """

    def __init__(self, cells: int, layers: int, window_mixtures: int, alphabet_size: int,
                 points_per_character: float = POINTS_PER_CHARACTER, hands: list[str] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.cells, self.layers = cells, layers
        self.window_mixtures, self.alphabet_size, self.hands = window_mixtures, alphabet_size, list(hands or [])
        self.points_per_character = points_per_character
        self.lstms = [keras.layers.LSTMCell(cells, name=f"lstm_{index}") for index in range(layers)]
        kappa_bias = math.log(1.0 / points_per_character)
        initial_bias = keras.initializers.Constant([0.0] * (2 * window_mixtures) + [kappa_bias] * window_mixtures)
        self.window = keras.layers.Dense(3 * window_mixtures, name="window", bias_initializer=initial_bias)
        self.state_size = [cells, cells] * layers + [window_mixtures, alphabet_size]
        self.output_size = cells + alphabet_size

    def build(self, input_shape):
        points = 3
        first = points + self.alphabet_size + len(self.hands)
        widths = [first] + [points + self.cells + self.alphabet_size] * (self.layers - 1)
        # Each sublayer in its own name scope, so weight names (and HDF5 datasets) stay unique.
        for lstm, width in zip(self.lstms, widths):
            with tf.name_scope(lstm.name):
                lstm.build((None, width))
        with tf.name_scope(self.window.name):
            self.window.build((None, self.cells))
        self.built = True

    def window_parameters(self, h1, kappa_before):
        """alpha, beta, kappa (B, K) from layer 1's output and the previous kappa."""
        a, b, k = tf.split(self.window(h1), 3, axis=-1)
        return tf.exp(a), tf.exp(b), kappa_before + tf.exp(k)

    @staticmethod
    def phi(alpha, beta, kappa, positions):
        """phi(t, u) (B, U) for character positions (U,) float: sum over the K Gaussians."""
        distance = kappa[:, :, None] - positions[None, None, :]
        return tf.reduce_sum(alpha[:, :, None] * tf.exp(-beta[:, :, None] * distance * distance), axis=1)

    def step(self, points, states, text, hand=None):
        """One time step: (output [h_L, w], new states, phi (B, U + 1)); hand (B, hands) one-hot
        with hands, else None.

        phi has one more column than the text, at u = U + 1: the stop rule's "past the end".
        """
        states = list(states)
        kappa_before, w_before = states[-2], states[-1]
        positions = tf.range(1, tf.shape(text)[1] + 2, dtype=points.dtype)
        hidden, new_states, w, phi = None, [], None, None
        for index, lstm in enumerate(self.lstms):
            if index == 0:
                inputs = tf.concat([points, w_before] + ([hand] if self.hands else []), axis=-1)
            else:
                inputs = tf.concat([points, hidden, w], axis=-1)
            hidden, pair = lstm(inputs, states[2 * index:2 * index + 2])
            new_states += pair
            if index == 0:
                alpha, beta, kappa = self.window_parameters(hidden, kappa_before)
                phi = self.phi(alpha, beta, kappa, positions)
                w = tf.einsum("bu,bua->ba", phi[:, :-1], text)
        return tf.concat([hidden, w], axis=-1), [*new_states, kappa, w], phi

    def call(self, inputs, states, constants):
        output, new_states, _ = self.step(inputs, states, *constants)
        return output, new_states

    def get_config(self):
        return {**super().get_config(), "cells": self.cells, "layers": self.layers,
                "window_mixtures": self.window_mixtures, "alphabet_size": self.alphabet_size,
                "points_per_character": self.points_per_character, "hands": self.hands}


def padded_codes(texts: list[np.ndarray]) -> np.ndarray:
    """(B, U) int32: texts already encoded (model.alphabet), padded with TEXT_PADDING to the longest."""
    codes = np.full((len(texts), max(len(text) for text in texts)), TEXT_PADDING, np.int32)
    for row, text in enumerate(texts):
        codes[row, :len(text)] = text
    return codes


def one_hot_text(codes, alphabet_size: int):
    """(B, U) int codes (TEXT_PADDING for padding) -> (B, U, alphabet_size) float32."""
    return tf.one_hot(tf.cast(codes, tf.int32), alphabet_size, dtype=tf.float32)


def build_synthesis_model(config: ModelConfig) -> keras.Model:
    """(points (B, T, 3) model units, text (B, U) int32 codes[, hand (B,) int32 codes with hands])
    -> (B, T, 1 + 6M) raw head outputs y."""
    points = keras.Input(shape=(None, 3), name="points")
    text = keras.Input(shape=(None,), dtype="int32", name="text")
    hands = len(config.hands)
    cell = WindowCell(config.cells, config.layers, config.window_mixtures, config.alphabet_size,
                      hands=config.hands, name="window_cell")
    one_hot = keras.layers.Lambda(lambda codes: one_hot_text(codes, config.alphabet_size), name="one_hot")(text)
    inputs, constants = [points, text], [one_hot]
    if hands:
        hand = keras.Input(shape=(), dtype="int32", name="hand")
        inputs.append(hand)
        constants.append(keras.layers.Lambda(lambda codes: one_hot_text(codes, hands), name="hand_one_hot")(hand))
    hidden = keras.layers.RNN(cell, return_sequences=True, name="synthesis")(points, constants=constants)
    y = keras.layers.Dense(config.outputs, name="mixture", dtype="float32")(hidden)  # float32 under mixed precision
    return keras.Model(inputs, y, name="synthesis")


def window_cell(model: keras.Model) -> WindowCell:
    return model.get_layer("synthesis").cell
