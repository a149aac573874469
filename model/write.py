"""Writing a typed text in handwriting with the synthesis network (Graves 2013, section 5).

The network (model.text_network) reads the text through its soft window and predicts each pen
point from the points before it; `Writer.write` samples points one at a time, feeding each
back, until the window has moved past the last character (section 5.3's stop rule:
phi(t, U + 1) exceeds phi(t, u) for every character u). Three of the paper's devices:

- bias b (section 5.4) trades variety for legibility: sigma <- exp(sigma_hat - b) and
  pi <- softmax(pi_hat (1 + b)), and (ours) the pen's e <- sigmoid(e_hat (1 + b)); b = 0
  samples the model as trained.
- priming (section 5.5): feed a real line (and its text, where known) first, then write the
  new text in that hand; only the new text's points are returned. The paper writes the new
  text after the prime's, in one window; but a prime whose strokes and text disagree (any
  human line, a reader's quick scribble) leaves the window short of the new text, and the
  model writes the rest of the prime's words first. So after the prime the window reads the
  new text alone. Where the window has read the prime's text to its end (its place, each
  Gaussian's kappa weighted by the phi it puts on the text, within a character of the place
  past the end), the strokes and text agree: the LSTM's state, which carries the writer's
  slant and size, goes on, and the window keeps its place with the prime's characters taken
  from in front of it, as after a line it has read. On 48 held-out corpus primes with their
  own texts, that misread 19% of the new texts' characters, where only resetting the window
  misread 30%: the LSTM, still at the end of a line, raced a reset window through the text.
  A prime the writer does not follow, its text not read to the end or its points unlikely
  (FOLLOWED_NLL: a human line, a scribble, a text that is not the strokes'), leaves it the zero
  state, and only the hand it reads there carries. Kept, such a state misread 33-37% of the
  characters of 60 held-out texts (after human lines with no text or a wrong one, scribbles,
  corpus lines with no text), where the zero state misreads 16-19%, as with no prime (16%;
  the writer of stage 10: stage 11 misreads 15-17% after such primes, 14% with none).
- a writer trained with hands (model.train --hands) is also told which hand to write in:
  --hand NAME, or, by default, the first it learned; with a prime and no --hand, the hand it
  reads in the prime (`read_hand`): the one under which the prime's points are likeliest, by
  the writer's own density, teacher forced. Told none, it had to infer the hand from the
  prime's strokes as it read them, and the writing kept the prime's hand in 59% of 120
  held-out corpus primes (a print hand passed for the other in 17 of 20); told the hand its
  likelihood names (right for 119 of them), it kept it in 75%, more than told it with no
  prime (68%): the prime's state carries the writer's slant and size beside it.
- a long text is wrapped at word boundaries into rows of at most --width characters (by
  default the longest lines the writer learned, `metrics.json`'s `longest_text`), a word
  longer than a row hyphenated; the rows are written side by side in one batch and stacked
  into one line of strokes.

    python -m model.write --text "hello world" --out hello.svg [--weights W] [--bias 1] [--seed 0]
    python -m model.write --text "more of this" --out more.json --prime 7.json   # 7.txt holds its text

The JSON is a line in the project's format (model.data.load reads it back, its text beside it
in .txt); the SVG is the same strokes drawn.
"""
from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.alphabet import Alphabet
from model.base import (
    MAX_BIAS,
    MODEL_UNIT,
    ArgumentParser,
    DataError,
    Line,
    ModelError,
    ranged,
    run_cli,
    seed_argument,
    write_file,
)
from model.corpus import HAND_LABELS
from model.data import TEXT_SUFFIX, json_line, load, longest_text

MAX_TEXT = 1000  # characters: about 27,000 points, a few minutes on a laptop CPU
LINE_SPACING = 1.15  # rows of a wrapped text sit this many written heights apart
# Rows for a model whose metrics and training data don't say how long its lines were.
LEARNED_ROW_FALLBACK = 12


@dataclass(frozen=True)
class WriteConfig:
    bias: float = 1.0
    seed: int = 0
    width: int | None = None  # characters per written row; None: the longest lines the writer learned
    hand: str | None = None  # for a writer with hands: None is its first, or with a prime the prime's


