// @ts-check
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
import {coalesce, download, figureData, figureRoot, onVisibility, onWidthChange, part} from "../figure.js";
import {extent, fitCanvas, linesToSvg, paintPoints} from "../ink.js";

/**
 * @typedef {import("../handwriting.js").LstmState} LstmState
 * @typedef {import("../handwriting.js").Point} Point
 * @typedef {import("../ink.js").CanvasView} CanvasView
 * @typedef {import("../model-client.js").ModelClient} ModelClient
 * @typedef {object} Settings  generator/figures/writes.py's
 * @property {number} scale  CSS pixels per model unit
 * @property {number} rows  lines the box shows
 * @property {number} rowHeight  CSS pixels
 * @property {number} temperature
 * @property {number} seed
 * @property {number} chunk  points sampled per request
 * @typedef {{points: Point[], x: number, y: number, placed: boolean}} Line  a shown line and its start, CSS pixels
 */

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

class Writes {
  /**
   * @param {HTMLElement} root
   * @param {Settings} settings
   */
  constructor(root, settings) {
    this.root = root;
    this.settings = settings;
    this.canvas = part(root, ".writes-canvas", HTMLCanvasElement);
    this.playButton = part(root, ".writes-play", HTMLButtonElement);
    this.variationInput = part(root, ".writes-variation", HTMLInputElement);
    this.status = part(root, ".writes-status", HTMLElement);
    this.view = fitCanvas(this.canvas, this.canvasHeight());
    /** @type {ModelClient | null} */
    this.model = null;
    this.playing = !matchMedia("(prefers-reduced-motion: reduce)").matches;  // else wait for Play
    this.visible = false;
    this.seed = settings.seed;
    /** @type {Line[]} */
    this.lines = [];
    /** @type {Point[]} sampled, not yet drawn */
    this.queue = [];
    /** @type {LstmState | null} the model's state after the last sampled point, null: a fresh line */
    this.state = null;
    this.version = 0;  // bumped whenever sampled points would no longer fit what is drawn
    this.chunks = 0;
    this.animating = false;
    this.sampleAhead = coalesce(() => this.sample());
  }

  mount() {
    const {root} = this;
    this.playButton.addEventListener("click", () => this.setPlaying(!this.playing));
    part(root, ".writes-restart", HTMLButtonElement).addEventListener("click", () => {
      this.lines = [];
      this.seed++;
      this.newLine();
      this.setPlaying(true);
    });
    part(root, ".writes-save", HTMLButtonElement).addEventListener("click",
      () => download("handwriting.svg", linesToSvg(this.lines, {...this.view, scale: this.settings.scale, colour: INK}),
        "image/svg+xml"));
    this.variationInput.addEventListener("input", () => {
      part(root, 'output[for="writes-variation"]', HTMLOutputElement).value = this.variationInput.value;
    });
    onWidthChange(this.canvas, () => {
      this.view = fitCanvas(this.canvas, this.canvasHeight());
      this.redraw();
    });
    this.newLine();
    onVisibility(root, (isVisible) => this.show(isVisible));
  }

  /** @param {boolean} isVisible  loads the model the first time the figure comes near the screen */
  async show(isVisible) {
    this.visible = isVisible;
    if (!this.visible || this.model) return this.animate();
    this.status.textContent = "Loading the model…";
    try {
      this.model = await getModel();
    } catch (error) {
      this.status.textContent = `The model could not load (${error.message}).`;
      return;
    }
    this.status.textContent = "";
    this.setPlaying(this.playing);
  }

  canvasHeight() {
    return (this.settings.rows - 1 + ASCENT + DESCENT) * this.settings.rowHeight;
  }

  line() {
    return this.lines.at(-1);
  }

  /**
   * Where the line's pen is, CSS pixels.
   * @param {Line} shown
   * @returns {[number, number]}
   */
  end(shown) {
    const {scale} = this.settings;
    return shown.points.reduce(([x, y], [dx, dy]) => [x + dx * scale, y + dy * scale], [shown.x, shown.y]);
  }

  newLine() {
    const {lines, settings} = this;
    if (lines.length === settings.rows) {
      lines.shift();
      lines.forEach((shown) => (shown.y -= settings.rowHeight));
    }
    lines.push({points: [], x: MARGIN, y: this.baseline(lines.length), placed: false});
    this.queue = [];
    this.state = null;
    this.version++;
    this.redraw();
  }

