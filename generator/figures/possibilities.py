"""The possibility space: fifty futures the model could write at every point of a line.

A sample is one draw from the model's distribution over continuations (Graves 2013, section
4.2). The Distill article (Carter, Ha, Johnson, Olah 2016) made that distribution visible by
drawing, at every point of a line, 50 short continuations sampled from the state the model is
in after reading the line up to there. This module precomputes the figure's default view of
every line it offers (generated samples, a straight line, human lines): the futures at the
default steps and temperature, and per point the negative log-likelihood of the actual next
point and the entropy of the mixture weights, for the uncertainty strip. The mixture itself,
shown when the reader hovers a point, goes into a separate file fetched on first hover; the
view carries what is drawn before that (see `at_rest`).

Everything is quantised to small integers and base64 (see `pack`): the first line's view is
inlined into the page, the others are files under site/data/possibilities/. The futures, nine
tenths of a view, go to a binary file of their own (`futures_file`), laid out as gzip compresses
them best: base64 would hide their byte patterns from it, and sorted and step-major they weigh a
tenth less again. Any other setting is computed in the reader's browser
(templates/js/figures/possibilities.js).
"""
from __future__ import annotations

import base64
import math
import zlib
from dataclasses import asdict, dataclass

import numpy as np
from tqdm import tqdm

from generator.cache import fingerprint
from generator.figures import Figure, line_label
from model.base import MODEL_UNIT
from model.network import Runner, mixture, nll_terms


@dataclass
class PossibilitiesConfig:
    """What the figure offers and precomputes; written beside its data as config.json."""

    futures: int = 50  # continuations drawn at every point
    steps: int = 4  # points per continuation in the default view (the page offers 1 to 10)
    temperature: float = 0.65  # the default "variation"
    samples: int = 5  # generated lines offered
    sample_points: int = 300
    sample_temperature: float = 0.5  # neat enough to read as handwriting
    straight_points: int = 100  # the original's straight line: rows of [0.5, 0, 0]
    human_lines: int = 7
    max_points: int = 600  # human lines are cut here, like the original's figure assets
    points_per_batch: int = 40  # points whose futures share one model batch (40 x 50 rows)


STRAIGHT_STEP = (0.5, 0.0, 0.0)

# Quantisation steps, as "value = integer / scale". Offsets in model units are exact at
# 1/40 (raw pen units); futures at 1/20 model unit stay under a pixel at the page's scale
# and fit int8 up to 6.35 units per step, which only rare pen-up jumps exceed (clipped).
LINE_SCALE = MODEL_UNIT
FUTURE_SCALE = 20.0
NLL_SCALE = 100.0
PARAM_SCALE = 1000.0  # mu, log sigma, entropy
UNIT_SCALE = 10000.0  # pi, rho, end-of-stroke probability: values in [-1, 1]


def pack(values, scale: float, dtype: str = "int16") -> dict:
    """values * scale rounded into `dtype`, little-endian base64; the page's `unpack` reverses it.

    NaN (a missing value) becomes the type's minimum, which the page reads back as NaN;
    other values are clipped to the range above it.
    """
    info = np.iinfo(dtype)
    values = np.asarray(values, np.float64)
    ints = np.clip(np.rint(values * scale), info.min + 1, info.max)  # the minimum means NaN
    ints = np.where(np.isnan(values), info.min, ints).astype(np.dtype(dtype).newbyteorder("<"))
    return {"dtype": dtype, "scale": scale, "shape": list(ints.shape),
            "data": base64.b64encode(ints.tobytes()).decode("ascii")}


def pack_bits(flags) -> dict:
    """0/1 flags as bits, most significant bit first, base64."""
    flags = np.asarray(flags) > 0.5
    return {"dtype": "bits", "shape": list(flags.shape),
            "data": base64.b64encode(np.packbits(flags.ravel()).tobytes()).decode("ascii")}


def futures_file(view: dict, name: str) -> bytes:
    """Moves a view's futures out to the binary file `name`; returns its bytes.

    The futures of a point are exchangeable draws, so they are sorted by their first step (their
    pen lifts with them), and stored step-major, (steps, 2, points, futures), so that
    neighbouring bytes are alike; the view keeps that shape and `file` in place of `data`.
    """
    futures, pen = unpack(view["futures"]), unpack(view["futurePen"])  # (P, F, S, 2), (P, F, S)
    first = futures[:, :, 0, :]
    order = np.lexsort((first[..., 1], first[..., 0]), axis=-1)[..., None]
    view["futurePen"] = pack_bits(np.take_along_axis(pen, order, axis=1))
    stored = pack(np.take_along_axis(futures, order[..., None], axis=1).transpose(2, 3, 0, 1), FUTURE_SCALE, "int8")
    view["futures"] = {**{key: value for key, value in stored.items() if key != "data"}, "file": name}
    return base64.b64decode(stored["data"])


