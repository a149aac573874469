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
import {figureData, onWidthChange, whenNear} from "../figure.js";
import {extent, fitCanvas, paintPoints} from "../ink.js";

const DATA_URL = new URL("../../../data/possibilities/", import.meta.url);
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
const MAX_PX_PER_UNIT = 16;
const MAX_HEIGHT_PX = 420;
const MARGIN_UNITS = 1; // room around the line and its futures
const STRIP_ROW_PX = 12;
const NLL_RANGE = [-4, 4]; // nats per point (density per model unit²), light to dark
// Surprise as the article states it: bits for the pen landing on its point to the nearest raw
// pen unit, 40 to a model unit (generator/figures/possibilities.py, RAW_GRID_BITS).
const RAW_GRID_BITS = 2 * Math.log2(40);
const bits = (nats) => nats / Math.LN2;
const HOVER_RADIUS_PX = 30;
const SLIDER_SETTLE_MS = 150;

/**
 * The colour of a future's point: its displacement (futureDx, futureDy) from the point it
 * starts at, against the actual path's displacement (pathDx, pathDy) over the same steps.
 * Screen coordinates (y down): turned clockwise on screen = right = blue, else orange.
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

/** The build's quantised arrays (generator/figures/possibilities.py `pack`) as numbers. */
export function unpack({dtype, scale, data}) {
  const bytes = Uint8Array.from(atob(data), (char) => char.charCodeAt(0));
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
function unpackAll(packed) {
  return Object.fromEntries(Object.entries(packed).map(([name, value]) => [name, unpack(value)]));
}

function decodeView(raw) {
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
    futures: unpack(raw.futures), futurePen: unpack(raw.futurePen),
    nll: unpack(raw.nll), entropy: unpack(raw.entropy), eos: unpack(raw.eos),
    middle: {index: raw.middle.index, mixture: unpackAll(raw.middle.mixture)},  // the inset before any hover
    // The line's points as the model reads them: [dx, dy, pen_up] in model units.
    points: Array.from({length}, (_, i) => [offsets[2 * i], offsets[2 * i + 1], pen[i]]),
  };
}

/** Where the futures of points [from, to) reach: {minX, maxX, minY, maxY} in model units. */
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
const inside = (bounds, drawn) => bounds.minX >= drawn.minX && bounds.maxX <= drawn.maxX
  && bounds.minY >= drawn.minY && bounds.maxY <= drawn.maxY;

/**
 * Scale and placement for the line and the futures drawn so far (reach), so that no hair is
 * cut off: the line's extent from its first point (the offset into it comes from nowhere in
 * particular) joined with the futures', plus a margin.
 */
function layout(view, widthPx, reach) {
  const box = extent(view.points.slice(1));
  const minX = Math.min(view.xs[0] + box.left, reach.minX);
  const maxX = Math.max(view.xs[0] + box.right, reach.maxX);
  const minY = Math.min(view.ys[0] + box.top, reach.minY);
  const maxY = Math.max(view.ys[0] + box.bottom, reach.maxY);
  const scale = Math.min(MAX_PX_PER_UNIT, widthPx / (maxX - minX + 2 * MARGIN_UNITS),
    MAX_HEIGHT_PX / (maxY - minY + 2 * MARGIN_UNITS));
  return {
    scale,
    bounds: {minX: minX - MARGIN_UNITS, maxX: maxX + MARGIN_UNITS,
      minY: minY - MARGIN_UNITS, maxY: maxY + MARGIN_UNITS},
    width: widthPx,
    height: Math.ceil((maxY - minY + 2 * MARGIN_UNITS) * scale),
    px: (x) => (x - minX + MARGIN_UNITS) * scale,
    py: (y) => (y - minY + MARGIN_UNITS) * scale,
  };
}

/** Strokes the futures of points [from, to): one path per colour, so a whole view is quick. */
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

