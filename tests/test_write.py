"""Writing a text (model.write, Graves 2013 sections 5.3-5.5): the stop rule, priming, biased
sampling, wrapping, the files it writes and its one-line errors."""
import errno
import math
import os

import numpy as np
import pytest

from model.alphabet import Alphabet
from model.base import DataError, Line
from model.corpus import synthesize
from model.data import load, write_json_lines
from model.evaluate import HAND_TRAINING_SEED
from model.hands import hand_of
from model.network import ModelConfig, sample_points, tf
from model.text_network import build_synthesis_model, window_cell
from model.weights import save_artefact
from model.write import GIVE_UP_POINTS_PER_CHARACTER, MAX_TEXT, WriteConfig, Writer, load_writer, main, wrap


def stepping_writer(characters_per_step: float = 1.0, hands: tuple[str, ...] = ()) -> Writer:
    """A tiny writer whose window moves exactly `characters_per_step` a step: kernel zero, so
    alpha = beta = 1 and kappa_t = t * characters_per_step, whatever the pen does."""
    alphabet = Alphabet.default()
    model = build_synthesis_model(ModelConfig(1, 8, 2, window_mixtures=2, alphabet_size=alphabet.size,
                                              hands=list(hands)))
    window = window_cell(model).window
    kernel, bias = window.get_weights()
    bias[:] = 0.0
    bias[4:] = math.log(characters_per_step)
    window.set_weights([np.zeros_like(kernel), bias])
    return Writer(model, alphabet)


@pytest.fixture(scope="module")
def writer():
    return stepping_writer()


def test_the_stop_rule_fires_once_the_window_passes_the_last_character(writer):
    # kappa = t + 1 after step t; phi(U + 1) beats phi(U) once kappa > U + 1/2: after U steps.
    short, long = writer.write(["ab", "abcde"], WriteConfig(seed=3))
    assert (short.stopped, short.points, long.stopped, long.points) == (True, 2, True, 5)
    assert short.line.points.shape == (2, 3) and short.line.text == "ab"


@pytest.fixture
def follows_likely(monkeypatch):
    """Sets how likely a prime's points must be for the writer to follow it (model.write.FOLLOWED_NLL)."""
    return lambda nll: monkeypatch.setattr("model.write.FOLLOWED_NLL", nll)


@pytest.mark.parametrize("prime_text, points", [
    # Read to its end: kappa 3 after the 3-point prime is the place past "ab", so the window
    # stays a character on, at "c" now, and "cd" takes one step.
    ("ab", 1),
    # Not read to the end (kappa 3 in a 38-character text, or 2 past the end of a space): the
    # window starts afresh, and "cd" takes 2 steps, as it does unprimed.
    ("a much longer text than its one stroke", 2), ("", 2)])
def test_after_a_prime_the_window_reads_the_new_text_alone(writer, follows_likely, prime_text, points):
    follows_likely(math.inf)  # a tiny writer's points are never likely: this is the window's part
    primer = Line(np.array([[40, 0, 0], [40, 0, 0], [40, 0, 1]], np.float32), text=prime_text)
    written, = writer.write(["cd"], WriteConfig(seed=3), prime=primer)
    assert (written.stopped, written.points, written.line.text) == (True, points, "cd")


@pytest.mark.parametrize("prime_text, followed_nll", [
    ("a much longer text than its strokes", math.inf), ("", math.inf),  # not read to the end
    ("ab", -math.inf)])  # read to the end, but its points not likely enough
def test_a_prime_the_writer_could_not_follow_carries_only_the_hand(writer, follows_likely, prime_text, followed_nll):
    """A prime not followed leaves the zero state: the writer writes what it writes unprimed."""
    follows_likely(followed_nll)
    primer = Line(np.array([[40, 0, 0], [-20, 30, 0], [40, 0, 1]], np.float32), text=prime_text)
    plain, = writer.write(["cd"], WriteConfig(seed=3))
    primed, = writer.write(["cd"], WriteConfig(seed=3), prime=primer)
    np.testing.assert_array_equal(primed.line.points, plain.line.points)


