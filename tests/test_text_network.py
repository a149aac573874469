"""The synthesis network's soft window (Graves 2013, section 5.1) against a float64 NumPy
transcription of its equations, gradients through the window, padding, and the hand input."""
import numpy as np
import pytest

from model.network import ModelConfig, keras, tf
from model.text_network import NO_HAND, TEXT_PADDING, build_synthesis_model, one_hot_text, window_cell

ALPHABET = 6


def tiny(layers=1, perturb=True, hands=()) -> tuple:
    config = ModelConfig(layers=layers, cells=5, mixtures=2, window_mixtures=3, alphabet_size=ALPHABET,
                         hands=list(hands))
    keras.utils.set_random_seed(1)
    model = build_synthesis_model(config)
    if perturb:  # larger weights than the initialiser's, so every term of the equations matters
        rng = np.random.default_rng(0)
        model.set_weights([rng.normal(0, 0.5, w.shape).astype(np.float32) for w in model.get_weights()])
    return model, config


def numpy_lstm(x, h, c, kernel, recurrent, bias):
    """Keras's LSTMCell (gates i, f, c, o; sigmoid and tanh) in float64."""
    z = x @ kernel + h @ recurrent + bias
    i, f, g, o = np.split(z, 4, axis=-1)
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c), c


def numpy_window(model, config, points, codes, hand=NO_HAND):
    """phi (T, U + 1), kappa (T, K), w (T, A) and the head's input, per section 5.1, in float64;
    layer 1 also reads the hand's one-hot (zeros for NO_HAND) when the model has hands."""
    cell = window_cell(model)
    weights = [[np.float64(v) for v in lstm.get_weights()] for lstm in cell.lstms]
    window_kernel, window_bias = (np.float64(v) for v in cell.window.get_weights())
    text = np.eye(config.alphabet_size)[codes]  # (U, A) one-hot c_u
    positions = np.arange(1, len(codes) + 2)  # u = 1..U+1
    K = config.window_mixtures
    h = [np.zeros(config.cells) for _ in range(config.layers)]
    c = [np.zeros(config.cells) for _ in range(config.layers)]
    kappa, w = np.zeros(K), np.zeros(config.alphabet_size)
    hand_input = np.eye(len(config.hands))[hand] if hand != NO_HAND else np.zeros(len(config.hands))
    phis, kappas, ws, heads = [], [], [], []
    for x in np.float64(points):
        h[0], c[0] = numpy_lstm(np.concatenate([x, w, hand_input]), h[0], c[0], *weights[0])
        raw = h[0] @ window_kernel + window_bias
        alpha, beta, kappa = np.exp(raw[:K]), np.exp(raw[K:2 * K]), kappa + np.exp(raw[2 * K:])
        phi = (alpha[:, None] * np.exp(-beta[:, None] * (kappa[:, None] - positions[None]) ** 2)).sum(0)
        w = phi[:-1] @ text
        for layer in range(1, config.layers):
            h[layer], c[layer] = numpy_lstm(np.concatenate([x, h[layer - 1], w]), h[layer], c[layer], *weights[layer])
        phis.append(phi), kappas.append(kappa), ws.append(w), heads.append(np.concatenate([h[-1], w]))
    return np.array(phis), np.array(kappas), np.array(ws), np.array(heads)


def keras_window(model, points, codes, hand=NO_HAND):
    """The same quantities from WindowCell.step, stepped one point at a time."""
    cell = window_cell(model)
    text = one_hot_text(codes[None], cell.alphabet_size)
    hand_input = one_hot_text([hand], len(cell.hands)) if cell.hands else None
    states = [tf.zeros((1, size)) for size in cell.state_size]
    phis, kappas, ws, heads = [], [], [], []
    for x in points:
        output, states, phi = cell.step(tf.constant(x[None], tf.float32), states, text, hand_input)
        phis.append(phi[0]), kappas.append(states[-2][0]), ws.append(states[-1][0]), heads.append(output[0])
    return [np.array(values) for values in (phis, kappas, ws, heads)]


@pytest.mark.parametrize("layers,hands,hand", [(1, (), NO_HAND), (2, (), NO_HAND), (1, ("a", "b", "c"), 2),
                                               (2, ("a", "b"), NO_HAND)])