@dataclass
class Written:
    """What `Writer.write` returns per text: the line (raw units, starting at (0, 0)), whether
    the stop rule fired, and after how many points."""

    line: Line
    stopped: bool
    points: int


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    defaults = WriteConfig()
    parser = ArgumentParser(prog="python -m model.write", description=__doc__.split("\n\n")[0])
    parser.add_argument("--text", required=True, help=f"what to write (at most {MAX_TEXT} characters)")
    parser.add_argument("--out", required=True, help="x.svg (a picture) or x.json (a line, its text in x.txt)")
    parser.add_argument("--weights", default="writer", help="writer (models/writer/, default) or a folder "
                        "written by `python -m model.train --text`")
    parser.add_argument("--bias", type=ranged(float, 0, MAX_BIAS), default=defaults.bias,
                        help=f"0 to {MAX_BIAS:g}: 0 writes as trained, higher is neater and less varied "
                        "(default %(default)s)")
    parser.add_argument("--seed", type=seed_argument, default=defaults.seed, help="default %(default)s")
    parser.add_argument("--width", type=ranged(int, 2), default=defaults.width,
                        help="characters per written row (default: the longest lines the writer learned)")
    parser.add_argument("--prime", help="a line (.json, with its text in a .txt beside it where known, or IAM "
                        ".xml) whose hand to write in")
    parser.add_argument("--prime-text", help="the priming line's text, if it has no .txt beside it (optional: "
                        "the hand carries without it)")
    parser.add_argument("--hand", help="for a writer trained with hands: which to write in, by its font's name "
                        "(timesi) or as the page names it ('italic'); default: the first it learned, or with --prime "
                        "the prime's")
    return parser.parse_args(argv)


if __name__ == "__main__":  # --help and a bad argument are answered at once, before TensorFlow's seconds below
    parse_arguments(sys.argv[1:])

from model.batches import line_batch  # noqa: E402
from model.network import keras, line_nll_sums, sample_points, tf  # noqa: E402
from model.text_network import POINTS_PER_CHARACTER, one_hot_text, padded_codes, window_cell  # noqa: E402
from model.weights import Artefact, pretrained  # noqa: E402

# The points of a prime whose likelihood names its hand (read_hand): about 8 characters, enough for
# 119 of 120 held-out corpus primes (all of them with 400), a quarter of a median prime's points.
READ_HAND_POINTS = 200
# A prime the writer follows averages less than this NLL over its first READ_HAND_POINTS points,
# read with its text: held-out corpus lines with their own texts average -4.3 to -2.7 nats a
# point; the same lines with no text, human lines and scribbles 0 to 21.
FOLLOWED_NLL = -1.5
# A line that has not passed its last character after this many points per character is cut off.
GIVE_UP_POINTS_PER_CHARACTER = 3 * POINTS_PER_CHARACTER


