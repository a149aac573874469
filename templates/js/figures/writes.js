/**
 * "The model writes" (Carter et al., Distill 2016): the model (Graves 2013, section 4.2)
 * samples handwriting point by point and the figure draws it as it comes, line after line,
 * scrolling up when the box is full. Play/Pause, a variation (temperature) slider that
 * applies from the next points on, Restart (new writing: the next seed), and Save as SVG.
 *
 * Each line is a fresh sample from the model's start state: the model learned single lines,
 * so a new line starts the way its training lines did. A line is placed once its first stroke
 * is sampled (that stroke's left edge on the margin, its lowest point on the baseline), since
 * where the pen starts says little about where the letters sit. A line ends at the right margin,
 * or where a stroke would leave the line's band (ASCENT above its baseline, DESCENT below), so
 * nothing drawn is cut off. Sampling runs ahead in the worker a chunk at a time; drawing takes
 * a few points per animation frame.
 */
import {getModel} from "../model-client.js";
import {coalesce, download, figureData, onVisibility, onWidthChange} from "../figure.js";
import {extent, fitCanvas, linesToSvg, paintPoints} from "../ink.js";

const NAME = "writes";
const INK = "#1d1d1f";
const POINTS_PER_FRAME = 2;
const MARGIN = 16;  // CSS pixels around the writing
const FIRST_STROKE_MAX = 120;  // points to wait for a line's first pen lift before placing it anyway
const INK_WIDTH = 1.8;
// How far, in row heights, the pen may write above and below a line's baseline: a stroke that
// would leave that band ends the line instead. The canvas has that room above the first row's
// baseline and below the last's, so nothing drawn is ever cut off, at any variation.
const ASCENT = 0.75;
const DESCENT = 0.5;