def test_window_matches_a_numpy_transcription_of_section_5(layers, hands, hand):
    model, config = tiny(layers, hands=hands)
    rng = np.random.default_rng(layers)
    points = rng.normal(0, 1, (9, 3)).astype(np.float32)
    codes = np.array([1, 4, 0, 2, 5], np.int32)
    expected = numpy_window(model, config, points, codes, hand)
    for got, want, name in zip(keras_window(model, points, codes, hand), expected,
                               ("phi", "kappa", "w", "head input")):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6, err_msg=name)
    kappa = expected[1]
    assert np.all(np.diff(kappa, axis=0) > 0), "kappa only moves forward"
    # The whole-sequence model (RNN + head) gives the head applied to those inputs.
    y = model([points[None], codes[None], *([np.array([hand], np.int32)] if hands else [])]).numpy()[0]
    kernel, bias = model.get_layer("mixture").get_weights()
    np.testing.assert_allclose(y, expected[3] @ kernel + bias, rtol=1e-4, atol=1e-5)


def test_kappa_starts_at_the_corpus_pace():
    model, config = tiny(perturb=False)
    cell = window_cell(model)
    kernel, bias = cell.window.get_weights()
    cell.window.set_weights([np.zeros_like(kernel), bias])
    _, kappa, _, _ = numpy_window(model, config, np.zeros((3, 3), np.float32), np.array([1, 2], np.int32))
    np.testing.assert_allclose(kappa[:, 0], np.arange(1, 4) / cell.points_per_character, rtol=1e-5)


def test_gradients_flow_through_the_window_and_the_text():
    model, _ = tiny(2)
    points = tf.constant(np.random.default_rng(0).normal(0, 1, (2, 7, 3)), tf.float32)
    codes = tf.constant([[1, 2, 3], [4, 5, TEXT_PADDING]], tf.int32)
    with tf.GradientTape() as tape:
        text = one_hot_text(codes, ALPHABET)
        tape.watch(text)
        cell = window_cell(model)
        y = model.get_layer("mixture")(model.get_layer("synthesis")(points, constants=[text]))
        loss = tf.reduce_sum(y * y)
    window_grads, text_grad = tape.gradient(loss, [cell.window.trainable_weights, text])
    for grad in window_grads:
        assert float(tf.reduce_max(tf.abs(grad))) > 0
    assert float(tf.reduce_max(tf.abs(text_grad[:, :2]))) > 0


def test_text_padding_changes_nothing():
    model, _ = tiny()
    points = np.random.default_rng(3).normal(0, 1, (1, 6, 3)).astype(np.float32)
    alone = model([points, np.array([[3, 1]], np.int32)]).numpy()
    padded = model([points, np.array([[3, 1, TEXT_PADDING, TEXT_PADDING]], np.int32)]).numpy()
    np.testing.assert_allclose(alone, padded, rtol=1e-6, atol=1e-6)
    other = model([points, np.array([[3, 2]], np.int32)]).numpy()
    assert np.abs(other - alone).max() > 1e-6, "the text changes the prediction"


def test_the_hand_changes_the_writing_and_no_hand_is_the_zero_vector():
    model, _ = tiny(hands=("upright", "slanted"))
    points = np.random.default_rng(4).normal(0, 1, (1, 6, 3)).astype(np.float32)
    codes = np.array([[3, 1]], np.int32)
    by_hand = {hand: model([points, codes, np.array([hand], np.int32)]).numpy() for hand in (0, 1, NO_HAND)}
    assert np.abs(by_hand[0] - by_hand[1]).max() > 1e-4, "each hand writes otherwise"
    kernel = window_cell(model).lstms[0].kernel
    kernel.assign(tf.concat([kernel[:-2], tf.zeros_like(kernel[-2:])], axis=0))  # the hand's rows only
    unread = {hand: model([points, codes, np.array([hand], np.int32)]).numpy() for hand in (0, 1, NO_HAND)}
    np.testing.assert_allclose(unread[0], unread[NO_HAND], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(unread[1], unread[NO_HAND], rtol=1e-6, atol=1e-6)