/** The drawn key above the figure: stroke · sampled strokes (both turns) · pen-lift chance. */
function drawKey(canvas) {
  const {context} = fitCanvas(canvas, 20, Math.min(canvas.parentElement.clientWidth || 600, 640));
  context.font = "12px sans-serif";
  context.textBaseline = "middle";
  let x = 2;
  const label = (text) => {
    context.fillStyle = "#555";
    context.fillText(text, x, 10);
    x += context.measureText(text).width + 16;
  };
  paintPoints(context, [[1, -0.3, 0], [1, 0.2, 0], [1, -0.1, 0]], {x, y: 11, scale: 8, colour: LINE_INK, width: 1});
  context.fillStyle = LINE_INK;
  for (const dx of [0, 8, 16, 24]) context.fillRect(x + dx - 1, 10, 2, 2);
  x += 32;
  label("stroke");
  context.save();
  context.globalAlpha = 0.6;
  for (const [hue, dy] of [[0, -4], [1, 4]]) {
    context.strokeStyle = PALETTE[hue][LEVELS - 1];
    context.beginPath();
    context.moveTo(x, 10);
    context.quadraticCurveTo(x + 12, 10, x + 22, 10 + dy);
    context.stroke();
  }
  context.restore();
  x += 28;
  label("sampled strokes (blue: turning right, orange: left)");
  context.strokeStyle = LIFT_INK;
  for (const [dx, r] of [[3, 2], [11, 4], [23, 7]]) {
    context.beginPath();
    context.arc(x + dx, 10, r, 0, 2 * Math.PI);
    context.stroke();
  }
  x += 34;
  label("probability the pen is raised");
}

/**
 * Two rows under the line, aligned with it: surprise (NLL) above, spread (entropy of the
 * mixture weights, at most log M, all M components equally likely) below.
 */
