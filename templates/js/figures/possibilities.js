// @ts-check
/**
 * The possibility space (Carter, Ha, Johnson, Olah, Distill 2016; the model is Graves 2013,
 * section 4.2): at every point of a line, 50 continuations the model could have written from the
 * state it is in after reading the line up to that point, coloured by which way they veer.
 *
 * Colour convention. The page's y axis grows downward, so the usual "counter-clockwise is
 * positive" flips: with cross = path × future = px·fy − py·fx in screen coordinates, cross > 0
 * means the future is turned clockwise as seen on screen, which is to the right of a pen
 * travelling along the path. Right is blue, left is orange (a pair colour-blind readers tell
 * apart), and the larger the angle, the more
 * saturated the colour. For the k-th point of a future from point i, "the path" is the chord
 * from point i to point i + k of the actual line, so a future is judged against what the writer
 * did over the same number of steps.
 *
 * The build (generator/figures/possibilities.py) inlines the first line's default view and
 * writes the others, and every line's mixtures, under data/possibilities/. Any other setting
 * is sampled here through model-client.js, point by point from the start of the line; changing
 * a control aborts the computation in flight. The root element keeps data-drawn-points (line
 * points whose futures are drawn), data-drawn-futures (futures drawn), data-state (idle,
 * loading, computing, done or failed), data-hairs-box (where the drawn futures reach, CSS pixels:
 * left right top bottom) and, once done, data-shown ("line/steps/variation").
 */
import {figureData, figureRoot, onWidthChange, part, whenNear} from "../figure.js";
import {extent, fitCanvas, paintPoints} from "../ink.js";

/**
 * @typedef {import("../handwriting.js").Point} Point
 * @typedef {{dtype: "int8" | "int16" | "bits", scale?: number, shape: number[], data: string}} Packed
 *   a quantised array as the build writes it (generator/figures/possibilities.py `pack`)
 * @typedef {Omit<Packed, "data"> & {file: string}} PackedFile  one whose bytes are a file of their own
 *   beside the view (`futures_file`)
 * @typedef {Float32Array | Uint8Array} Unpacked  numbers (NaN where missing), or bits
 * @typedef {Record<string, Unpacked>} MixtureRows  per point: pi, mu1, mu2, logSigma1, logSigma2, rho
 *   (points x M, row-major) and eos
 * @typedef {object} RawView  one line's view as the build writes it
 * @property {string} name
 * @property {Packed} points
 * @property {Packed} pen
 * @property {number} steps
 * @property {number} count
 * @property {PackedFile} futures
 * @property {Packed} futurePen
 * @property {Packed} nll
 * @property {Packed} entropy
 * @property {Packed} eos
 * @property {{index: number, mixture: Record<string, Packed>}} middle
 * @typedef {object} View  one line's view, decoded (decodeView)
 * @property {string} name
 * @property {number} length  points
 * @property {Unpacked} offsets  dx, dy per point
 * @property {Unpacked} pen
 * @property {Float64Array} xs  each point's position, model units from the start
 * @property {Float64Array} ys
 * @property {number} steps  of the precomputed futures
 * @property {number} count  precomputed futures per point
 * @property {Unpacked} futures
 * @property {Unpacked} futurePen
 * @property {Unpacked} nll
 * @property {Unpacked} entropy
 * @property {Unpacked} eos
 * @property {{index: number, mixture: MixtureRows}} middle  the inset before any hover
 * @property {Point[]} points  the line as the model reads it
 * @typedef {object} Futures  the futures of a view, as far as they are sampled
 * @property {number} count  per point
 * @property {number} steps  per future
 * @property {ArrayLike<number> & {[index: number]: number}} offsets  dx, dy per step, point-major
 * @property {ArrayLike<number> & {[index: number]: number}} pen
 * @property {number} ready  points whose futures are in
 * @typedef {{minX: number, maxX: number, minY: number, maxY: number}} Bounds  model units
 * @typedef {object} Place  the scale and placement of a drawing (layout)
 * @property {number} scale  CSS pixels per model unit
 * @property {Bounds} bounds  what the drawing holds
 * @property {number} width  CSS pixels
 * @property {number} height
 * @property {(x: number) => number} px  model units to CSS pixels
 * @property {(y: number) => number} py
 * @typedef {object} Data  the figure's inlined settings
 * @property {RawView} first  the first line's default view
 * @property {number} steps  the default's
 * @property {number} temperature  the default's
 * @property {number} futures  futures per point
 * @property {number} seed
 * @property {number} mixtures  M
 * @property {{fork?: Fork | null}} [observed]  what the article says of the first views
 * @typedef {object} Fork  the clearest split of the futures in the first views (the build's `observations`)
 * @property {number} lineIndex
 * @property {number} point  counted from 1
 * @property {{count: number, end: [number, number]}[]} bundles  futures in each, where they end on average
 * @typedef {{view: View, futures: Futures, drawn: number, place?: Place, lineIndex: number,
 *   fork: Fork | null}} Shown  fork: the one to mark on this view, if any
 */

