"""Draw docs/synthetic-vs-human.png: human lines of the original article beside synthetic ones.

Four of the 145 human lines (Distill's validation data, as model.data.load("distill") reads
them) on the left, four lines of the synthetic corpus (model/corpus.py) on the right, all at
one scale so sizes compare. With --hands, docs/hands.png instead: one sentence written in
each of the corpus's six hands, the joined ones on the left, print on the right. With
--writer W, the text model's card pictures: FOLDER/hands.png, a held-out line of each hand
as the prime and what the model wrote after it (and, for a writer trained with hands, what
it wrote told that hand, no prime), and FOLDER/samples.png, texts with
capitals, digits and punctuation written at bias 1 (model.write). Written as SVG, then
photographed by headless Chromium (the project has no plotting library; this script is not
part of the build).

    python docs/make_picture.py [--seed 0] [--human 0 3 5 8] [--out docs/synthetic-vs-human.png]
    python docs/make_picture.py --hands [--seed 0] [--out docs/hands.png]
    python docs/make_picture.py --writer models/writer [--seed 0]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from model import data
from model.corpus import JOINED_FONTS, SynthConfig, synthesize, write

CHROMIUM = "/usr/bin/chromium"
COLUMN_WIDTH, ROW_HEIGHT, MARGIN, TITLE = 760, 90, 16, 40
SENTENCE = 'Zoe\'s "x-ray" (#3) at 9:15 & 4.50; OK?'
SAMPLE_TEXTS = ("It's 3:00 am; go home, KAYAK!", "Meet Anna at 9:15 (room 4B).", "NASA's well-known x-ray",
                'Oslo, 12/05/2026: "fifty-five"', "Is it #1? Smith & Sons + 42*3", "the quick brown fox jumps")


def pen_paths(line: data.Line, scale: float, left: float, top: float) -> str:
    """SVG path data of the pen-down strokes, the line's top-left corner at (left, top)."""
    xy = line.absolute()
    xy = (xy - xy.min(axis=0)) * scale + (left, top)
    lifted_before = [True] + [bool(up) for up in line.points[:-1, 2]]
    return " ".join(f"{'M' if lift else 'L'}{x:.1f},{y:.1f}" for (x, y), lift in zip(xy, lifted_before))


def svg(columns: dict[str, list[data.Line]]) -> tuple[str, int, int]:
    """The picture as SVG text, and its width and height in pixels."""
    everything = [line for lines in columns.values() for line in lines]
    scale = min(min(COLUMN_WIDTH / width, ROW_HEIGHT / height)
                for width, height in (np.ptp(line.absolute(), axis=0) for line in everything))
    rows = max(len(lines) for lines in columns.values())
    width = len(columns) * (COLUMN_WIDTH + 2 * MARGIN)
    height = TITLE + rows * (ROW_HEIGHT + MARGIN) + MARGIN
    parts = []
    for column, (title, lines) in enumerate(columns.items()):
        left = column * (COLUMN_WIDTH + 2 * MARGIN) + MARGIN
        parts.append(f'<text x="{left}" y="28" font-family="sans-serif" font-size="18">{title}</text>')
        for row, line in enumerate(lines):
            top = TITLE + row * (ROW_HEIGHT + MARGIN) + MARGIN / 2
            parts.append(f'<path d="{pen_paths(line, scale, left, top)}"/>')
    body = "".join(parts)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
            f'<rect width="100%" height="100%" fill="white"/>'
            f'<g fill="none" stroke="#111" stroke-width="1.4" stroke-linecap="round" stroke-linejoin="round">'
            f'{body}</g></svg>'), width, height


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="synthetic corpus seed (default %(default)s)")
    parser.add_argument("--human", type=int, nargs="+", default=[0, 3, 5, 8], help="which human lines")
    parser.add_argument("--hands", action="store_true", help="draw one sentence in every hand instead")
    parser.add_argument("--writer", metavar="FOLDER", help="draw a text model's card pictures into its folder")
    parser.add_argument("--out", help="the picture (default docs/synthetic-vs-human.png, or docs/hands.png)")
    args = parser.parse_args()
    if args.writer:
        return writer_pictures(args.writer, args.seed)
    out = args.out or str(Path(__file__).with_name("hands.png" if args.hands else "synthetic-vs-human.png"))
    if args.hands:
        hands = SynthConfig().fonts
        joined = [hand for hand in hands if hand in JOINED_FONTS]
        printed = [hand for hand in hands if hand not in JOINED_FONTS]
        columns = {f"joined: {', '.join(joined)}": [write(SENTENCE, hand, args.seed) for hand in joined],
                   f"print: {', '.join(printed)}": [write(SENTENCE, hand, args.seed) for hand in printed]}
        return photograph(columns, out)
    try:
        human = data.load("distill")
    except data.DataError as error:
        sys.exit(f"error: {error}")
    if not all(0 <= index < len(human) for index in args.human):
        sys.exit(f"error: --human {args.human}: line numbers must be 0 to {len(human) - 1}")
    columns = {
        "human (Distill validation lines)": [human[index] for index in args.human],
        "synthetic (model/corpus.py)": synthesize(len(args.human), args.seed),
    }
    photograph(columns, out)


def writer_pictures(folder: str, seed: int) -> None:
    """FOLDER/hands.png and FOLDER/samples.png (module docstring)."""
    from model.evaluate import held_out_lines
    from model.hands import hand_of
    from model.write import WriteConfig, load_writer

    writer = load_writer(folder)
    held_out = held_out_lines(folder)
    primes = [next(line for line in held_out if hand_of(line) == hand) for hand in SynthConfig().fonts]
    after = [item.line for item in writer.write([SENTENCE] * len(primes), WriteConfig(seed=seed), prime=primes)]
    columns = {"prime: a held-out line of each hand": primes, "written after it (bias 1)": after}
    if writer.hands:
        columns["told that hand, no prime"] = [writer.write([SENTENCE], WriteConfig(seed=seed, hand=hand_of(prime)))[0]
                                               .line for prime in primes]
    photograph(columns, str(Path(folder) / "hands.png"))
    written = [item.line for item in writer.write(list(SAMPLE_TEXTS), WriteConfig(seed=seed))]
    half = len(written) // 2
    photograph({"written at bias 1": written[:half], "": written[half:]}, str(Path(folder) / "samples.png"))


def photograph(columns: dict[str, list[data.Line]], out: str) -> None:
    """The picture of these columns, taken by headless Chromium into `out`."""
    text, width, height = svg(columns)
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "picture.svg"
        page.write_text(text)
        shot = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                               f"--screenshot={Path(out).resolve()}", f"--window-size={width},{height}",
                               page.as_uri()], capture_output=True, text=True)
    if shot.returncode != 0:
        sys.exit(f"error: {CHROMIUM} could not take the picture (exit {shot.returncode}): install chromium")
    print(out)


if __name__ == "__main__":
    main()