def unpack(packed: dict, data: bytes | None = None) -> np.ndarray:
    """`pack` or `pack_bits` reversed: floats with NaN where a value was missing, or 0/1 flags;
    `data` is the file's bytes for an array moved out to a file (`futures_file`)."""
    raw = np.frombuffer(base64.b64decode(packed["data"]) if data is None else data, np.uint8)
    if packed["dtype"] == "bits":
        return np.unpackbits(raw)[:int(np.prod(packed["shape"]))].reshape(packed["shape"])
    ints = raw.view(np.dtype(packed["dtype"]).newbyteorder("<")).reshape(packed["shape"])
    return np.where(ints == np.iinfo(ints.dtype).min, np.nan, ints / packed["scale"])


def at_rest(mixture: dict, shown: int | None = None) -> dict:
    """What the figure shows of a line's mixtures before any hover: every point's pen-lift
    probability (the line's circles) and the whole mixture at one point, the inset's (the
    middle point, or `shown`; the page names it `middle`)."""
    middle = len(unpack(mixture["eos"])) // 2 if shown is None else shown
    return {"eos": mixture["eos"], "middle": {
        "index": middle,
        "mixture": {name: pack(unpack(packed)[middle:middle + 1], packed["scale"]) for name, packed in mixture.items()},
    }}


def derive_seed(seed: int, *names) -> int:
    """A 30-bit seed for one use of the build seed, stable across runs and Python versions.

    30 bits leave room to count batches up from it within TensorFlow's int32 seeds.
    """
    return zlib.crc32(repr((seed, *names)).encode()) & 0x3FFFFFFF


def chosen_lines(runner: Runner, ctx, config: PossibilitiesConfig) -> list[dict]:
    """The lines offered, as {"name", "kind", "points" (T, 3) in model units}: samples first."""
    seed = derive_seed(ctx.seed, "possibilities", "samples")
    samples = ctx.cache.memo("possibilities-samples", [asdict(config), seed], lambda: runner.sample(
        config.sample_points, batch=config.samples, temperature=config.sample_temperature, seed=seed))
    lines = [{"name": f"Generated sample {k + 1}", "kind": "sample",
              # round to raw pen units, as every line is stored
              "points": np.concatenate([np.rint(points[:, :2] * MODEL_UNIT) / MODEL_UNIT, points[:, 2:]], axis=1)}
             for k, points in enumerate(samples)]
    lines.append({"name": "A straight line", "kind": "straight",
                  "points": np.tile(np.array(STRAIGHT_STEP, np.float32), (config.straight_points, 1))})
    for k, line in enumerate(ctx.lines[:config.human_lines]):
        lines.append({"name": ctx.words["picker"] + line_label(line, k).removeprefix("line"), "kind": "human",
                      "points": line.model_inputs()[:config.max_points]})
    return lines