const DATA_URL = new URL("../../../data/possibilities/", import.meta.url);
/** @type {Point} */
const START_POINT = [0, 0, 0];
const BLUE_HUE = 205;
const ORANGE_HUE = 28;
const NEUTRAL = "hsl(0 0% 60%)";
const LEVELS = 6; // saturation steps: few distinct colours, so a whole view is a dozen strokes
const PALETTE = [ORANGE_HUE, BLUE_HUE].map((hue) =>
  Array.from({length: LEVELS}, (_, level) => `hsl(${hue} ${30 + level * 14}% ${50 - level * 3}%)`));
const HAIR_OPACITY = 0.15;  // each hair faint, so where many agree the ink is dense
const LINE_INK = "#1d1d1f";
const LIFT_INK = "hsl(330 60% 45%)";
const LIFT_RADIUS_PX = 9;  // a circle of this radius: the pen certainly lifts next
// A legible scale whatever the line's length: hairs a few steps long stay tens of pixels long
// and apart, at least the original's (its images of a line are 350 px tall); a long line scrolls
// sideways instead of shrinking to the figure's width.
const MAX_PX_PER_UNIT = 24;
const MAX_HEIGHT_PX = 380;
const MARGIN_UNITS = 1; // room around the line and its futures
const STRIP_ROW_PX = 12;
/** @type {[number, number]} */
const NLL_RANGE = [-4, 4]; // nats per point (density per model unit²), light to dark
// Surprise as the article states it: bits for the pen landing on its point to the nearest raw
// pen unit, 40 to a model unit (generator/figures/possibilities.py, RAW_GRID_BITS).
const RAW_GRID_BITS = 2 * Math.log2(40);
const bits = (/** @type {number} */ nats) => nats / Math.LN2;
const HOVER_RADIUS_PX = 30;
const SLIDER_SETTLE_MS = 150;

/**
 * The colour of a future's point: its displacement (futureDx, futureDy) from the point it
 * starts at, against the actual path's displacement (pathDx, pathDy) over the same steps.
 * Screen coordinates (y down): turned clockwise on screen = right = blue, else orange.
 */
/**
 * @param {number} pathDx
 * @param {number} pathDy
 * @param {number} futureDx
 * @param {number} futureDy
 */
export function veerColour(pathDx, pathDy, futureDx, futureDy) {
  const cross = pathDx * futureDy - pathDy * futureDx;
  const dot = pathDx * futureDx + pathDy * futureDy;
  if (cross === 0 && dot === 0) return NEUTRAL; // one of them has no direction
  const angle = Math.atan2(cross, dot);
  const level = Math.round(Math.min(1, Math.abs(angle) / (Math.PI / 2)) * (LEVELS - 1));
  return PALETTE[angle > 0 ? 1 : 0][level];
}

/** The 1-sigma ellipse of a bivariate normal: radii along its principal axes and their angle. */
/**
 * @param {number} sigma1
 * @param {number} sigma2
 * @param {number} rho
 */
export function ellipseAxes(sigma1, sigma2, rho) {
  const a = sigma1 * sigma1;
  const b = rho * sigma1 * sigma2;
  const c = sigma2 * sigma2;
  const spread = Math.hypot((a - c) / 2, b);
  return {
    rx: Math.sqrt((a + c) / 2 + spread),
    ry: Math.sqrt(Math.max(0, (a + c) / 2 - spread)),
    angle: 0.5 * Math.atan2(2 * b, a - c),
  };
}

/** @param {string} data  base64 */
function base64Bytes(data) {
  return Uint8Array.from(atob(data), (char) => char.charCodeAt(0));
}

/** The build's quantised arrays (generator/figures/possibilities.py `pack`) as numbers. */
/**
 * @param {Packed | PackedFile} packed
 * @param {Uint8Array} [bytes]  a PackedFile's file
 * @returns {Unpacked}
 */
export function unpack(packed, bytes = base64Bytes(/** @type {Packed} */ (packed).data)) {
  const {dtype, scale} = packed;
  if (dtype === "bits") {
    const bits = new Uint8Array(bytes.length * 8);
    bits.forEach((_, i) => { bits[i] = (bytes[i >> 3] >> (7 - (i & 7))) & 1; });
    return bits;
  }
  const ints = dtype === "int8" ? new Int8Array(bytes.buffer) : new Int16Array(bytes.buffer);
  const missing = dtype === "int8" ? -128 : -32768;
  return Float32Array.from(ints, (q) => (q === missing ? NaN : q / scale));
}