  /** @param {number} row */
  baseline(row) {
    return (row + ASCENT) * this.settings.rowHeight;
  }

  /**
   * Whether a point (CSS pixels) of the current line lies in its band, ink width included.
   * @param {[number, number]} point
   */
  inBand([x, y]) {
    const {rowHeight} = this.settings;
    const base = this.baseline(this.lines.length - 1);
    return x >= INK_WIDTH && x <= this.view.width - INK_WIDTH && y >= base - ASCENT * rowHeight + INK_WIDTH
      && y <= base + DESCENT * rowHeight - INK_WIDTH;
  }

  redraw() {
    const {view} = this;
    view.context.clearRect(0, 0, view.width, view.height);
    for (const shown of this.lines) {
      paintPoints(view.context, shown.points, {x: shown.x, y: shown.y, scale: this.settings.scale, penUp: 1,
        colour: INK, width: INK_WIDTH});
    }
    this.count();
  }

  count() {
    this.root.dataset.drawnPoints = String(this.lines.reduce((total, shown) => total + shown.points.length, 0));
  }

  firstStrokeEnd() {
    return this.queue.findIndex((point) => point[2] === 1);
  }

  awaitingFirstStroke() {
    return !this.line().placed && this.firstStrokeEnd() < 0 && this.queue.length < FIRST_STROKE_MAX;
  }

  /**
   * Puts the line's origin where its first stroke (queued, not drawn yet) sits on the row.
   * @param {Line} shown
   */
  place(shown) {
    const {scale} = this.settings;
    const end = this.firstStrokeEnd();
    const stroke = this.queue.slice(0, end < 0 ? this.queue.length : end + 1);
    const {left, bottom} = extent(stroke.slice(1));  // the first offset is a jump from nowhere in particular
    shown.x = MARGIN - (left + stroke[0][0]) * scale;
    shown.y = shown.y - (bottom + stroke[0][1]) * scale;
    shown.placed = true;
  }

  /** Samples chunks ahead of the drawing (run through sampleAhead, one at a time). */
  async sample() {
    while (this.model && this.playing && (this.queue.length < this.settings.chunk || this.awaitingFirstStroke())) {
      const asked = this.version;
      const result = await this.model.generate(this.settings.chunk,
        {state: this.state, seed: this.seed * 100003 + this.chunks++, temperature: Number(this.variationInput.value)});
      if (asked !== this.version) continue;
      this.state = result.state;
      this.queue.push(...result.points[0]);
    }
  }

  animate() {
    if (this.animating || !this.playing || !this.visible || !this.model) return;
    this.animating = true;
    requestAnimationFrame(() => this.frame());
  }

  frame() {
    if (!this.playing || !this.visible) {
      this.animating = false;
      return;
    }
    const {scale} = this.settings;
    for (let i = 0; i < POINTS_PER_FRAME && this.queue.length && !this.awaitingFirstStroke(); i++) {
      const shown = this.line();
      if (!shown.placed) this.place(shown);
      const point = this.queue.shift();
      const [x, y] = this.end(shown);
      const penUp = shown.points.at(-1)?.[2] ?? 1;
      if (!penUp && !(this.inBand([x, y]) && this.inBand([x + point[0] * scale, y + point[1] * scale]))) {
        this.newLine();  // the pen strays from the line: a new line, rather than ink cut off or over other rows
        break;
      }
      paintPoints(this.view.context, [point], {x, y, scale, penUp, colour: INK, width: INK_WIDTH});
      shown.points.push(point);
      // A line ends at the first pen lift past the right margin, and at the margin in any case.
      if ((point[2] && x > this.view.width - 8 * MARGIN) || x > this.view.width - MARGIN) this.newLine();
    }
    this.count();
    this.sampleAhead();
    requestAnimationFrame(() => this.frame());
  }

  /** @param {boolean} play */
  setPlaying(play) {
    this.playing = play;
    this.playButton.textContent = play ? "Pause" : "Play";
    this.root.dataset.state = play ? "playing" : "paused";
    this.animate();
  }
}

const root = figureRoot(NAME);
if (root) {
  new Writes(root, {scale: 6, rows: 5, rowHeight: 90, temperature: 0.5, seed: 0, chunk: 24, ...figureData(NAME)})
    .mount();
}