class Writer:
    """A loaded synthesis network and its alphabet, stepped one point at a time for a batch."""

    def __init__(self, model: keras.Model, alphabet: Alphabet, row_characters: int = LEARNED_ROW_FALLBACK):
        self.model = model
        self.row_characters = row_characters
        self.cell = window_cell(model)
        self.hands = list(self.cell.hands)  # the names of the hands it learned, in the order of their codes
        self.head = model.get_layer("mixture")
        self.alphabet = alphabet
        self._step = tf.function(self._step_graph, reduce_retracing=True)
        self._masked_nll = tf.function(self._masked_nll_graph, reduce_retracing=True)

    def _step_graph(self, points, states, text, hand, bias, seeds):
        output, states, phi = self.cell.step(points, states, text, hand)
        y = self.head(output)
        return y, states, phi, sample_points(y, 1.0, seeds, tf.shape(points)[0], bias=bias)

    def check(self, text: str) -> None:
        if not text.strip():
            raise DataError("--text is empty: give the words to write")
        if len(text) > MAX_TEXT:
            raise DataError(f"--text has {len(text)} characters; at most {MAX_TEXT} at a time: split it")
        unknown = sorted(set(self.alphabet.unknown("".join(text.split()))))  # wrap() breaks rows at any space
        if unknown:
            raise DataError(f"--text: {''.join(unknown)!r} not in the model's alphabet "
                            f"({self.alphabet.chars!r}); leave them out or replace them")

    def read_hand(self, prime: Line) -> str | None:
        """The hand the writer reads in a prime (module docstring): of its hands, the one under which
        the prime's points and text (a space where none is known) are likeliest; None for a writer
        without hands."""
        return self.hands[self._read_hand_code(prime)] if self.hands else None

    def _read_hand_code(self, prime: Line) -> int:
        return int(np.argmin(self._prime_nll([prime] * len(self.hands), np.arange(len(self.hands)))))

    def _prime_nll(self, primes: list[Line], hand_codes: np.ndarray | None) -> np.ndarray:
        """Each prime's mean NLL per point over its first READ_HAND_POINTS points, read with its text
        (a space where none is known), teacher forced, in the hand of its code (None: no hands)."""
        read = [Line(prime.points[:READ_HAND_POINTS], text=prime.text or " ") for prime in primes]
        inputs, targets = line_batch(read, self.alphabet)
        if hand_codes is not None:
            inputs += (np.asarray(hand_codes, np.int32),)
        return self._masked_nll(inputs, targets).numpy() / targets[..., 3].sum(axis=1)

    def _masked_nll_graph(self, inputs, targets):
        nll_xy, nll_eos = line_nll_sums(self.model(inputs, training=False), targets)
        return nll_xy + nll_eos

    def hand_one_hot(self, hand: str | None, primes: list[Line] | None, batch: int):
        """(batch, hands) one-hot of the hand to write in (module docstring), None for a writer without hands."""
        if not self.hands:
            if hand is not None:
                raise DataError(f"--hand {hand}: this writer learned no hands; leave --hand out, or give "
                                "--weights a writer trained with --hands")
            return None
        named = {HAND_LABELS.get(name, name): name for name in self.hands}  # as the page names them
        hand = named.get(hand, hand) if hand is not None else None
        if hand is not None and hand not in self.hands:
            known = ", ".join(f"{label} ({name})" if label != name else name for label, name in named.items())
            raise DataError(f"--hand {hand}: not one of the writer's hands: {known}")
        if hand is None and primes:
            read = {id(prime): self._read_hand_code(prime) for prime in primes}  # once for a prime rows share
            codes = np.array([read[id(prime)] for prime in primes], np.int32)
        else:
            codes = np.full(batch, self.hands.index(hand) if hand is not None else 0, np.int32)
        return one_hot_text(codes, len(self.hands))

    def write(self, texts: list[str], config: WriteConfig = WriteConfig(),
              prime: Line | list[Line] | None = None) -> list[Written]:
        """Each text written from the zero state, or in the hand of `prime` (one line for every
        text, or one per text), in one batch."""
        for text in texts:
            self.check(text)
        codes = [self.alphabet.encode(text) for text in texts]
        letters = np.array([len(code) for code in codes])
        one_hot = one_hot_text(padded_codes(codes), self.alphabet.size)
        batch = len(texts)
        primes = None if prime is None else prime if isinstance(prime, list) else [prime] * batch
        if primes is not None and len(primes) != batch:
            raise DataError(f"{len(primes)} primes for {batch} texts: give one, or one per text")
        hand = self.hand_one_hot(config.hand, primes, batch)
        states = [tf.zeros((batch, size)) for size in self.cell.state_size]
        bias = tf.constant(config.bias, tf.float32)
        fed = np.zeros((batch, 3), np.float32)
        if primes is not None:
            states, fed = self._read_primes(primes, states, hand, bias, config.seed)
        limit = int(GIVE_UP_POINTS_PER_CHARACTER * max(len(text) for text in texts))
        drawn, stopped_at = [], np.full(batch, -1)
        for t in range(limit):
            seeds = self._seeds(config.seed, t + 1_000_000)
            _, states, phi, sampled = self._step(fed, states, one_hot, hand, bias, seeds)
            past_end = self._past_end(phi.numpy(), letters)
            stopped_at[(stopped_at < 0) & past_end] = t
            if (stopped_at >= 0).all():
                break
            fed = sampled.numpy()
            drawn.append(fed)
        points = np.stack(drawn, axis=1) if drawn else np.zeros((batch, 0, 3), np.float32)
        written = []
        for row, text_row in enumerate(texts):
            count = stopped_at[row] if stopped_at[row] >= 0 else points.shape[1]
            raw = points[row, :count].copy()
            raw[:, :2] *= MODEL_UNIT
            line = Line(raw, text=text_row, source="model.write")
            written.append(Written(line, stopped=bool(stopped_at[row] >= 0), points=int(count)))
        return written

    def _read_primes(self, primes: list[Line], states: list, hand, bias: tf.Tensor,
                     seed: int) -> tuple[list, np.ndarray]:
        """The state each row writes the new text from, and the point it feeds first (module
        docstring): after its prime (read with its text, or a space where none is known) where
        the writer followed it, its first points likely (FOLLOWED_NLL) and its text read to the end,
        with kappa moved back by the text's length; else the zero state. A row whose prime is
        shorter keeps its state while the others read on."""
        inputs = [prime.model_inputs() for prime in primes]
        codes = [self.alphabet.encode(prime.text or " ") for prime in primes]
        prime_text = one_hot_text(padded_codes(codes), self.alphabet.size)
        fed = np.zeros((len(primes), 3), np.float32)
        for t in range(max(len(points) for points in inputs)):
            reading = np.array([t < len(points) for points in inputs])
            _, stepped, _, _ = self._step(fed, states, prime_text, hand, bias, self._seeds(seed, t))
            states = [tf.where(reading[:, None], new, old) for new, old in zip(stepped, states)]
            fed = np.stack([points[t] if t < len(points) else row for points, row in zip(inputs, fed)])
        lengths = np.array([len(code) for code in codes])
        likely = self._prime_nll(primes, None if hand is None else np.argmax(hand, axis=1)) < FOLLOWED_NLL
        followed = (likely & self._read_to_the_end(states, lengths))[:, None]
        kappa = states[-2] - lengths[:, None].astype(np.float32)
        kept = [tf.where(followed, state, tf.zeros_like(state)) for state in [*states[:-2], kappa]]
        return [*kept, tf.zeros_like(states[-1])], np.where(followed, fed, 0).astype(np.float32)

    def _read_to_the_end(self, states: list, lengths: np.ndarray) -> np.ndarray:
        """Whether each row's window, after primes of texts of `lengths` characters, read its text
        to the end: its place ended less than a character from the place past the text."""
        kappa = states[-2].numpy()
        alpha, beta, _ = (part.numpy() for part in self.cell.window_parameters(states[0], states[-2]))
        positions = np.arange(1, lengths.max() + 2)
        on_text = positions[None, None, :] <= lengths[:, None, None] + 1
        mass = (alpha[..., None] * np.exp(-beta[..., None] * (kappa[..., None] - positions) ** 2) * on_text).sum(-1)
        place = (mass * kappa).sum(1) / np.maximum(mass.sum(1), 1e-30)
        return np.abs(place - (lengths + 1)) < 1.0

    @staticmethod
    def _seeds(seed: int, t: int) -> tf.Tensor:
        return tf.constant([[seed, 3 * t + k] for k in range(3)], tf.int32)

    @staticmethod
    def _past_end(phi: np.ndarray, letters: np.ndarray) -> np.ndarray:
        """The stop rule per row: phi just past the row's last character beats every character's."""
        rows = np.arange(len(letters))
        beyond = phi[rows, letters]
        within = np.where(np.arange(phi.shape[1])[None, :] < letters[:, None], phi, -np.inf).max(axis=1)
        return beyond > within

    def write_text(self, text: str, config: WriteConfig = WriteConfig(), prime: Line | None = None) -> Line:
        """A text of any length (up to MAX_TEXT) wrapped into rows and stacked into one line."""
        self.check(text)
        rows = wrap(text, config.width or self.row_characters)
        written = self.write(rows, config, prime)
        return stack([item.line for item in written], " ".join(rows))