/** An object of packed arrays (a mixture), each unpacked. */
/**
 * @param {Record<string, Packed>} packed
 * @returns {MixtureRows}
 */
function unpackAll(packed) {
  return Object.fromEntries(Object.entries(packed).map(([name, value]) => [name, unpack(value)]));
}

/**
 * The futures file's step-major layout (steps, 2, points, futures) in the figure's order,
 * (points, futures, steps, 2).
 * @param {Unpacked} stored
 * @param {number[]} shape  stored's
 * @returns {Float32Array}
 */
export function pointMajor(stored, [steps, coordinates, points, count]) {
  const futures = new Float32Array(stored.length);
  stored.forEach((value, index) => {
    const future = index % count;
    const point = Math.floor(index / count) % points;
    const coordinate = Math.floor(index / (count * points)) % coordinates;
    const step = Math.floor(index / (count * points * coordinates));
    futures[((point * count + future) * steps + step) * coordinates + coordinate] = value;
  });
  return futures;
}

/**
 * @param {RawView} raw
 * @param {ArrayBuffer} futures  the bytes of raw.futures.file
 * @returns {View}
 */
function decodeView(raw, futures) {
  const length = raw.points.shape[0];
  const offsets = unpack(raw.points);
  const pen = unpack(raw.pen);
  const xs = new Float64Array(length);
  const ys = new Float64Array(length);
  let x = 0;
  let y = 0;
  for (let i = 0; i < length; i++) {
    x += offsets[2 * i];
    y += offsets[2 * i + 1];
    xs[i] = x;
    ys[i] = y;
  }
  return {
    name: raw.name, length, offsets, pen, xs, ys,
    steps: raw.steps, count: raw.count,
    futures: pointMajor(unpack(raw.futures, new Uint8Array(futures)), raw.futures.shape),
    futurePen: unpack(raw.futurePen),
    nll: unpack(raw.nll), entropy: unpack(raw.entropy), eos: unpack(raw.eos),
    middle: {index: raw.middle.index, mixture: unpackAll(raw.middle.mixture)},  // the inset before any hover
    // The line's points as the model reads them: [dx, dy, pen_up] in model units.
    points: Array.from({length}, (_, i) => /** @type {Point} */ ([offsets[2 * i], offsets[2 * i + 1], pen[i]])),
  };
}

/** Where the futures of points [from, to) reach: {minX, maxX, minY, maxY} in model units. */
/**
 * @param {View} view
 * @param {Futures} futures
 * @param {number} from
 * @param {number} to
 * @returns {Bounds}
 */
function futuresBounds(view, futures, from, to) {
  const {count, steps, offsets} = futures;
  const bounds = {minX: Infinity, maxX: -Infinity, minY: Infinity, maxY: -Infinity};
  for (let i = from; i < to; i++) {
    for (let j = 0; j < count; j++) {
      const base = (i * count + j) * steps;
      let [x, y] = [view.xs[i], view.ys[i]];
      for (let k = 0; k < steps; k++) {
        x += offsets[2 * (base + k)];
        y += offsets[2 * (base + k) + 1];
        bounds.minX = Math.min(bounds.minX, x);
        bounds.maxX = Math.max(bounds.maxX, x);
        bounds.minY = Math.min(bounds.minY, y);
        bounds.maxY = Math.max(bounds.maxY, y);
      }
    }
  }
  return bounds;
}

/** Whether bounds lie inside the drawing's bounds. */
/** @type {(bounds: Bounds, drawn: Bounds) => boolean} */
const inside = (bounds, drawn) => bounds.minX >= drawn.minX && bounds.maxX <= drawn.maxX
  && bounds.minY >= drawn.minY && bounds.maxY <= drawn.maxY;

/**
 * Scale and placement for the line and the futures drawn so far (reach), so that no hair is
 * cut off: the line's extent from its first point (the offset into it comes from nowhere in
 * particular) joined with the futures', plus a margin. The scale depends on the height only:
 * the drawing is as wide as it needs (at least widthPx), and scrolls.
 */
/**
 * @param {View} view
 * @param {number} widthPx
 * @param {Bounds} reach
 * @returns {Place}
 */
function layout(view, widthPx, reach) {
  const box = extent(view.points.slice(1));
  const minX = Math.min(view.xs[0] + box.left, reach.minX);
  const maxX = Math.max(view.xs[0] + box.right, reach.maxX);
  const minY = Math.min(view.ys[0] + box.top, reach.minY);
  const maxY = Math.max(view.ys[0] + box.bottom, reach.maxY);
  const scale = Math.min(MAX_PX_PER_UNIT, MAX_HEIGHT_PX / (maxY - minY + 2 * MARGIN_UNITS));
  return {
    scale,
    bounds: {minX: minX - MARGIN_UNITS, maxX: maxX + MARGIN_UNITS,
      minY: minY - MARGIN_UNITS, maxY: maxY + MARGIN_UNITS},
    width: Math.max(widthPx, Math.ceil((maxX - minX + 2 * MARGIN_UNITS) * scale)),
    height: Math.ceil((maxY - minY + 2 * MARGIN_UNITS) * scale),
    px: (x) => (x - minX + MARGIN_UNITS) * scale,
    py: (y) => (y - minY + MARGIN_UNITS) * scale,
  };
}