function setUp(root) {
  const settings = {scale: 6, rows: 5, rowHeight: 90, temperature: 0.5, seed: 0, chunk: 24, ...figureData(NAME)};
  const canvas = root.querySelector(".writes-canvas");
  const playButton = root.querySelector(".writes-play");
  const variationInput = root.querySelector(".writes-variation");
  const status = root.querySelector(".writes-status");
  const canvasHeight = () => (settings.rows - 1 + ASCENT + DESCENT) * settings.rowHeight;
  let view = fitCanvas(canvas, canvasHeight());
  let model = null;
  let playing = !matchMedia("(prefers-reduced-motion: reduce)").matches;  // else wait for Play
  let visible = false;
  let seed = settings.seed;
  let lines = [];  // shown lines: {points, x, y} (x, y: the line's start in CSS pixels)
  let queue = [];  // sampled, not yet drawn
  let state = null;  // the model's state after the last sampled point, null: a fresh line
  let version = 0;  // bumped whenever sampled points would no longer fit what is drawn
  let chunks = 0;
  let animating = false;

  const line = () => lines.at(-1);
  const end = (shown) => shown.points.reduce(([x, y], [dx, dy]) => [x + dx * settings.scale, y + dy * settings.scale],
    [shown.x, shown.y]);

  function newLine() {
    if (lines.length === settings.rows) {
      lines.shift();
      lines.forEach((shown) => (shown.y -= settings.rowHeight));
    }
    lines.push({points: [], x: MARGIN, y: baseline(lines.length), placed: false});
    queue = [];
    state = null;
    version++;
    redraw();
  }
  const baseline = (row) => (row + ASCENT) * settings.rowHeight;
  /** Whether a point (CSS pixels) of the current line lies in its band, ink width included. */
  const inBand = ([x, y]) => {
    const base = baseline(lines.length - 1);
    return x >= INK_WIDTH && x <= view.width - INK_WIDTH && y >= base - ASCENT * settings.rowHeight + INK_WIDTH
      && y <= base + DESCENT * settings.rowHeight - INK_WIDTH;
  };

  function redraw() {
    view.context.clearRect(0, 0, view.width, view.height);
    for (const shown of lines) {
      paintPoints(view.context, shown.points, {x: shown.x, y: shown.y, scale: settings.scale, penUp: 1, colour: INK,
        width: INK_WIDTH});
    }
    count();
  }
  const count = () => {
    root.dataset.drawnPoints = String(lines.reduce((total, shown) => total + shown.points.length, 0));
  };

  const firstStrokeEnd = () => queue.findIndex((point) => point[2] === 1);
  const awaitingFirstStroke = () => !line().placed && firstStrokeEnd() < 0 && queue.length < FIRST_STROKE_MAX;

  /** Puts the line's origin where its first stroke (queued, not drawn yet) sits on the row. */
  function place(shown) {
    const end = firstStrokeEnd();
    const stroke = queue.slice(0, end < 0 ? queue.length : end + 1);
    const {left, bottom} = extent(stroke.slice(1));  // the first offset is a jump from nowhere in particular
    shown.x = MARGIN - (left + stroke[0][0]) * settings.scale;
    shown.y = shown.y - (bottom + stroke[0][1]) * settings.scale;
    shown.placed = true;
  }

  const sampleAhead = coalesce(async () => {
    while (model && playing && (queue.length < settings.chunk || awaitingFirstStroke())) {
      const asked = version;
      const result = await model.generate(settings.chunk,
        {state, seed: seed * 100003 + chunks++, temperature: Number(variationInput.value)});
      if (asked !== version) continue;
      state = result.state;
      queue.push(...result.points[0]);
    }
  });

  function animate() {
    if (animating || !playing || !visible || !model) return;
    animating = true;
    requestAnimationFrame(frame);
  }

  function frame() {
    if (!playing || !visible) {
      animating = false;
      return;
    }
    for (let i = 0; i < POINTS_PER_FRAME && queue.length && !awaitingFirstStroke(); i++) {
      const shown = line();
      if (!shown.placed) place(shown);
      const point = queue.shift();
      const [x, y] = end(shown);
      const penUp = shown.points.at(-1)?.[2] ?? 1;
      if (!penUp && !(inBand([x, y]) && inBand([x + point[0] * settings.scale, y + point[1] * settings.scale]))) {
        newLine();  // the pen strays from the line: a new line, rather than ink cut off or over other rows
        break;
      }
      paintPoints(view.context, [point], {x, y, scale: settings.scale, penUp, colour: INK, width: INK_WIDTH});
      shown.points.push(point);
      // A line ends at the first pen lift past the right margin, and at the margin in any case.
      if ((point[2] && x > view.width - 8 * MARGIN) || x > view.width - MARGIN) newLine();
    }
    count();
    sampleAhead();
    requestAnimationFrame(frame);
  }

  function setPlaying(play) {
    playing = play;
    playButton.textContent = play ? "Pause" : "Play";
    root.dataset.state = play ? "playing" : "paused";
    animate();
  }

  playButton.addEventListener("click", () => setPlaying(!playing));
  root.querySelector(".writes-restart").addEventListener("click", () => {
    lines = [];
    seed++;
    newLine();
    setPlaying(true);
  });
  root.querySelector(".writes-save").addEventListener("click",
    () => download("handwriting.svg", linesToSvg(lines, {...view, scale: settings.scale, colour: INK}),
      "image/svg+xml"));
  variationInput.addEventListener("input", () => {
    root.querySelector('output[for="writes-variation"]').value = variationInput.value;
  });
  onWidthChange(canvas, () => {
    view = fitCanvas(canvas, canvasHeight());
    redraw();
  });
  newLine();

  onVisibility(root, async (isVisible) => {
    visible = isVisible;
    if (!visible || model) return animate();
    status.textContent = "Loading the model…";
    try {
      model = await getModel();
    } catch (error) {
      status.textContent = `The model could not load (${error.message}).`;
      return;
    }
    status.textContent = "";
    setPlaying(playing);
  });
}

const root = document.querySelector(`[data-figure="${NAME}"]`);
if (root) setUp(root);
