// @ts-check
/**
 * "Continue my handwriting", the article's opening figure (Carter et al., Distill 2016): the
 * reader writes with a mouse, finger or pen, and as they write the model (Graves 2013, section
 * 4.2) continues their strokes from its state after reading everything so far. Controls: how
 * many points to predict, the variation (sampling temperature), clear, and a download of the
 * reader's writing in the original data format, ready for `python -m model.train`.
 *
 * Until the reader writes, a human line from the build writes itself as a demonstration.
 */
import {coalesce, download, figureData, figureRoot, onWidthChange, part} from "../figure.js";
import {fitCanvas, paintPoints} from "../ink.js";
import {toRawRows, WritingBox} from "../writing-box.js";

/**
 * @typedef {import("../handwriting.js").Point} Point
 * @typedef {object} Settings  generator/figures/continue.py's
 * @property {number} scale  CSS pixels per model unit (the writing box shrinks it on a narrow screen)
 * @property {number} height  CSS pixels
 * @property {number} predict
 * @property {number} temperature
 * @property {number} seed
 * @property {Point[]} demo  the line that writes itself until the reader starts
 */

const NAME = "continue";
const READER_INK = "#1d1d1f";
const MODEL_INK = "#c2185b";

/**
 * The continuation up to where it would leave the box: it stops at the edge.
 * @param {Point[]} points
 * @param {[number, number]} start  where it starts, CSS pixels
 * @param {number} scale
 * @param {{width: number, height: number}} box
 */
function withinBox(points, [x, y], scale, {width, height}) {
  const edge = 2;  // CSS pixels kept clear, so the end dot is whole
  for (let i = 0; i < points.length; i++) {
    x += points[i][0] * scale;
    y += points[i][1] * scale;
    if (x < edge || x > width - edge || y < edge || y > height - edge) return points.slice(0, i);
  }
  return points;
}

class Continue {
  /**
   * @param {HTMLElement} root
   * @param {Settings} settings
   */
  constructor(root, settings) {
    this.root = root;
    this.settings = settings;
    this.canvas = part(root, ".continue-canvas", HTMLCanvasElement);
    this.lengthInput = part(root, ".continue-length", HTMLInputElement);
    this.variationInput = part(root, ".continue-variation", HTMLInputElement);
    this.status = part(root, ".continue-status", HTMLElement);
    this.downloadButton = part(root, ".continue-download", HTMLButtonElement);
    this.view = fitCanvas(this.canvas, settings.height);
    /** @type {Point[]} */
    this.prediction = [];
    this.downloads = 0;
    this.update = coalesce(() => this.predict());
    this.box = new WritingBox(root, this.canvas, this.status, settings, {
      onChange: () => this.update(),
      onClear: () => {
        this.prediction = [];
        this.draw();
      },
      onModel: () => (this.status.textContent = "Write in the box: the model continues in pink."),
    });
    this.pen = this.box.pen;
  }

  mount() {
    part(this.root, ".continue-clear", HTMLButtonElement).addEventListener("click", () => this.box.clear());
    this.downloadButton.addEventListener("click", () => this.download());
    for (const input of [this.lengthInput, this.variationInput]) {
      input.addEventListener("input", () => {
        part(this.root, `output[for="${input.id}"]`, HTMLOutputElement).value = input.value;
        this.update();
      });
    }
    onWidthChange(this.canvas, () => {
      this.view = fitCanvas(this.canvas, this.settings.height);
      this.draw();
    });
    this.draw();
  }

  draw() {
    const {view, pen, root, prediction} = this;
    const {scale} = this.settings;
    view.context.clearRect(0, 0, view.width, view.height);
    let drawn = 0;
    if (pen.start) {
      const [x, y] = pen.start;
      paintPoints(view.context, pen.points, {x, y, scale, colour: READER_INK, width: 2.5, air: true});
      const shown = withinBox(prediction, pen.last, scale, view);
      const end = paintPoints(view.context, shown, {x: pen.last[0], y: pen.last[1], scale,
        penUp: pen.points.at(-1)?.[2] ?? 0, colour: MODEL_INK, width: 2, air: true});
      drawn = 1 + pen.points.length + prediction.length;  // what the model wrote, shown or past the edge
      root.dataset.predictionShown = String(shown.length);
      root.dataset.predictionEnd = `${end.x.toFixed(1)} ${end.y.toFixed(1)}`;
      if (shown.length) {
        view.context.fillStyle = MODEL_INK;
        view.context.beginPath();
        view.context.arc(end.x, end.y, 2.5, 0, 2 * Math.PI);
        view.context.fill();
      }
    }
    root.dataset.drawnPoints = String(drawn);
    this.downloadButton.disabled = pen.points.length === 0;
  }

  /**
   * From the state after the final points (plus the stroke's last point, pen still down, when
   * the reader is mid-stroke) the model samples the continuation. Run through `update`.
   */
  async predict() {
    const {feeder} = this.box;
    const {pen} = this;
    if (!feeder || !pen.start) return this.draw();
    const version = feeder.version;
    const final = pen.writing ? pen.points.length - 1 : pen.points.length;
    if (!(await feeder.feed(pen.points, final))) return;
    let state = feeder.state;
    if (final < pen.points.length) state = (await feeder.model.trace(pen.points.slice(final), {state})).state;
    const [points] = await feeder.model.sample(Number(this.lengthInput.value),
      {state, temperature: Number(this.variationInput.value), seed: this.settings.seed});
    if (version !== feeder.version) return;
    this.prediction = points;
    this.draw();
  }

  /**
   * One file per line, numbered, so a reader's lines can share a folder: model.train reads a
   * folder of them (and needs two lines at least, one to hold out).
   */
  download() {
    const rows = toRawRows(this.pen.start, this.pen.points, this.settings.scale);
    download(`my-handwriting-${++this.downloads}.json`, JSON.stringify(rows) + "\n", "application/json");
  }
}

const root = figureRoot(NAME);
if (root) {
  new Continue(root, {scale: 18, height: 280, predict: 80, temperature: 0.65, seed: 0, demo: [], ...figureData(NAME)})
    .mount();
}