/** Strokes the futures of points [from, to): one path per colour, so a whole view is quick. */
/**
 * @param {CanvasRenderingContext2D} context
 * @param {View} view
 * @param {Futures} futures
 * @param {number} from
 * @param {number} to
 * @param {Place} place
 */
function drawFutures(context, view, futures, from, to, place) {
  const {xs, ys, length} = view;
  const {count, steps, offsets, pen} = futures;
  const paths = new Map();
  for (let i = from; i < to; i++) {
    for (let j = 0; j < count; j++) {
      const base = (i * count + j) * steps;
      let x = xs[i];
      let y = ys[i];
      let penUp = view.pen[i];
      for (let k = 0; k < steps; k++) {
        const nextX = x + offsets[2 * (base + k)];
        const nextY = y + offsets[2 * (base + k) + 1];
        if (!penUp) {
          const along = Math.min(i + k + 1, length - 1);
          const reference = along > i ? along : Math.max(i - 1, 0); // at the end, the last heading
          const sign = along > i ? 1 : -1;
          const colour = veerColour(sign * (xs[reference] - xs[i]), sign * (ys[reference] - ys[i]),
            nextX - xs[i], nextY - ys[i]);
          if (!paths.has(colour)) paths.set(colour, new Path2D());
          const path = paths.get(colour);
          path.moveTo(place.px(x), place.py(y));
          path.lineTo(place.px(nextX), place.py(nextY));
        }
        penUp = pen[base + k];
        x = nextX;
        y = nextY;
      }
    }
  }
  context.save();
  context.globalAlpha = HAIR_OPACITY;
  context.lineWidth = 1;
  for (const [colour, path] of paths) {
    context.strokeStyle = colour;
    context.stroke(path);
  }
  context.restore();
}

/** The line, thin, with a dot at each point and a circle sized by the pen-lift chance (eos). */
/**
 * @param {CanvasRenderingContext2D} context
 * @param {View} view
 * @param {Place} place
 */
function drawLine(context, view, place) {
  paintPoints(context, view.points, {x: place.px(0), y: place.py(0), scale: place.scale, penUp: 1,
    colour: LINE_INK, width: 1});
  context.fillStyle = LINE_INK;
  for (let i = 0; i < view.length; i++) {
    context.beginPath();
    context.arc(place.px(view.xs[i]), place.py(view.ys[i]), 1.4, 0, 2 * Math.PI);
    context.fill();
  }
  context.strokeStyle = LIFT_INK;
  context.lineWidth = 1;
  for (let i = 0; i < view.length; i++) {
    const radius = LIFT_RADIUS_PX * Math.sqrt(view.eos[i]);  // area in proportion to the chance
    if (radius < 1) continue;
    context.beginPath();
    context.arc(place.px(view.xs[i]), place.py(view.ys[i]), radius, 0, 2 * Math.PI);
    context.stroke();
  }
}

/**
 * The fork the article points to: from its point an arrow to where each bundle of futures ends
 * on average, labelled with how many futures it holds (the higher arrow's label above it).
 * @param {CanvasRenderingContext2D} context
 * @param {View} view
 * @param {Place} place
 * @param {Fork} fork
 */
function drawFork(context, view, place, fork) {
  const i = fork.point - 1;
  const [x, y] = [place.px(view.xs[i]), place.py(view.ys[i])];
  const ends = fork.bundles.map(({end: [dx, dy]}) => [x + dx * place.scale, y + dy * place.scale]);
  const topmost = ends[0][1] <= ends[1][1] ? 0 : 1;
  context.save();
  context.strokeStyle = LINE_INK;
  context.fillStyle = LINE_INK;
  context.lineWidth = 1.5;
  context.font = "bold 13px sans-serif";
  context.beginPath();
  context.arc(x, y, 7, 0, 2 * Math.PI);
  context.stroke();
  fork.bundles.forEach(({count}, k) => {
    const [endX, endY] = ends[k];
    const angle = Math.atan2(endY - y, endX - x);
    context.beginPath();
    context.moveTo(x, y);
    context.lineTo(endX, endY);
    for (const side of [-1, 1]) {  // the arrowhead
      context.moveTo(endX, endY);
      context.lineTo(endX - 7 * Math.cos(angle + side * 0.45), endY - 7 * Math.sin(angle + side * 0.45));
    }
    context.stroke();
    context.textAlign = endX >= x ? "left" : "right";
    context.textBaseline = k === topmost ? "bottom" : "top";
    context.lineWidth = 4;
    context.strokeStyle = "#fff";
    const label = `${count} futures`;
    const [labelX, labelY] = [endX + (endX >= x ? 4 : -4), endY + (k === topmost ? -3 : 3)];
    context.strokeText(label, labelX, labelY);
    context.fillText(label, labelX, labelY);
    context.strokeStyle = LINE_INK;
    context.lineWidth = 1.5;
  });
  context.restore();
}