def wrap(text: str, width: int) -> list[str]:
    """The text's words in rows of at most `width` characters, broken only between words; a word
    longer than a row is broken after its own hyphens, and cut with a hyphen where that isn't enough."""
    if width < 2:
        raise DataError(f"--width {width}: give 2 or more characters per row")
    rows: list[str] = []
    for word in text.split():
        pieces = _pieces(word, width)
        if rows and len(rows[-1]) + 1 + len(pieces[0]) <= width:
            rows[-1] += " " + pieces.pop(0)
        rows += pieces
    return rows


def _pieces(word: str, width: int) -> list[str]:
    if len(word) <= width:
        return [word]
    pieces: list[str] = []
    for part in re.findall(r"[^-]*-+|[^-]+", word):  # "fifty-five": "fifty-", "five"
        if pieces and len(pieces[-1]) + len(part) <= width:
            pieces[-1] += part
            continue
        while len(part) > width:
            pieces.append(part[:width - 1] + "-")
            part = part[width - 1:]
        pieces.append(part)
    return pieces


def stack(lines: list[Line], text: str) -> Line:
    """Lines one under another, left aligned, as one line of strokes (pen up between rows)."""
    heights = [np.ptp(line.absolute()[:, 1]) if len(line.points) else 0.0 for line in lines]
    row_height = LINE_SPACING * max(max(heights), MODEL_UNIT)
    parts, pen = [], np.zeros(2)
    for index, line in enumerate(lines):
        if not len(line.points):
            continue
        points = line.points.copy()
        points[0, :2] += np.array([0.0, index * row_height]) - pen
        points[-1, 2] = 1.0  # lift the pen at the end of each row
        pen = np.array([0.0, index * row_height]) + np.cumsum(line.points[:, :2], axis=0)[-1]
        parts.append(points)
    if not parts:
        raise ModelError("the model wrote nothing: try another --seed or a lower --bias")
    return Line(np.concatenate(parts).astype(np.float32), text=text, source="model.write")