def test_each_row_reads_its_own_prime_as_if_alone(writer):
    """Primes of different lengths side by side leave each row the state it would have alone."""
    short = Line(np.array([[40, 0, 1]], np.float32), text="a")
    long = Line(np.array([[40, 0, 0], [-20, 30, 0], [40, 0, 1]], np.float32), text="ab")
    bias = tf.constant(1.0)

    def read(primes):
        zero = [tf.zeros((len(primes), size)) for size in writer.cell.state_size]
        return writer._read_primes(primes, zero, None, bias, seed=0)

    states, fed = read([short, long])
    for row, prime in enumerate((short, long)):
        alone_states, alone_fed = read([prime])
        np.testing.assert_array_equal(fed[row], alone_fed[0])
        for together, single in zip(states, alone_states):
            np.testing.assert_allclose(together[row], single[0], atol=1e-6)


def test_a_prime_changes_the_writing(writer, follows_likely):
    """The prime is read: the LSTM's state after it (the hand) shapes the points written."""
    follows_likely(math.inf)
    primer = Line(np.array([[40, 0, 0], [-20, 30, 0], [40, 0, 1]], np.float32), text="ab")
    plain, = writer.write(["cd"], WriteConfig(seed=3))
    primed, = writer.write(["cd"], WriteConfig(seed=3), prime=primer)
    assert not np.allclose(plain.line.points, primed.line.points)


def test_a_writer_with_hands_writes_in_the_one_it_is_told():
    """By default its first hand; with a prime and no hand, the one it reads there (read_hand);
    a hand it did not learn, or one given to a writer without hands, is refused."""
    two_hands = stepping_writer(hands=("upright", "slanted"))
    written = {hand: two_hands.write(["abcd"], WriteConfig(seed=3, hand=hand))[0].line.points
               for hand in (None, "upright", "slanted")}
    np.testing.assert_array_equal(written[None], written["upright"])
    assert not np.allclose(written["upright"], written["slanted"])
    np.testing.assert_array_equal(two_hands.hand_one_hot(None, None, batch=2), [[1, 0], [1, 0]])
    prime = Line(np.array([[40, 0, 0], [-20, 30, 1]], np.float32), text="ab")
    read = two_hands.hands.index(two_hands.read_hand(prime))
    np.testing.assert_array_equal(two_hands.hand_one_hot(None, [prime, prime], batch=2), np.eye(2)[[read, read]])
    np.testing.assert_array_equal(two_hands.hand_one_hot("slanted", [prime], batch=1), [[0, 1]])
    with pytest.raises(DataError, match=r"--hand cursive: not one of the writer's hands: upright, slanted$"):
        two_hands.write(["ab"], WriteConfig(hand="cursive"))
    fonts = stepping_writer(hands=("scripts", "timesi"))  # the corpus's hands, as the page names them too
    np.testing.assert_array_equal(fonts.hand_one_hot("italic", None, batch=1), [[0, 1]])
    with pytest.raises(DataError, match=r"hands: upright script \(scripts\), italic \(timesi\)$"):
        fonts.write(["ab"], WriteConfig(hand="cursive"))
    with pytest.raises(DataError, match="this writer learned no hands"):
        stepping_writer().write(["ab"], WriteConfig(hand="upright"))