/**
 * Two rows under the line, aligned with it: surprise (NLL) above, spread (entropy of the
 * mixture weights, at most log M, all M components equally likely) below.
 */
/**
 * @param {CanvasRenderingContext2D} context
 * @param {View} view
 * @param {Place} place
 * @param {number} mixtures  M
 */
function drawStrip(context, view, place, mixtures) {
  /** @type {[Unpacked, [number, number], number][]} values, their range, a hue */
  const rows = [[view.nll, NLL_RANGE, 265], [view.entropy, [0, Math.log(mixtures)], 195]];
  const barWidth = Math.max(2, place.scale * 0.4);
  rows.forEach(([values, [low, high], hue], row) => {
    const top = row * (STRIP_ROW_PX + 2);
    context.fillStyle = "#f4f4f4";
    context.fillRect(0, top, place.width, STRIP_ROW_PX);
    // Higher values are drawn last, so where points overlap the strip shows the highest.
    const order = Array.from(values.keys()).filter((i) => Number.isFinite(values[i]))
      .sort((a, b) => values[a] - values[b]);
    for (const i of order) {
      const level = Math.min(1, Math.max(0, (values[i] - low) / (high - low)));
      context.fillStyle = `hsl(${hue} 55% ${92 - level * 62}%)`;
      context.fillRect(place.px(view.xs[i]) - barWidth / 2, top, barWidth, STRIP_ROW_PX);
    }
  });
}

/**
 * Where the inset looks: at the likeliest clouds, nine tenths of the weight, and the point that
 * came next, centred on them and spanning 3 sigma around each. Centred on the pen instead, a
 * confident model's clouds (a hundredth of a step wide) were a dot; a faint wide cloud of 1%
 * setting the scale did the same.
 * @param {(name: string, k: number) => number} at  component k's parameter
 * @param {number} M
 * @param {number[]} next  the offset that came next, if any
 * @returns {{centre: number[], extent: number}}  model units from the pen; half the inset's width
 */
function mixtureFrame(at, M, next) {
  const likeliest = Array.from({length: M}, (_, k) => k).sort((a, b) => at("pi", b) - at("pi", a));
  /** @type {number[]} */
  const chosen = [];
  for (let weight = 0, n = 0; weight < 0.9 && n < M; n++) {
    chosen.push(likeliest[n]);
    weight += at("pi", likeliest[n]);
  }
  const total = chosen.reduce((sum, k) => sum + at("pi", k), 0);
  const centre = ["mu1", "mu2"].map((name) => chosen.reduce((sum, k) => sum + at("pi", k) * at(name, k), 0) / total);
  let extent = 1e-3;
  if (next) extent = Math.max(extent, Math.abs(next[0] - centre[0]), Math.abs(next[1] - centre[1]));
  for (const k of chosen) {
    const reach = 3 * Math.exp(Math.max(at("logSigma1", k), at("logSigma2", k)));
    extent = Math.max(extent, Math.abs(at("mu1", k) - centre[0]) + reach, Math.abs(at("mu2", k) - centre[1]) + reach);
  }
  return {centre, extent};
}

/**
 * The mixture predicted after point i of view, read from row `row` of `mixture`: its clouds, the
 * point that came next (a dot) and a grey line from where the pen is, which may lie outside.
 * @param {HTMLCanvasElement} canvas
 * @param {MixtureRows} mixture
 * @param {number} row
 * @param {View} view
 * @param {number} i
 */