def compute_view(runner: Runner, points: np.ndarray, config: PossibilitiesConfig, seed: int,
                 progress: tqdm) -> dict:
    """One line's futures at the default settings, its uncertainty strip and its mixtures.

    The state "at point i" is the one after feeding [0, 0, 0] and points 0..i (the zero-start
    convention); the futures, the mixture, the NLL of point i + 1 and the entropy all read it.
    """
    points = np.asarray(points, np.float32)
    trace = runner.run(np.concatenate([np.zeros((1, 3), np.float32), points]))
    y_after = trace.y[1:]  # y_after[i]: the prediction made after point i
    futures = []
    for batch_index, start in enumerate(range(0, len(points), config.points_per_batch)):
        # Every batch has the same size (the last one repeats the last point), so the
        # sampling loop is traced once.
        after = np.minimum(np.arange(start, start + config.points_per_batch), len(points) - 1) + 1
        state = [(np.repeat(trace.h[after, layer], config.futures, axis=0),
                  np.repeat(trace.c[after, layer], config.futures, axis=0))
                 for layer in range(trace.h.shape[1])]
        drawn = runner.sample(config.steps, batch=len(after) * config.futures,
                              temperature=config.temperature, seed=seed + batch_index, state=state)
        futures.append(drawn.reshape(len(after), config.futures, config.steps, 3))
        progress.update(min(config.points_per_batch, len(points) - start))
    futures = np.concatenate(futures)[:len(points)]

    nll_xy, nll_eos = (np.asarray(term) for term in nll_terms(y_after[:-1], points[1:]))
    nll = np.append(nll_xy + nll_eos, np.nan)  # the last point has no next point to score
    params = mixture(y_after)
    log_pi = np.asarray(params.log_pi)
    entropy = -np.sum(np.exp(log_pi) * log_pi, axis=-1)
    view = {
        "points": pack(points[:, :2], LINE_SCALE), "pen": pack_bits(points[:, 2]),
        "steps": config.steps, "temperature": config.temperature, "count": config.futures,
        "futures": pack(futures[..., :2], FUTURE_SCALE, "int8"), "futurePen": pack_bits(futures[..., 2]),
        "nll": pack(nll, NLL_SCALE), "entropy": pack(entropy, PARAM_SCALE),
    }
    hover = {
        "pi": pack(np.exp(log_pi), UNIT_SCALE),
        "mu1": pack(params.mu1, PARAM_SCALE), "mu2": pack(params.mu2, PARAM_SCALE),
        "logSigma1": pack(params.log_sigma1, PARAM_SCALE), "logSigma2": pack(params.log_sigma2, PARAM_SCALE),
        "rho": pack(params.rho, UNIT_SCALE),
        "eos": pack(1.0 / (1.0 + np.exp(-np.asarray(params.eos_logit)[:, 0])), UNIT_SCALE),
    }
    return {"view": view, "mixture": hover}


# Surprise as the article states it: bits for the pen landing where it did, to the nearest raw
# pen unit (the grid handwriting is recorded on), and lifting or not as it did. The model's NLL
# is a density per model unit² (1 model unit = MODEL_UNIT raw units): 2 log2(MODEL_UNIT) bits more.
RAW_GRID_BITS = 2 * math.log2(MODEL_UNIT)


def surprise_bits(nll_nats) -> np.ndarray:
    return np.asarray(nll_nats) / math.log(2) + RAW_GRID_BITS


