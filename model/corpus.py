"""Synthetic handwriting: the project's offline default corpus.

Graves (2013, section 4.2) trains the handwriting model on pen trajectories from the IAM
On-Line Handwriting Database. So that the project works with no network and no licensed
data, this module writes its own. Its texts are what people type: sentences of ordinary
English words (model/words.txt) with names, places, months, acronyms, contractions and
hyphenated words (model/names.txt), numbers (counts, years, times, dates, decimals,
ordinals) and every punctuation mark of the model's alphabet in ordinary use. They are
written in six hands, fonts of the Hershey-Fonts package:

- cursive, letters joined into about one stroke per word: `scripts`, `scriptc`, `cursive`;
- print, the pen lifting between letters: `futural` (sans), `timesr` (roman, with serifs),
  `timesi` (italic). (`rowmans`, Hershey's simplex roman, is not among them: its letters are
  futural's, glyph for glyph.)

The Hershey fonts were digitised by Dr A. V. Hershey at the U.S. National Bureau of
Standards; they are in the public domain except for NTIS's own distribution format, which
this package's data is not in. The Hershey-Fonts package (Attila Kolinger) is under the MIT
licence. All six fonts have a glyph for every printable ASCII character, so every character
of the model's alphabet is written (a character without a glyph would be left out of the
writing but kept in the text; none is).

The Times fonts and scriptc draw thick parts as two or three close strokes; a pen draws
them once. I and j dots, t crosses and the second stroke of a cursive x are strokes of
their own, made right after the letter's body, as many people do, in the joined hands too:
the pen lifts, dots or crosses, and starts the next letter afresh. (Made after the whole
word, as others do, they were left out by a writer sampled at bias 1 in 32-59% of the t's of
the joined hands, and the t's were read as l's: at the word's end, going back to cross was
the less likely of two moves, and the bias sharpens the likelier one.) Then the writing is
played back with the kinematics of a hand:

- the pen moves at speed v = k * curvature^(-1/3), the two-thirds power law of Lacquaniti,
  Terzuolo and Viviani (1983): slow in tight curves, fast on straight runs, starting and
  stopping gently at the ends of a stroke;
- positions are sampled in time at a fixed rate, as a digitiser does, so the spacing of
  points follows the speed;
- each line has its own writer: hand, slant, size, letter width and spacing, word spacing,
  how often the pen lifts where the script would go on, a wandering baseline and a small
  smooth tremor.

`synthesize(n_lines, seed)` returns `model.base.Line`s in raw units whose step lengths and
points per stroke sit close to the human lines of the original article (see bench/corpus.py).
Line i depends only on (seed, i), so a corpus grows without changing its first lines.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
from tqdm import tqdm

from model.base import DataError, Line

WORDS_FILE = Path(__file__).with_name("words.txt")
NAMES_FILE = Path(__file__).with_name("names.txt")

# Hershey letters stand on the baseline y = 9, y growing downward; the top of an x is at
# y = 0 in the script fonts and y = -5 in the print ones, so each font's x-height is measured.
FONT_BASELINE = 9.0
SPACING_UNIT = 1 / 9  # SynthConfig's letter and word spacing are ninths of the x-height
# What kind of hand each font is, in a reader's words (the page counts them: "three scripts, a
# print, a roman and an italic"); the scripts are the hands whose letters join.
FONT_KINDS = {"scripts": "script", "scriptc": "script", "cursive": "script",
              "futural": "print", "timesr": "roman", "timesi": "italic"}
JOINED_FONTS = tuple(font for font, kind in FONT_KINDS.items() if kind == "script")
# Each hand as the page's hand picker names it (the fonts' own names are Hershey's abbreviations).
HAND_LABELS = {"scripts": "upright script", "scriptc": "formal script", "cursive": "slanted script",
               "futural": "print", "timesr": "roman", "timesi": "italic"}


# Each hand writes in its own part of the slant and letter-width ranges, as writers keep their
# habits: `cursive` and `scripts` share their glyphs and differ by these alone. Parts (low,
# high) of SynthConfig's ranges, so a hand's habit follows the config; other fonts use all of it.
HAND_HABITS: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {  # font: (slant, letter width)
    "scripts": ((0.0, 0.35), (0.5, 1.0)),  # upright and broad
    "scriptc": ((0.3, 0.7), (0.2, 0.8)),
    "cursive": ((0.65, 1.0), (0.0, 0.4)),  # slanted and narrow
    "futural": ((0.0, 0.5), (0.3, 1.0)),
    "timesr": ((0.0, 0.4), (0.2, 0.8)),
    "timesi": ((0.4, 1.0), (0.0, 0.6)),
}


def _habit(pair: tuple[float, float], part: tuple[float, float]) -> tuple[float, float]:
    low, high = pair
    return low + part[0] * (high - low), low + part[1] * (high - low)


@dataclass(frozen=True)
class SynthConfig:
    """How synthetic lines are written. Pairs (low, high) are ranges drawn per line."""

    fonts: tuple[str, ...] = ("scripts", "scriptc", "cursive", "futural", "timesr", "timesi")
    chars_per_line: tuple[int, int] = (6, 45)
    x_height: tuple[float, float] = (85.0, 120.0)  # raw units
    # Times the Hershey width: the human lines' letters are broader for their height.
    letter_width: tuple[float, float] = (1.0, 1.3)
    slant_degrees: tuple[float, float] = (-5.0, 25.0)
    letter_spacing: tuple[float, float] = (-0.5, 1.5)  # ninths of the x-height added after each letter
    word_spacing: tuple[float, float] = (14.0, 32.0)  # ninths of the x-height between words
    # Chance that the pen lifts where the font's path goes on (between letters, or instead of
    # retracing a stem): few writers keep it down for a whole word.
    lift_at_joins: tuple[float, float] = (0.25, 0.65)
    capital_first_word: float = 0.7  # lines start a sentence this often (sentences start upper-case)
    punctuation: float = 0.12  # chance of a mark after a phrase: , . ; : ! ?
    # What a line is made of: kinds of phrase (see _phrase) and how often each is drawn.
    phrases: tuple[tuple[str, float], ...] = (
        ("word", 60.0), ("name", 3.0), ("full name", 1.0), ("place", 3.0), ("month", 1.0), ("weekday", 1.0),
        ("possessive", 1.5), ("contraction", 3.0), ("acronym", 2.0), ("capitals", 0.7), ("count", 3.0),
        ("year", 1.2), ("time", 1.0), ("date", 1.0), ("decimal", 1.0), ("ordinal", 1.0), ("number sign", 0.7),
        ("hyphenated", 2.0), ("quoted", 1.5), ("bracketed", 1.5), ("ampersand", 0.8), ("sum", 0.8),
        ("slashed", 0.8), ("footnote", 0.6))
    baseline_wander: tuple[float, float] = (0.1, 0.35)  # x-heights, slow drift of the baseline
    tilt_degrees: float = 1.5  # standard deviation of the whole line's angle
    # Two-thirds power law v = gain * x_height^(1 - beta) * curvature^(-beta), beta = 1/3, in
    # raw units per sample, clipped to speed_limits (x-heights per sample): the same motion
    # whatever the size of the writing.
    curvature_exponent: float = 1 / 3
    speed_gain: tuple[float, float] = (0.17, 0.22)
    speed_limits: tuple[float, float] = (0.02, 0.5)
    ramp_length: float = 0.35  # x-heights over which a stroke speeds up and slows down
    corner_rounding: float = 0.06  # x-heights, Gaussian smoothing of the glyph polylines
    jitter: float = 0.012  # x-heights, smooth tremor added to every sample
    jitter_samples: float = 3.0  # correlation length of the tremor, in samples
    word_preference: float = 5.0  # words drawn with p ~ 1 / (rank + this)


# How the fonts' polylines become pen strokes (font units).
LETTER_JOIN_GAP = 12.0  # ninths of the x-height: a letter's entry this near the previous exit is joined
# After a capital, only a short connector: the long ones (H to a) would strike through the letter.
CAPITAL_JOIN_GAP = 6.0
TOUCH = 1.5  # a point this near a polyline is on its ink
MARK_SIZE = 8.0  # pieces up to this size touching no other (dots, full stops) are marks
DOT_SIZE = 2.5  # a mark this small is a dot
# scriptc and the Times fonts draw thick parts twice: a segment ending on its letter's ink and
# adding at most this much ink of its own (font units) is skipped.
DOUBLED = 2.0


@dataclass(frozen=True)
class Glyph:
    """One character of a font as pen movements (font units, x from the letter's left side)."""

    segments: tuple[np.ndarray, ...]
    retraces: tuple[bool, ...]  # per segment: it starts on (or passes through) ink already drawn
    late: tuple[bool, ...]  # per segment: an i or j dot, a t cross, an x's crossing stroke
    width: float  # advance to the next letter


@dataclass(frozen=True)
class Font:
    """A Hershey font's glyphs by character, its x-height and whether its letters join."""

    glyphs: dict[str, Glyph]
    x_height: float  # font units
    joined: bool


def _near(points: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """For each point, whether it lies within TOUCH of the polyline `ink`."""
    start, edge = ink[:-1], np.diff(ink, axis=0)
    if not len(edge):
        start, edge = ink, np.zeros_like(ink)
    offset = points[:, None, :] - start[None]
    along = np.clip((offset * edge).sum(-1) / np.maximum((edge**2).sum(-1), 1e-12), 0.0, 1.0)
    return (np.hypot(*(offset - along[..., None] * edge).transpose(2, 0, 1)) <= TOUCH).any(1)


def _on_any(points: np.ndarray, pieces: list[np.ndarray]) -> np.ndarray:
    """For each point, whether it lies within TOUCH of any of the polylines `pieces`."""
    return np.any([_near(points, piece) for piece in pieces], axis=0)


def _along(segment: np.ndarray, step: float = 1.0) -> np.ndarray:
    """Points along a polyline at most `step` apart, its corners among them."""
    parts = [np.linspace(a, b, max(1, int(np.ceil(np.hypot(*(b - a)) / step))), endpoint=False)
             for a, b in itertools.pairwise(segment)]
    return np.vstack([*parts, segment[-1:]])


def _glyph(char: str, strokes: list, left: float, width: float) -> Glyph:
    """How a hand writes one Hershey glyph: which segments go on pen down, which come late."""
    kept: list[np.ndarray] = []
    for stroke in strokes:
        segment = np.asarray(stroke, np.float64) - (left, 0.0)
        if kept:
            # Judged along the whole segment, not at its corners: an H's bar ends on ink at both.
            on_ink = _on_any(_along(segment), kept)
            if (~on_ink).sum() <= DOUBLED and on_ink[-1]:
                continue
        kept.append(segment)

    def detached(segment: np.ndarray) -> bool:
        others = [other for other in kept if other is not segment]
        return not any(_near(segment, other).any() or _near(other, segment).any() for other in others)

    marks = [bool(np.ptp(segment, axis=0).max() <= MARK_SIZE) and detached(segment) for segment in kept]
    late = [mark and char in "ij" for mark in marks]
    # The last stroke of a t or x crosses the letter unless it carries the letter's exit (the
    # rightmost end, where the next letter joins on: scriptc's x ends in its second half).
    if char in "tx" and len(kept) > 1 and kept[-2][-1, 0] >= kept[-1][-1, 0]:
        late[-1] = True
    retraces: list[bool] = []
    body: list[np.ndarray] = []
    for segment, aside in zip(kept, np.logical_or(marks, late)):
        # The second hump of an n starts on the first one's downstroke: the pen goes back up it
        # with the pen down. Only along ink, though: from the foot of an H's right stem to the
        # start of its bar the pen lifts.
        on_body = bool(body) and bool(_on_any(_along(np.vstack([body[-1][-1:], segment[:1]])),
                                              [*body, segment]).all())
        retraces.append(on_body and not aside)
        body += [] if aside else [segment]
    # A dot is a quick dab of the pen, not the font's little loop.
    segments = tuple(segment[:2] if mark and np.ptp(segment, axis=0).max() <= DOT_SIZE else segment
                     for segment, mark in zip(kept, marks))
    return Glyph(segments, tuple(retraces), tuple(late), width)


@cache
def _font(name: str) -> Font:
    """A Hershey font, parsed once."""
    from HersheyFonts import HersheyFonts

    font = HersheyFonts()
    if name not in font.default_font_names:
        raise DataError(f"SynthConfig.fonts: {name!r} is not a Hershey font: use any of "
                        f"{', '.join(SynthConfig.fonts)} (or another of the Hershey-Fonts package)")
    font.load_default_font(name)
    glyphs = {char: _glyph(char, g.strokes, g.left_offset, g.char_width) for char, g in font.all_glyphs.items()}
    x_top = min(point[1] for segment in glyphs["x"].segments for point in segment)
    return Font(glyphs, FONT_BASELINE - x_top, name in JOINED_FONTS)


@dataclass(frozen=True)
class WordPlan:
    """A word's pen path in one font, before a writer's spacing and lifts are applied."""

    points: np.ndarray  # (P, 2) font units, letters set with no extra spacing
    letter: np.ndarray  # (P,) position in the word of the letter each point belongs to
    piece: np.ndarray  # (P,) index of the piece each point belongs to
    continues: np.ndarray  # (pieces,) bool: the piece goes on from the one before, pen down
    advance: float  # width of the word with no extra spacing
    letters: int


@lru_cache(maxsize=20000)
def _plan(font_name: str, word: str) -> WordPlan:
    """Join a word's glyphs into pen strokes.

    In a joined hand, a letter's first segment goes on from the previous letter when both are
    letters and it starts near that letter's exit (drawing the connecting hairline of
    cursive), unless that letter had late strokes (dots, crosses): they follow its body, the pen
    lifted, and the next letter starts a stroke of its own. In print, every letter starts a new
    stroke and its late strokes follow its body too. Segments that retrace ink go on in either.
    """
    font = _font(font_name)
    # (segment, letter position, goes on from the piece before)
    pieces: list[tuple[np.ndarray, int, bool]] = []
    x, letters, exit_point, previous = 0.0, 0, None, ""
    late: list[tuple[np.ndarray, int, bool]] = []  # the letter before's: after them, the pen starts afresh
    for position, char in enumerate(c for c in word if c in font.glyphs):
        glyph = font.glyphs[char]
        joins = font.joined and char.isalpha() and previous.isalpha() and exit_point is not None and not late
        late, entered = [], False
        for segment, retrace, is_late in zip(glyph.segments, glyph.retraces, glyph.late):
            segment = segment + (x, 0.0)  # noqa: RUF005 - a NumPy array moved right by x
            if is_late:
                late.append((segment, position, False))
                continue
            gap = np.hypot(*(segment[0] - exit_point)) if joins and not entered else np.inf
            reach = CAPITAL_JOIN_GAP if previous.isupper() else LETTER_JOIN_GAP
            pieces.append((segment, position, retrace or gap <= reach * font.x_height * SPACING_UNIT))
            exit_point, entered = segment[-1], True
        pieces.extend(late)
        x += glyph.width
        letters, previous = position + 1, char
    return WordPlan(
        points=np.vstack([p[0] for p in pieces]),
        letter=np.concatenate([np.full(len(p[0]), p[1]) for p in pieces]),
        piece=np.concatenate([np.full(len(p[0]), i) for i, p in enumerate(pieces)]),
        continues=np.array([p[2] for p in pieces]),
        advance=x,
        letters=letters,
    )


@cache
def _words() -> tuple[str, ...]:
    """The word list, most common first."""
    lines = WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return tuple(w.strip() for w in lines if w.strip() and not w.startswith("#"))


def _write_text(words: list[str], font_name: str, style: dict, rng) -> tuple[np.ndarray, np.ndarray]:
    """A whole line laid out left to right in font units: (points, stroke id of each point)."""
    points, starts, x = [], [], 0.0
    ninth = _font(font_name).x_height * SPACING_UNIT
    for word in words:
        plan = _plan(font_name, word)
        new_stroke = ~plan.continues | (rng.random(len(plan.continues)) < style["lift"])
        first_of_piece = np.r_[True, plan.piece[1:] != plan.piece[:-1]]
        starts.append(first_of_piece & new_stroke[plan.piece])
        shift = x + style["letter_spacing"] * ninth * plan.letter
        points.append(plan.points + np.column_stack([shift, np.zeros_like(shift)]))
        x += plan.advance + (style["letter_spacing"] * plan.letters + style["word_spacing"]) * ninth
    return np.vstack(points), np.cumsum(np.concatenate(starts)) - 1


def _to_raw(points: np.ndarray, font_name: str, style: dict, rng) -> np.ndarray:
    """Font units to raw pen units: letter width, slant, size, tilt and a wandering baseline."""
    unit = style["x_height"] / _font(font_name).x_height
    shear = np.tan(np.radians(style["slant"]))
    x = (points[:, 0] * style["letter_width"] + (FONT_BASELINE - points[:, 1]) * shear) * unit
    y = points[:, 1] * unit
    # A few slow waves, one to three per line, make the baseline drift the way a hand does.
    wavelengths = np.ptp(x) * rng.uniform(0.35, 1.0, 3)
    phases = rng.uniform(0, 2 * np.pi, 3)
    amplitudes = style["wander"] * style["x_height"] * rng.uniform(0.3, 1.0, 3) / 3
    drift = (amplitudes * np.sin(2 * np.pi * x[:, None] / wavelengths + phases)).sum(1)
    y = y + x * np.tan(np.radians(style["tilt"])) + drift
    return np.column_stack([x, y])


def _densify(points: np.ndarray, ids: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Every stroke resampled along its length at about `step` (points, stroke ids)."""
    first = np.r_[True, ids[1:] != ids[:-1]]
    previous = np.where(first, np.arange(len(ids)), np.arange(len(ids)) - 1)
    lengths = np.hypot(*(points - points[previous]).T)
    # A stroke's first point is one piece; repeated points vanish; each edge splits evenly.
    pieces = np.where(first, 1, np.ceil(lengths / step)).astype(int)
    owner = np.repeat(np.arange(len(ids)), pieces)
    fraction = (np.arange(pieces.sum()) - np.repeat(np.cumsum(pieces) - pieces, pieces) + 1) / pieces[owner]
    dense = points[previous[owner]] + (points[owner] - points[previous[owner]]) * fraction[:, None]
    return dense, ids[owner]


def _smooth(points: np.ndarray, first: np.ndarray, last: np.ndarray, sigma_points: float) -> np.ndarray:
    """Gaussian smoothing along each stroke (a digitised pen path has no sharp corners).

    first, last: for each point, the index of its stroke's first and last point.
    """
    reach = max(1, int(3 * sigma_points))
    offsets = np.arange(-reach, reach + 1)
    weights = np.exp(-0.5 * (offsets / max(sigma_points, 1e-9)) ** 2)
    index = np.arange(len(points))
    smoothed = np.zeros_like(points)
    for offset, weight in zip(offsets, weights / weights.sum()):
        smoothed += weight * points[np.clip(index + offset, first, last)]
    # The ends stay where the font puts them, so strokes still meet and dots stay put.
    ends = (index == first) | (index == last)
    smoothed[ends] = points[ends]
    return smoothed


def _curvature(points: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Unsigned curvature (1 / raw unit) along each stroke: Menger curvature of neighbours."""
    index = np.arange(len(points))
    before = points[np.maximum(index - 1, first)]
    after = points[np.minimum(index + 1, last)]
    sides = np.hypot(*(points - before).T) * np.hypot(*(after - points).T) * np.hypot(*(after - before).T)
    (ax, ay), (bx, by) = (points - before).T, (after - points).T
    # 4 * triangle area / product of the sides; 0 at stroke ends.
    return 2 * np.abs(ax * by - ay * bx) / np.maximum(sides, 1e-12)


def _play_back(points: np.ndarray, ids: np.ndarray, style: dict, config: SynthConfig):
    """Sample the pen at a fixed rate while it follows the strokes: (positions, pen lifts)."""
    x_height = style["x_height"]
    step = x_height / 20
    dense, ids = _densify(points, ids, step)
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], len(ids)] - 1
    first, last = starts[ids], ends[ids]
    dense = _smooth(dense, first, last, config.corner_rounding * x_height / step)
    beta = config.curvature_exponent
    speed = style["gain"] * x_height ** (1 - beta) * np.maximum(_curvature(dense, first, last), 1e-9) ** -beta
    speed = np.clip(speed, *(np.array(config.speed_limits) * x_height))

    # The pen starts and stops gently: slower near either end of a stroke.
    segment = np.r_[0.0, np.hypot(*np.diff(dense, axis=0).T)]
    segment[starts] = 0.0
    along = np.cumsum(segment)
    from_end = np.minimum(along - along[first], along[last] - along)
    ramp = np.minimum(config.ramp_length * x_height, 0.5 * (along[last] - along[first]))
    speed = speed * np.clip(from_end / np.maximum(ramp, 1e-9), 0.05, 1.0)

    # Time at each dense point; strokes laid end to end with one sample of gap between.
    elapsed = np.cumsum(segment / (0.5 * (speed + np.r_[speed[:1], speed[:-1]])))
    stroke_time = elapsed[ends] - elapsed[starts]
    offset = np.r_[0.0, np.cumsum(stroke_time + 1.0)[:-1]]
    clock = elapsed - elapsed[first] + offset[ids]
    samples = np.ceil(stroke_time).astype(int) + 1
    sample_stroke = np.repeat(np.arange(len(starts)), samples)
    tick = np.arange(samples.sum()) - np.repeat(np.cumsum(samples) - samples, samples)
    times = offset[sample_stroke] + np.minimum(tick, stroke_time[sample_stroke])
    positions = np.column_stack([np.interp(times, clock, dense[:, 0]), np.interp(times, clock, dense[:, 1])])
    lifts = np.zeros(len(times), bool)
    lifts[np.cumsum(samples) - 1] = True
    return positions, lifts


def _tremor(n: int, size: float, correlation: float, rng) -> np.ndarray:
    """(n, 2) smooth random wobble with standard deviation about `size`."""
    reach = max(1, int(3 * correlation))
    kernel = np.exp(-0.5 * (np.arange(-reach, reach + 1) / correlation) ** 2)
    kernel /= np.sqrt((kernel**2).sum())
    noise = rng.normal(0.0, size, (n + 2 * reach, 2))
    return np.stack([np.convolve(noise[:, d], kernel, mode="valid") for d in range(2)], 1)


@cache
def _lists() -> dict[str, tuple[str, ...]]:
    """model/names.txt: its lists ("## first names", "## cities", ...) by kind."""
    lists: dict[str, list[str]] = {}
    for line in NAMES_FILE.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            kind = lists.setdefault(line[3:].strip(), [])
        elif line.strip() and not line.startswith("#"):
            kind.append(line.strip())
    return {name: tuple(entries) for name, entries in lists.items()}


UNITS = "one two three four five six seven eight nine".split()
TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()


def _ordinal(number: int) -> str:
    suffix = "th" if number % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def _phrase(kind: str, word, rng) -> list[str]:
    """One phrase of a line as its space-separated pieces; `word()` draws an ordinary word."""
    lists = _lists()

    def pick(name: str) -> str:
        return lists[name][rng.integers(len(lists[name]))]

    def count() -> int:  # mostly small numbers, as in prose
        return int(10 ** rng.uniform(0, 3.3))

    def words(most: int) -> list[str]:
        return [word() for _ in range(rng.integers(1, most + 1))]

    makers = {
        "word": lambda: [word()],
        "name": lambda: [pick("first names")],
        "full name": lambda: [pick("first names"), pick("surnames")],
        "place": lambda: [pick("cities" if rng.random() < 0.5 else "countries")],
        "month": lambda: [pick("months")] + ([str(rng.integers(1, 29))] if rng.random() < 0.4 else []),
        "weekday": lambda: [pick("weekdays")],
        "possessive": lambda: [pick("first names") + "'s", word()],
        "contraction": lambda: [pick("contractions")],
        "acronym": lambda: [pick("acronyms")],
        "capitals": lambda: [word().upper()],
        "count": lambda: [str(count()), word()],
        "year": lambda: [f"{rng.integers(1800, 2031)}" + ("s" if rng.random() < 0.1 else "")],
        "time": lambda: [f"{rng.integers(1, 13)}:{rng.choice([0, 15, 30, 45, int(rng.integers(60))]):02d}"]
        + ([str(rng.choice(["am", "pm"]))] if rng.random() < 0.3 else []),
        "date": lambda: [f"{rng.integers(1, 32)}/{rng.integers(1, 13):02d}"
                         + (f"/{rng.integers(1950, 2031)}" if rng.random() < 0.3 else "")],
        "decimal": lambda: [f"{count()}.{rng.integers(100):02d}" if rng.random() < 0.6
                            else f"{rng.integers(10)}.{rng.integers(1, 10)}"],
        "ordinal": lambda: [_ordinal(count() if rng.random() < 0.3 else int(rng.integers(1, 32)))],
        "number sign": lambda: [f"#{rng.integers(1, 100)}"],
        "hyphenated": lambda: [str(rng.choice([
            pick("hyphenated"), pick("hyphenated"),
            f"{TENS[rng.integers(len(TENS))]}-{UNITS[rng.integers(len(UNITS))]}",
            f"{rng.integers(1, 20)}-{rng.integers(20, 60)}"]))],
        "quoted": lambda: _wrap(words(3), '"', '"'),
        "bracketed": lambda: _wrap(words(3) if rng.random() < 0.7 else ["see", f"#{rng.integers(1, 20)}"], "(", ")"),
        "ampersand": lambda: [pick("surnames"), "&", str(rng.choice([pick("surnames"), "Sons", "Co"]))],
        "sum": lambda: [str(count()), str(rng.choice(["+", "*"])), str(count())],
        "slashed": lambda: [str(rng.choice([f"{word()}/{word()}", "and/or", "km/h", "24/7", "50/50", "yes/no"]))],
        "footnote": lambda: [word() + "*"],
    }
    if kind not in makers:
        raise DataError(f"SynthConfig.phrases: {kind!r} is not a kind of phrase: use any of {', '.join(makers)}")
    return makers[kind]()


def _wrap(pieces: list[str], opening: str, closing: str) -> list[str]:
    return [opening + pieces[0], *pieces[1:-1], pieces[-1] + closing] if len(pieces) > 1 \
        else [opening + pieces[0] + closing]


def _capitalized(piece: str) -> str:
    """The first letter upper-case, past an opening quote or bracket."""
    lead = len(piece) - len(piece.lstrip("\"("))
    return piece[:lead] + piece[lead:lead + 1].upper() + piece[lead + 1:]


def _line_text(config: SynthConfig, rng) -> list[str]:
    """A line's text as its space-separated pieces: sentence case, a mark now and then."""
    words = _words()
    cumulative = np.cumsum(1.0 / (np.arange(len(words)) + config.word_preference))
    kinds = [kind for kind, _ in config.phrases]
    weights = np.cumsum([weight for _, weight in config.phrases])

    def word() -> str:
        return words[np.searchsorted(cumulative, rng.random() * cumulative[-1])]

    target = rng.integers(config.chars_per_line[0], config.chars_per_line[1] + 1)
    chosen: list[str] = []
    sentence_starts = rng.random() < config.capital_first_word
    while len(" ".join(chosen)) < target:
        phrase = _phrase(kinds[np.searchsorted(weights, rng.random() * weights[-1])], word, rng)
        if sentence_starts:
            phrase[0] = _capitalized(phrase[0])
        if rng.random() < config.punctuation:
            phrase[-1] += str(rng.choice(list(",.;:!?"), p=[0.35, 0.3, 0.1, 0.1, 0.07, 0.08]))
        chosen += phrase
        sentence_starts = chosen[-1][-1] in ".!?"
    return chosen


def _line(text: str | None, font_name: str | None, rng, config: SynthConfig) -> Line:
    """A line in a writer of its own drawn from `rng`: the given text and hand, or drawn ones."""
    uniform = lambda pair: rng.uniform(*pair)  # noqa: E731 - one draw per style range
    drawn_font = config.fonts[rng.integers(len(config.fonts))]
    font_name = font_name or drawn_font
    slant_part, width_part = HAND_HABITS.get(font_name, ((0.0, 1.0), (0.0, 1.0)))
    style = {
        "x_height": uniform(config.x_height),
        "letter_width": uniform(_habit(config.letter_width, width_part)),
        "slant": uniform(_habit(config.slant_degrees, slant_part)),
        "letter_spacing": uniform(config.letter_spacing),
        "word_spacing": uniform(config.word_spacing),
        "lift": uniform(config.lift_at_joins),
        "gain": uniform(config.speed_gain),
        "wander": uniform(config.baseline_wander),
        "tilt": rng.normal(0.0, config.tilt_degrees),
    }
    words = text.split() if text is not None else _line_text(config, rng)
    points, ids = _write_text(words, font_name, style, rng)
    positions, lifts = _play_back(_to_raw(points, font_name, style, rng), ids, style, config)
    positions += _tremor(len(positions), config.jitter * style["x_height"], config.jitter_samples, rng)
    # A digitiser reports whole pen units; the first point lands a little off the start
    # position, as in the human files.
    start = np.round(rng.uniform([100, 150], [240, 500]))
    absolute = np.round(positions - positions[0] + start + rng.normal(0, 5, 2))
    offsets = np.diff(np.vstack([start, absolute]), axis=0)
    points = np.column_stack([offsets, lifts]).astype(np.float32)
    writer = {"font": font_name} | {name: round(float(value), 3) for name, value in style.items()}
    return Line(points, (float(start[0]), float(start[1])), " ".join(words), "synthetic", {"writer": writer})


def synthesize(n_lines: int, seed: int, config: SynthConfig = SynthConfig()) -> list[Line]:
    """`n_lines` synthetic handwriting lines in raw units, deterministic in (seed, config)."""
    indices = tqdm(range(n_lines), "synthesizing", unit="line", disable=None, leave=False)
    return [_line(None, None, np.random.default_rng([seed, index]), config) for index in indices]


def write(text: str, font_name: str, seed: int = 0, config: SynthConfig = SynthConfig()) -> Line:
    """`text` written in one hand (a Hershey font name) by a writer drawn from `seed`."""
    if not text.strip():
        raise DataError("corpus.write: the text is empty: give at least one character")
    return _line(text, font_name, np.random.default_rng([seed]), config)