function drawMixture(canvas, mixture, row, view, i) {
  const {context} = fitCanvas(canvas, 160, 160);
  const M = mixture.pi.length / mixture.eos.length;
  const at = (/** @type {string} */ name, /** @type {number} */ k) => mixture[name][row * M + k];
  const next = i + 1 < view.length ? [view.offsets[2 * (i + 1)], view.offsets[2 * (i + 1) + 1]] : null;
  const {centre, extent} = mixtureFrame(at, M, next);
  const scale = 72 / extent;
  context.translate(80 - centre[0] * scale, 80 - centre[1] * scale);  // the pen at (0, 0)
  context.strokeStyle = "#bbb";
  context.beginPath();
  context.moveTo(0, 0);
  context.lineTo(centre[0] * scale, centre[1] * scale);
  context.stroke();
  for (let k = 0; k < M; k++) {
    const {rx, ry, angle} = ellipseAxes(Math.exp(at("logSigma1", k)), Math.exp(at("logSigma2", k)), at("rho", k));
    context.beginPath();
    context.ellipse(at("mu1", k) * scale, at("mu2", k) * scale, Math.max(rx * scale, 1), Math.max(ry * scale, 1),
      angle, 0, 2 * Math.PI);
    context.fillStyle = `hsl(220 60% 45% / ${0.85 * at("pi", k)})`;
    context.fill();
  }
  if (next) { // the point that actually came next
    context.fillStyle = "#1d1d1f";
    context.beginPath();
    context.arc(next[0] * scale, next[1] * scale, 3, 0, 2 * Math.PI);
    context.fill();
  }
}

/** The figure: its controls, the drawing of the shown view, and the model for other settings. */
class Possibilities {
  /**
   * @param {HTMLElement} root
   * @param {Data} data
   */
  constructor(root, data) {
    this.root = root;
    this.data = data;
    this.select = part(root, ".poss-line-select", HTMLSelectElement);
    this.stepsInput = part(root, ".poss-steps", HTMLInputElement);
    this.variationInput = part(root, ".poss-variation", HTMLInputElement);
    this.status = part(root, ".poss-status", HTMLElement);
    this.stage = part(root, ".poss-stage", HTMLElement);
    this.futuresCanvas = part(root, ".poss-futures", HTMLCanvasElement);
    this.lineCanvas = part(root, ".poss-line", HTMLCanvasElement);
    this.marksCanvas = part(root, ".poss-marks", HTMLCanvasElement);
    this.stripCanvas = part(root, ".poss-strip", HTMLCanvasElement);
    this.mixtureCanvas = part(root, ".poss-mixture", HTMLCanvasElement);
    this.readout = part(root, ".poss-readout", HTMLElement);
    this.idleReadout = this.readout.textContent;
    this.scroller = part(root, ".poss-scroll", HTMLElement);
    /** @type {Map<number, Promise<View>>} */
    this.views = new Map([[0, this.withFutures(data.first)]]);
    /** @type {Map<number, Promise<MixtureRows>>} */
    this.mixtures = new Map();
    /** @type {AbortController | null} */
    this.controller = null;
    /** @type {Shown | null} */
    this.shown = null;
    this.settleTimer = 0;
  }

  mount() {
    const {root, data} = this;
    // The strips' keys: what their lightest and darkest shades stand for, in bits.
    const surprise = NLL_RANGE.map((nats) => (bits(nats) + RAW_GRID_BITS).toFixed(1));
    part(root, ".poss-surprise-low", HTMLElement).textContent = `≤ ${surprise[0]}`;
    part(root, ".poss-surprise-high", HTMLElement).textContent = `≥ ${surprise[1]}`;
    part(root, ".poss-spread-low", HTMLElement).textContent = "0";
    part(root, ".poss-spread-high", HTMLElement).textContent =
      `${Math.log2(data.mixtures).toFixed(1)} (all ${data.mixtures} alike)`;
    root.querySelector(".poss-fork-button")?.addEventListener("click", () => this.showFork());
    this.select.addEventListener("change", () => {
      this.readout.textContent = this.idleReadout;
      fitCanvas(this.mixtureCanvas, 160, 160);
      this.run();
    });
    for (const input of [this.stepsInput, this.variationInput]) {
      input.addEventListener("input", () => {
        input.nextElementSibling.textContent = input === this.stepsInput ? input.value : Number(input.value).toFixed(2);
        clearTimeout(this.settleTimer);
        this.settleTimer = setTimeout(() => this.run(), SLIDER_SETTLE_MS); // wait for the slider to settle
      });
    }
    for (const type of /** @type {const} */ (["pointermove", "pointerdown"])) {  // pointerdown: a tap
      this.futuresCanvas.addEventListener(type, (event) => this.hover(event).catch((error) => console.error(error)));
    }
    onWidthChange(this.stage, () => this.shown && this.redraw());
    this.run();
  }

  /** @param {string} name  a file under data/possibilities/ */
  fetchData(name) {
    return fetch(new URL(name, DATA_URL)).then((response) => {
      if (!response.ok) throw new Error(`${name}: HTTP ${response.status}; rebuild the site`);
      return response;
    });
  }

  /** @param {string} name */
  fetchJson(name) {
    return this.fetchData(name).then((response) => response.json());
  }

  /**
   * A view decoded once its futures' file has arrived.
   * @param {RawView} raw
   * @returns {Promise<View>}
   */
  withFutures(raw) {
    return this.fetchData(raw.futures.file).then((response) => response.arrayBuffer())
      .then((futures) => decodeView(raw, futures));
  }