def two_bundles(ends: np.ndarray, iterations: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two-means of every point's futures at once, seeded by the two futures farthest apart.

    ends: (points, futures, 2) where each future ends, relative to its point. Returns labels
    (points, futures; True for the second bundle), centres (points, 2, 2) and separation
    (points,): the distance between the centres over the futures' root-mean-square distance
    from their own bundle's centre. Two tight bundles far apart score high: a fork.
    """
    rows = np.arange(len(ends))
    apart = np.linalg.norm(ends[:, :, None] - ends[:, None], axis=-1).reshape(len(ends), -1).argmax(axis=1)
    centres = np.stack([ends[rows, apart // ends.shape[1]], ends[rows, apart % ends.shape[1]]], axis=1)
    for _ in range(iterations):
        labels = (np.linalg.norm(ends - centres[:, 1:], axis=-1) < np.linalg.norm(ends - centres[:, :1], axis=-1))
        weights = np.stack([~labels, labels], axis=1).astype(np.float64)  # (points, 2, futures)
        centres = (weights @ ends) / np.maximum(weights.sum(axis=2, keepdims=True), 1)
    own = np.where(labels[..., None], centres[:, 1:], centres[:, :1])
    spread = np.sqrt(np.mean(np.sum((ends - own) ** 2, axis=-1), axis=1))
    return labels, centres, np.linalg.norm(centres[:, 1] - centres[:, 0], axis=-1) / np.maximum(spread, 1e-9)


def observations(lines: list[dict], views: list[dict]) -> dict:
    """What the article says a reader can check in the figure's first view, measured on it.

    fork: the point of a generated or given line where the futures split most clearly into
    two bundles heading different ways (each at least a fifth of them, no pen lift among them),
    each bundle's count and mean end, and the first point after it where they no longer do
    (separation below the line's median).
    surprise: on the given lines, the mean surprise in bits at a point that continues a stroke
    and at the first point after the pen lifts.
    """
    found = None
    for index, (line, view) in enumerate(zip(lines, views)):
        if line["kind"] == "straight":
            continue
        offsets = unpack(view["futures"])  # (points, futures, steps, 2)
        ends = offsets.sum(axis=2)
        labels, centres, separation = two_bundles(ends)
        smaller = np.minimum(labels.sum(axis=1), (~labels).sum(axis=1))
        lengths = np.linalg.norm(centres, axis=-1).min(axis=1)
        quiet = ~unpack(view["futurePen"]).any(axis=(1, 2)) & ~unpack(view["pen"]).astype(bool)
        fair = quiet & (smaller >= offsets.shape[1] // 5) & (lengths > 0.5)  # both bundles go somewhere
        if not fair.any():
            continue
        point = int(np.flatnonzero(fair)[np.argmax(separation[fair])])
        if found and separation[point] <= found["separation"]:
            continue
        a, b = centres[point]
        later = np.flatnonzero(separation[point + 1:point + 21] < np.median(separation))
        bundles = sorted([(int((~labels[point]).sum()), a), (int(labels[point].sum()), b)],
                         key=lambda bundle: -bundle[0])
        found = {"line": line["name"], "lineIndex": index, "point": point + 1, "separation": float(separation[point]),
                 "sizes": [count for count, _ in bundles],
                 # where each bundle's futures end on average, from the point (model units): the figure draws them
                 "bundles": [{"count": count, "end": [round(float(x), 3), round(float(y), 3)]}
                             for count, (x, y) in bundles],
                 "angle": float(np.degrees(abs(np.angle(complex(*a) / complex(*b))))),
                 "rejoined": int(point + 2 + later[0]) if len(later) else None}
    within, after_lift = [], []
    for line, view in zip(lines, views):
        if line["kind"] == "human":
            bits = surprise_bits(unpack(view["nll"]))[:-1]  # bits[i]: surprise at point i + 1
            lifted = unpack(view["pen"]).astype(bool)[:-1]  # the pen lifted after point i
            within.append(bits[~lifted])
            after_lift.append(bits[lifted])
    surprise = None
    if within and np.concatenate(after_lift).size:
        within, after_lift = np.concatenate(within), np.concatenate(after_lift)
        surprise = {"within": float(within.mean()), "afterLift": float(after_lift.mean()),
                    "points": int(within.size + after_lift.size), "lifts": int(after_lift.size)}
    return {"fork": found, "surprise": surprise}


def build(ctx, config: PossibilitiesConfig | None = None) -> list[Figure]:
    config = config or PossibilitiesConfig()
    runner = ctx.runner
    lines = chosen_lines(runner, ctx, config)
    files: dict[str, dict | bytes] = {"config.json": asdict(config)}
    menu = []
    first_view = None
    views, mixtures = [], []
    progress = tqdm(total=sum(len(line["points"]) for line in lines), desc="possibility space", unit="point")
    for index, line in enumerate(lines):
        seed = derive_seed(ctx.seed, "possibilities", index)
        before = progress.n
        points = line["points"]
        computed = ctx.cache.memo("possibilities-view", [asdict(config), fingerprint(points), seed],
                                  lambda points=points, seed=seed: compute_view(runner, points, config, seed, progress))
        progress.update(before + len(line["points"]) - progress.n)  # all at once when cached
        view = {"name": line["name"], "kind": line["kind"], **computed["view"], **at_rest(computed["mixture"])}
        views.append(view)
        mixtures.append(computed["mixture"])
        files[f"mixture-{index}.json"] = computed["mixture"]
        if index == 0:
            first_view = view
        else:
            files[f"line-{index}.json"] = view
        menu.append({"name": line["name"], "kind": line["kind"], "points": len(line["points"])})
    progress.close()
    observed = observations(lines, views)
    fork = observed.get("fork")
    if fork:  # the inset opens on the fork: its line's view carries that point's mixture, no fetch
        views[fork["lineIndex"]].update(at_rest(mixtures[fork["lineIndex"]], fork["point"] - 1))
    for index, view in enumerate(views):
        name = f"futures-{index}.bin"
        files[name] = futures_file(view, name)
    data = {"lines": menu, "first": first_view, "futures": config.futures, "steps": config.steps,
            "temperature": config.temperature, "mixtures": ctx.config.mixtures,
            "seed": derive_seed(ctx.seed, "possibilities", "page"), "observed": observed}
    return [Figure("possibilities", data=data, files=files)]