function drawStrip(context, view, place, mixtures) {
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

/** The mixture predicted after point i of view, read from row `row` of `mixture`. */
function drawMixture(canvas, mixture, row, view, i) {
  const {context} = fitCanvas(canvas, 160, 160);
  const M = mixture.pi.length / mixture.eos.length;
  const at = (name, k) => mixture[name][row * M + k];
  let extent = 0.5;
  for (let k = 0; k < M; k++) {
    if (at("pi", k) < 0.01) continue;
    const reach = 2 * Math.exp(Math.max(at("logSigma1", k), at("logSigma2", k)));
    extent = Math.max(extent, Math.abs(at("mu1", k)) + reach, Math.abs(at("mu2", k)) + reach);
  }
  const scale = 72 / extent;
  context.translate(80, 80);
  context.strokeStyle = "#ddd";
  context.beginPath();
  context.moveTo(-80, 0); context.lineTo(80, 0); context.moveTo(0, -80); context.lineTo(0, 80);
  context.stroke();
  for (let k = 0; k < M; k++) {
    const {rx, ry, angle} = ellipseAxes(Math.exp(at("logSigma1", k)), Math.exp(at("logSigma2", k)), at("rho", k));
    context.beginPath();
    context.ellipse(at("mu1", k) * scale, at("mu2", k) * scale, Math.max(rx * scale, 0.5), Math.max(ry * scale, 0.5),
      angle, 0, 2 * Math.PI);
    context.fillStyle = `hsl(220 60% 45% / ${0.85 * at("pi", k)})`;
    context.fill();
  }
  if (i + 1 < view.length) { // the point that actually came next
    context.fillStyle = "#1d1d1f";
    context.beginPath();
    context.arc(view.offsets[2 * (i + 1)] * scale, view.offsets[2 * (i + 1) + 1] * scale, 3, 0, 2 * Math.PI);
    context.fill();
  }
}

function mount(root, data) {
  const select = root.querySelector(".poss-line-select");
  const stepsInput = root.querySelector(".poss-steps");
  const variationInput = root.querySelector(".poss-variation");
  const status = root.querySelector(".poss-status");
  const stage = root.querySelector(".poss-stage");
  const [futuresCanvas, lineCanvas, marksCanvas, stripCanvas] =
    ["futures", "line", "marks", "strip"].map((name) => root.querySelector(`.poss-${name}`));
  const mixtureCanvas = root.querySelector(".poss-mixture");
  const keyCanvas = document.createElement("canvas");
  keyCanvas.className = "poss-drawn-key";
  keyCanvas.setAttribute("aria-label", "Key: stroke, sampled strokes, probability the pen is raised");
  root.querySelector(".poss-body").before(keyCanvas);
  const readout = root.querySelector(".poss-readout");
  const idleReadout = readout.textContent;

  const views = new Map([[0, Promise.resolve(decodeView(data.first))]]);
  const mixtures = new Map();
  let controller = null;
  let shown = null; // {view, futures, drawn, place, lineIndex}
  let settleTimer = 0;

  const fetchJson = (name) => fetch(new URL(name, DATA_URL)).then((response) => {
    if (!response.ok) throw new Error(`${name}: HTTP ${response.status}; rebuild the site`);
    return response.json();
  });
  const viewOf = (index) => {
    if (!views.has(index)) views.set(index, fetchJson(`line-${index}.json`).then(decodeView));
    return views.get(index);
  };
  const mixtureOf = (index) => {
    if (!mixtures.has(index)) {
      mixtures.set(index, fetchJson(`mixture-${index}.json`).then(unpackAll));
    }
    return mixtures.get(index);
  };

  function setDrawn(points) {
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
  function redraw() {
    const {view, futures} = shown;
    const place = layout(view, stage.clientWidth || 600, futuresBounds(view, futures, 0, futures.ready));
    shown.place = place;
    drawKey(keyCanvas);
    const futuresContext = fitCanvas(futuresCanvas, place.height, place.width).context;
    drawLine(fitCanvas(lineCanvas, place.height, place.width).context, view, place);
    fitCanvas(marksCanvas, place.height, place.width);
    drawStrip(fitCanvas(stripCanvas, 2 * STRIP_ROW_PX + 2, place.width).context, view, place, data.mixtures);
    drawFutures(futuresContext, view, futures, 0, futures.ready, place);
    setDrawn(futures.ready);
  }

  async function show() {
    controller?.abort();
    controller = new AbortController();
    const {signal} = controller;
    const lineIndex = Number(select.value);
    const steps = Number(stepsInput.value);
    const variation = variationInput.value;
    const temperature = Number(variation);
    const finish = (message) => {
      root.dataset.state = "done";
      root.dataset.shown = `${lineIndex}/${steps}/${variation}`;
      status.textContent = message;
    };
    root.dataset.state = "loading";
    const view = await viewOf(lineIndex);
    if (signal.aborted) return;
    const precomputed = steps === data.steps && Math.abs(temperature - data.temperature) < 1e-6;
    const futures = precomputed
      ? {count: view.count, steps, offsets: view.futures, pen: view.futurePen, ready: view.length}
      : {count: data.futures, steps, ready: 0,
        offsets: new Float32Array(view.length * data.futures * steps * 2),
        pen: new Uint8Array(view.length * data.futures * steps)};
    shown = {view, futures, drawn: 0, lineIndex};
    redraw();
    // A prediction in the inset before any hover: the middle point's, which the view carries.
    showPoint(view.middle.index).catch((error) => console.error(error));
    if (precomputed) {
      finish("sampled ahead of time");
      return;
    }
    root.dataset.state = "computing";
    status.textContent = "loading the model…";
    const {getModel} = await import("../model-client.js"); // only needed off the default view
    const model = await getModel();
    const {state} = await model.step([START_POINT]); // the zero-start convention of the build
    if (signal.aborted) return;
    let frame = 0;
    const paint = () => {
      frame = 0;
      if (shown.futures !== futures) return;
      if (inside(futuresBounds(view, futures, shown.drawn, futures.ready), shown.place.bounds)) {
        drawFutures(futuresCanvas.getContext("2d"), view, futures, shown.drawn, futures.ready, shown.place);
        setDrawn(futures.ready);
      } else {
        redraw();  // a hair reaches past the drawing: lay it out again so that none is cut off
      }
      status.textContent = `sampling in your browser: ${futures.ready} of ${view.length} points`;
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
    if (!finished || signal.aborted) return;
    cancelAnimationFrame(frame);
    paint();
    finish(`sampled in your browser (${view.length} points × ${data.futures} futures)`);
  }

  function run() {
    show().catch((error) => {
      root.dataset.state = "failed";
      status.textContent = `could not draw this view: ${error.message}`;
      console.error(error);
    });
  }

  async function hover(event) {
    if (!shown?.place) return;
    const bounds = futuresCanvas.getBoundingClientRect();
    const {view, place} = shown;
    const x = event.clientX - bounds.left;
    const y = event.clientY - bounds.top;
    let best = -1;
    let bestDistance = HOVER_RADIUS_PX;
    for (let i = 0; i < view.length; i++) {
      const distance = Math.hypot(place.px(view.xs[i]) - x, place.py(view.ys[i]) - y);
      if (distance < bestDistance) [best, bestDistance] = [i, distance];
    }
    if (best >= 0) await showPoint(best);
  }

  /** Marks point `best` of the shown line and draws the model's prediction there in the inset. */
  async function showPoint(best) {
    const {view, place, lineIndex} = shown;
    const marks = fitCanvas(marksCanvas, place.height, place.width).context;
    marks.strokeStyle = "#1a5fb4";
    marks.lineWidth = 2;
    marks.beginPath();
    marks.arc(place.px(view.xs[best]), place.py(view.ys[best]), 5, 0, 2 * Math.PI);
    marks.stroke();
    const atMiddle = best === view.middle.index;  // any other point's mixture is fetched on first hover
    const mixture = atMiddle ? view.middle.mixture : await mixtureOf(lineIndex);
    if (shown.lineIndex !== lineIndex) return;
    drawMixture(mixtureCanvas, mixture, atMiddle ? 0 : best, view, best);
    const nll = view.nll[best];
    readout.textContent = `Point ${best + 1} of ${view.length}: the pen lifts next with probability `
      + `${(100 * view.eos[best]).toFixed(1)}%; its weight is spread as over `
      + `${Math.exp(view.entropy[best]).toFixed(1)} equally likely clouds (${bits(view.entropy[best]).toFixed(1)} bits)`
      + (Number.isFinite(nll)
        ? `; the point that came next (dot) surprised the model by ${(bits(nll) + RAW_GRID_BITS).toFixed(1)} bits.`
        : ".");
  }

  select.addEventListener("change", () => {
    readout.textContent = idleReadout;
    fitCanvas(mixtureCanvas, 160, 160);
    run();
  });
  for (const input of [stepsInput, variationInput]) {
    input.addEventListener("input", () => {
      input.nextElementSibling.textContent = input === stepsInput ? input.value : Number(input.value).toFixed(2);
      clearTimeout(settleTimer);
      settleTimer = setTimeout(run, SLIDER_SETTLE_MS); // wait for the slider to settle
    });
  }
  for (const type of ["pointermove", "pointerdown"]) {  // pointerdown: a tap, where nothing hovers
    futuresCanvas.addEventListener(type, (event) => hover(event).catch((error) => console.error(error)));
  }
  onWidthChange(stage, () => shown && redraw());
  run();
}

const root = globalThis.document?.querySelector('[data-figure="possibilities"]');
const data = root ? figureData("possibilities") : {};
// The default view is drawn when the figure comes near the screen, not while the page loads.
if (root && data.first) whenNear(root, () => mount(root, data), "400px");