  /** @param {number} index */
  viewOf(index) {
    if (!this.views.has(index)) {
      this.views.set(index, this.fetchJson(`line-${index}.json`).then((raw) => this.withFutures(raw)));
    }
    return this.views.get(index);
  }

  /** @param {number} index */
  mixtureOf(index) {
    if (!this.mixtures.has(index)) {
      this.mixtures.set(index, this.fetchJson(`mixture-${index}.json`).then(unpackAll));
    }
    return this.mixtures.get(index);
  }

  /** @param {number} points  whose futures are drawn */
  setDrawn(points) {
    const {root, shown} = this;
    shown.drawn = points;
    root.dataset.drawnPoints = String(points);
    root.dataset.drawnFutures = String(points * shown.futures.count);
    // Where the drawn hairs reach, in CSS pixels of the futures canvas (left right top bottom).
    const {place, view, futures} = shown;
    const reach = futuresBounds(view, futures, 0, points);
    root.dataset.hairsBox = points ? [place.px(reach.minX), place.px(reach.maxX), place.py(reach.minY),
      place.py(reach.maxY)].map((value) => value.toFixed(1)).join(" ") : "";
  }

  /** Lays out and draws the line, the strip and whatever futures have arrived so far. */
  redraw() {
    const {view, futures} = this.shown;
    const place = layout(view, this.stage.clientWidth || 600, futuresBounds(view, futures, 0, futures.ready));
    this.shown.place = place;
    const futuresContext = fitCanvas(this.futuresCanvas, place.height, place.width).context;
    const lineContext = fitCanvas(this.lineCanvas, place.height, place.width).context;
    drawLine(lineContext, view, place);
    const {fork} = this.shown;
    if (fork) drawFork(lineContext, view, place, fork);
    const at = fork ? fork.point - 1 : -1;
    this.root.dataset.fork = fork ? `${place.px(view.xs[at]).toFixed(1)} ${place.py(view.ys[at]).toFixed(1)}` : "";
    fitCanvas(this.marksCanvas, place.height, place.width);
    drawStrip(fitCanvas(this.stripCanvas, 2 * STRIP_ROW_PX + 2, place.width).context, view, place,
      this.data.mixtures);
    drawFutures(futuresContext, view, futures, 0, futures.ready, place);
    this.setDrawn(futures.ready);
  }

  run() {
    this.show().catch((error) => {
      this.root.dataset.state = "failed";
      this.status.textContent = `could not draw this view: ${error.message}`;
      console.error(error);
    });
  }

  /** Shows the controls' view: the precomputed one, or one sampled here, aborting any before. */
  async show() {
    const {root, data} = this;
    this.controller?.abort();
    this.controller = new AbortController();
    const {signal} = this.controller;
    const lineIndex = Number(this.select.value);
    const steps = Number(this.stepsInput.value);
    const variation = this.variationInput.value;
    const temperature = Number(variation);
    /** @param {string} message */
    const finish = (message) => {
      root.dataset.state = "done";
      root.dataset.shown = `${lineIndex}/${steps}/${variation}`;
      this.status.textContent = message;
    };
    root.dataset.state = "loading";
    const view = await this.viewOf(lineIndex);
    if (signal.aborted) return;
    const precomputed = steps === data.steps && Math.abs(temperature - data.temperature) < 1e-6;
    /** @type {Futures} */
    const futures = precomputed
      ? {count: view.count, steps, offsets: view.futures, pen: view.futurePen, ready: view.length}
      : {count: data.futures, steps, ready: 0,
        offsets: new Float32Array(view.length * data.futures * steps * 2),
        pen: new Uint8Array(view.length * data.futures * steps)};
    // The fork the article points to is marked on the view it was measured on, and centred.
    const fork = precomputed && data.observed?.fork?.lineIndex === lineIndex ? data.observed.fork : null;
    this.shown = {view, futures, drawn: 0, lineIndex, fork};
    this.redraw();
    this.scroller.scrollLeft = fork ? this.shown.place.px(view.xs[fork.point - 1]) - this.scroller.clientWidth / 2 : 0;
    // A prediction in the inset before any hover: the fork's, or the middle point's, which the view carries.
    this.showPoint(fork ? fork.point - 1 : view.middle.index).catch((error) => console.error(error));
    if (precomputed) {
      finish("sampled ahead of time");
      return;
    }
    if (await this.sample(view, futures, temperature, signal)) {
      finish(`sampled in your browser (${view.length} points × ${data.futures} futures)`);
    }
  }