def test_the_published_writer_reads_the_hand_of_a_line_of_each_hand(tmp_path, capsys):
    """Corpus lines of the hand classifier's seed, which no writer trained on: the hand each is
    likeliest in is its own, by 39 to 67 nats per line (measured), far beyond any processor's
    rounding. model.write says which hand it read."""
    writer = load_writer("writer")
    first_of_each = {}
    for line in synthesize(40, HAND_TRAINING_SEED):
        first_of_each.setdefault(hand_of(line), line)
    assert sorted(first_of_each) == sorted(writer.hands)
    read = {hand: writer.read_hand(line) for hand, line in first_of_each.items()}
    assert read == {hand: hand for hand in writer.hands}
    write_json_lines([first_of_each["timesi"]], tmp_path / "prime")
    assert main(["--text", "hi", "--prime", str(tmp_path / "prime" / "0.json"), "--out", str(tmp_path / "x.svg")]) == 0
    assert capsys.readouterr().out.endswith(" points, in the hand read in the prime: italic)\n")


def test_a_window_that_never_arrives_is_cut_off():
    stuck = stepping_writer(characters_per_step=1e-3)
    written, = stuck.write(["abc"])
    assert not written.stopped and written.points == int(3 * GIVE_UP_POINTS_PER_CHARACTER)


def test_seeded_and_biased(writer):
    one, two = (writer.write(["abcdef"], WriteConfig(bias=0.5, seed=7))[0].line.points for _ in range(2))
    np.testing.assert_array_equal(one, two)
    assert not np.array_equal(one, writer.write(["abcdef"], WriteConfig(bias=0.5, seed=8))[0].line.points)


def test_bias_as_in_graves_section_5_4():
    """pi <- softmax(pi_hat (1 + b)), sigma <- exp(sigma_hat - b), on a fixed two-component head,
    and the pen's lift as the component: sigmoid(logit (1 + b))."""
    y = np.zeros(1 + 6 * 2, np.float32)
    y[0] = math.log(0.2 / 0.8)  # P(pen up) = 0.2 as trained
    y[1:3] = np.log([0.7, 0.3])
    y[3:5] = [-10.0, 10.0]  # mu1 tells the components apart
    y[7:9] = np.log([0.5, 2.0])  # sigma1
    batch, bias = 20000, 1.5
    seeds = tf.constant([[0, 0], [0, 1], [0, 2]], tf.int32)
    drawn = sample_points(np.tile(y, (batch, 1)), 1.0, seeds, batch, bias=bias).numpy()
    first = drawn[:, 0] < 0
    assert first.mean() == pytest.approx(0.7 ** 2.5 / (0.7 ** 2.5 + 0.3 ** 2.5), abs=0.015)
    assert drawn[first, 0].std() == pytest.approx(0.5 * math.exp(-bias), rel=0.05)
    assert drawn[~first, 0].std() == pytest.approx(2.0 * math.exp(-bias), rel=0.05)
    assert drawn[:, 2].mean() == pytest.approx(0.2 ** 2.5 / (0.2 ** 2.5 + 0.8 ** 2.5), abs=0.01)  # 0.030


@pytest.mark.parametrize("text, width, rows", [
    ("one two three four five", 9, ["one two", "three", "four five"]),
    ("It's 3:00 am; go home, KAYAK!", 40, ["It's 3:00 am; go home, KAYAK!"]),
    ("internationalization now", 12, ["internation-", "alization", "now"]),
    ("a well-known   fifty-five", 8, ["a well-", "known", "fifty-", "five"]),
    ("x-ray", 12, ["x-ray"]),
])
def test_rows_break_between_words_and_only_a_long_word_is_hyphenated(text, width, rows):
    assert wrap(text, width) == rows


def test_a_writer_wraps_at_the_longest_lines_it_learned(writer):
    long = "words " * 30
    assert [len(row) for row in wrap(long, writer.row_characters)] == [len(row) for row in wrap(long, 12)]
    wide = Writer(writer.model, writer.alphabet, row_characters=40)
    assert len(wide.write_text("one two three four five six").text.split()) == 6