def to_svg(line: Line, stroke_width: float = 3.0, margin: float = 20.0) -> str:
    """The line's strokes (pen-down runs) as SVG polylines, in raw units."""
    xy = line.absolute()
    left, top = xy.min(axis=0) - margin
    width, height = np.ptp(xy, axis=0) + 2 * margin
    strokes, current = [], []
    for (x, y), pen_up in zip(xy, line.points[:, 2]):
        current.append(f"{x - left:.1f},{y - top:.1f}")
        if pen_up:
            strokes.append(current)
            current = []
    strokes.append(current)
    polylines = "".join(f'<polyline points="{" ".join(points)}"/>' for points in strokes if len(points) > 1)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
            f'width="{width:.0f}" height="{height:.0f}"><title>{_escape(line.text)}</title>'
            f'<g fill="none" stroke="#222" stroke-width="{stroke_width}" stroke-linecap="round" '
            f'stroke-linejoin="round">{polylines}</g></svg>\n')


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def load_writer(model: str | Artefact) -> Writer:
    """A Writer for a text-conditional model: `writer` (models/writer/), an artefact folder, or
    one loaded."""
    artefact = pretrained(model, text=True) if isinstance(model, str) else model
    assert artefact.alphabet is not None  # load's promise for a text model
    learned = longest_text(artefact.metrics, artefact.train.get("data", ""))
    return Writer(artefact.model, artefact.alphabet, learned or LEARNED_ROW_FALLBACK)


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    out = Path(args.out)

    def command():
        if out.suffix not in (".svg", ".json"):
            raise DataError(f"--out {out}: name an .svg or a .json file")
        prime = _prime(args.prime, args.prime_text) if args.prime else None
        writer = load_writer(args.weights)
        read = writer.read_hand(prime) if prime is not None and args.hand is None else None
        line = writer.write_text(args.text, WriteConfig(args.bias, args.seed, args.width, read or args.hand), prime)
        # each file whole or not at all: a full disk keeps what was there and names the file
        write_file(out, to_svg(line) if out.suffix == ".svg" else json_line(line))
        if out.suffix == ".json":
            write_file(out.with_suffix(TEXT_SUFFIX), line.text)
        print(f"wrote {out} ({len(line.points)} points"
              + (f", in the hand read in the prime: {HAND_LABELS.get(read, read)})" if read else ")"))

    return run_cli(command)


def _prime(path: str, text: str | None) -> Line:
    if Path(path).is_dir():  # model.data.load would read every line below it, and name any bad one
        raise DataError(f"--prime {path}: a folder; give one line's file (.json, or IAM-OnDB .xml)")
    lines = load(path)
    if len(lines) != 1:
        raise DataError(f"--prime {path}: holds {len(lines)} lines; give one line file")
    line = lines[0]
    line.text = text if text is not None else line.text
    return line


if __name__ == "__main__":
    sys.exit(main())