  /**
   * Samples the futures of every point of view into `futures` through the model, drawing
   * them as they arrive; resolves whether it finished (false once aborted).
   * @param {View} view
   * @param {Futures} futures
   * @param {number} temperature
   * @param {AbortSignal} signal
   */
  async sample(view, futures, temperature, signal) {
    const {data} = this;
    const {steps} = futures;
    this.root.dataset.state = "computing";
    this.status.textContent = "loading the model…";
    const {getModel} = await import("../model-client.js"); // only needed off the default view
    const model = await getModel();
    const {state} = await model.step([START_POINT]); // the zero-start convention of the build
    if (signal.aborted) return false;
    let frame = 0;
    const paint = () => {
      frame = 0;
      this.paintArrived(view, futures);
    };
    const finished = await model.futures(view.points,
      {steps, count: data.futures, temperature, seed: data.seed, state, signal}, (i, sampled) => {
        sampled.forEach((future, j) => future.forEach(([dx, dy, penUp], k) => {
          const at = (i * data.futures + j) * steps + k;
          futures.offsets[2 * at] = dx;
          futures.offsets[2 * at + 1] = dy;
          futures.pen[at] = penUp;
        }));
        futures.ready = i + 1;
        frame ||= requestAnimationFrame(paint);
      });
    if (!finished || signal.aborted) return false;
    cancelAnimationFrame(frame);
    paint();
    return true;
  }

  /**
   * Draws the futures that arrived since the last frame, if they are still the ones shown.
   * @param {View} view
   * @param {Futures} futures
   */
  paintArrived(view, futures) {
    const {shown} = this;
    if (shown.futures !== futures) return;
    if (inside(futuresBounds(view, futures, shown.drawn, futures.ready), shown.place.bounds)) {
      drawFutures(this.futuresCanvas.getContext("2d"), view, futures, shown.drawn, futures.ready, shown.place);
      this.setDrawn(futures.ready);
    } else {
      this.redraw();  // a hair reaches past the drawing: lay it out again so that none is cut off
    }
    this.status.textContent = `sampling in your browser: ${futures.ready} of ${view.length} points`;
  }

  /** Shows the view the article's fork was measured on: its line at the default settings. */
  showFork() {
    const {data} = this;
    this.select.value = String(data.observed.fork.lineIndex);
    this.stepsInput.value = String(data.steps);
    this.variationInput.value = String(data.temperature);
    for (const input of [this.stepsInput, this.variationInput]) input.dispatchEvent(new Event("input"));
    clearTimeout(this.settleTimer);
    this.run();
  }

  /** @param {PointerEvent} event */
  async hover(event) {
    if (!this.shown?.place) return;
    const bounds = this.futuresCanvas.getBoundingClientRect();
    const {view, place} = this.shown;
    const x = event.clientX - bounds.left;
    const y = event.clientY - bounds.top;
    let best = -1;
    let bestDistance = HOVER_RADIUS_PX;
    for (let i = 0; i < view.length; i++) {
      const distance = Math.hypot(place.px(view.xs[i]) - x, place.py(view.ys[i]) - y);
      if (distance < bestDistance) [best, bestDistance] = [i, distance];
    }
    if (best >= 0) await this.showPoint(best);
  }

  /**
   * Marks point `best` of the shown line and draws the model's prediction there in the inset.
   * @param {number} best
   */
  async showPoint(best) {
    const {view, place, lineIndex} = this.shown;
    const marks = fitCanvas(this.marksCanvas, place.height, place.width).context;
    marks.strokeStyle = "#1a5fb4";
    marks.lineWidth = 2;
    marks.beginPath();
    marks.arc(place.px(view.xs[best]), place.py(view.ys[best]), 5, 0, 2 * Math.PI);
    marks.stroke();
    const atMiddle = best === view.middle.index;  // any other point's mixture is fetched on first hover
    const mixture = atMiddle ? view.middle.mixture : await this.mixtureOf(lineIndex);
    if (this.shown.lineIndex !== lineIndex) return;
    drawMixture(this.mixtureCanvas, mixture, atMiddle ? 0 : best, view, best);
    const nll = view.nll[best];
    this.readout.textContent = `Point ${best + 1} of ${view.length}: the pen lifts next with probability `
      + `${(100 * view.eos[best]).toFixed(1)}%; its weight is spread as over `
      + `${Math.exp(view.entropy[best]).toFixed(1)} equally likely clouds (${bits(view.entropy[best]).toFixed(1)} bits)`
      + (Number.isFinite(nll)
        ? `; the point that came next (dot) surprised the model by ${(bits(nll) + RAW_GRID_BITS).toFixed(1)} bits.`
        : ".");
  }
}

const root = figureRoot("possibilities");
/** @type {Data} */
const data = root ? figureData("possibilities") : {};
// The default view is drawn when the figure comes near the screen, not while the page loads.
if (root && data.first) whenNear(root, () => new Possibilities(root, data).mount(), "400px");