def test_a_long_text_is_wrapped_into_rows_one_under_another(writer):
    line = writer.write_text("one two three four five", WriteConfig(width=9))
    rows = ["one two", "three", "four five"]
    assert line.text == " ".join(rows)
    assert len(line.points) == sum(len(row) for row in rows)  # this writer draws a point per character
    tops = line.absolute()[np.cumsum([0, len(rows[0]), len(rows[1])]), 1]
    assert tops[0] < tops[1] < tops[2]
    pasted = writer.write_text("one two\nthree\tfour five", WriteConfig(width=9))  # from a text editor
    assert pasted.text == line.text and len(pasted.points) == len(line.points)


@pytest.mark.parametrize("text, message", [
    ("   ", "empty"),
    ("naïve", "'ï' not in the model's alphabet"),
    ("a" * (MAX_TEXT + 1), f"at most {MAX_TEXT}"),
])
def test_bad_texts_are_refused(writer, text, message):
    with pytest.raises(DataError, match=message):
        writer.write_text(text)


@pytest.fixture(scope="module")
def artefact(tmp_path_factory, writer):
    folder = tmp_path_factory.mktemp("writer")
    save_artefact(writer.model, ModelConfig(1, 8, 2, 2, writer.alphabet.size), folder)
    writer.alphabet.save(folder)
    return folder


def test_cli_writes_json_that_loads_back_and_svg(artefact, tmp_path, capsys):
    assert main(["--weights", str(artefact), "--text", "hello", "--out", str(tmp_path / "x.json")]) == 0
    line, = load(tmp_path / "x.json")
    assert line.text == "hello" and len(line.points) == 5
    primer = tmp_path / "primer"
    write_json_lines([Line(np.array([[40, 0, 0], [40, 0, 1]], np.float32), text="hi")], primer)
    assert main(["--weights", str(artefact), "--text", "you", "--out", str(tmp_path / "x.svg"),
                 "--prime", str(primer / "0.json")]) == 0
    svg = (tmp_path / "x.svg").read_text()
    assert svg.startswith("<svg") and "<title>you</title>" in svg and "<polyline" in svg


@pytest.mark.parametrize("name", ["x.svg", "my writing.json"])
def test_a_full_disk_keeps_the_old_file_and_names_it(artefact, tmp_path, capsys, monkeypatch, name):
    out = tmp_path / name
    out.write_text("a good file from before")

    def full(descriptor):  # where a real full disk shows a delayed write's ENOSPC (no root needed)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("model.base.os.fsync", full)
    assert main(["--weights", str(artefact), "--text", "hello", "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and str(out) in error and "No space left" in error, error
    assert out.read_text() == "a good file from before"
    assert [path.name for path in tmp_path.iterdir()] == [name]  # nothing empty or partial left


@pytest.mark.parametrize("arguments, message", [
    (["--text", "hi", "--out", "x.png"], "an .svg or a .json"),
    (["--text", "", "--out", "x.svg"], "empty"),
    (["--text", "hi", "--out", "x.svg", "--prime", "no/such.json"], "no/such.json"),
    (["--text", "hi", "--out", "x.svg", "--prime", "."], "--prime .: a folder; give one line's file"),
    (["--text", "hi", "--out", "x.svg", "--weights", "default"], "unconditional"),
])
def test_cli_errors_are_one_line(artefact, tmp_path, capsys, arguments, message):
    weights = [] if "--weights" in arguments else ["--weights", str(artefact)]
    out = arguments.index("--out") + 1
    arguments = [*arguments[:out], str(tmp_path / arguments[out]), *arguments[out + 1:]]
    assert main([*weights, *arguments]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines


def test_a_primer_without_text_primes(artefact, tmp_path):
    write_json_lines([Line(np.array([[40, 0, 0], [40, 0, 1]], np.float32))], tmp_path / "lines")
    assert main(["--weights", str(artefact), "--text", "hi", "--out", str(tmp_path / "x.json"),
                 "--prime", str(tmp_path / "lines" / "0.json")]) == 0
    assert load(tmp_path / "x.json")[0].text == "hi"
