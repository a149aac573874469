// @ts-check
/**
 * "Watch the cells" (Carter et al., Distill 2016): as the reader writes, every LSTM cell state
 * c of the model (Graves 2013, section 4.2) updates live. A heatmap fills in column by column
 * (one column per point written, one row per cell, in the sorted figure's t-SNE order and
 * signs), with a marker at the step shown; beside it a grid of every cell at that step, in the
 * same order. The writing, its moves in the air dotted, is coloured by the chosen cell; the
 * figure starts on the cell the build measured as following a pen-direction or pen-lift
 * signal most closely (generator/figures/cells.py, `live_view`), named. Colours and key are
 * the heatmaps' (heatmap.js). Until the reader writes, a human line writes itself.
 *
 * The root keeps data-steps (columns drawn) and data-drawn-points.
 */
import {coalesce, figureData, figureRoot, onWidthChange, part} from "../figure.js";
import {fitCanvas, paintPoints} from "../ink.js";
import {WritingBox} from "../writing-box.js";
import {colourRanges, HEAT, heatmapHeight, INK, level, mountKey} from "./heatmap.js";

/**
 * @typedef {import("../handwriting.js").Point} Point
 * @typedef {import("../ink.js").CanvasView} CanvasView
 * @typedef {object} Settings  generator/figures/cells.py's `live_view`
 * @property {number} scale
 * @property {number} height  the writing box's, CSS pixels
 * @property {Point[]} demo
 * @property {number[]} order  raw cell per row (the sorted figure's)
 * @property {number[]} signs  per raw cell
 * @property {number[]} colourRange
 * @property {number} sharedRange
 * @property {{cell: number, label: string, r: number}} start  the cell shown first and what it follows
 */

const NAME = "cells-live";
const SQUARE = 14;  // CSS pixels per cell in the grid, at most
const STEPS = 400;  // columns the heatmap starts with; it widens by as many when full
/** @type {import("./heatmap.js").Rgb} */
const EMPTY = [236, 236, 236];  // a column not written yet
const UNFED_INK = "#9e9e9e";

class CellsLive {
  /**
   * @param {HTMLElement} root
   * @param {Settings} settings
   */
  constructor(root, settings) {
    this.root = root;
    this.settings = settings;
    this.order = settings.order;
    this.signs = settings.signs;
    this.rows = this.order.length;
    this.rowOf = new Int32Array(this.rows);
    this.order.forEach((cell, row) => { this.rowOf[cell] = row; });
    this.canvas = part(root, ".cells-live-canvas", HTMLCanvasElement);
    this.heatmap = part(root, ".cells-live-heatmap", HTMLCanvasElement);
    this.stepMarker = part(root, ".cells-live-step", HTMLElement);
    this.rowMarker = part(root, ".cells-live-row", HTMLElement);
    this.grid = part(root, ".cells-live-grid", HTMLCanvasElement);
    this.gridTitle = part(root, ".cells-live-now", HTMLElement);
    this.readout = part(root, ".cells-live-readout", HTMLElement);
    this.status = part(root, ".cells-live-status", HTMLElement);
    this.view = fitCanvas(this.canvas, settings.height);
    /** @type {CanvasView | null} */
    this.gridView = null;
    this.layout = {columns: 1, size: SQUARE};
    /** @type {Float32Array[]} c of every cell after each fed point */
    this.history = [];
    /** @type {number | null} the step the grid shows while the reader hovers the heatmap */
    this.shown = null;
    this.chosen = settings.start.cell;
    this.ranges = colourRanges(settings, false);
    /** @type {ImageData | null} the heatmap's pixels: rows x columns */
    this.image = null;
    this.painted = 0;  // columns of `image` painted
    this.heatmap.style.height = `${heatmapHeight(this.rows)}px`;
    this.update = coalesce(() => this.feed());
    this.box = new WritingBox(root, this.canvas, this.status, settings, {
      onChange: () => this.update(),
      onClear: () => {
        this.history = [];
        this.draw();
      },
      onModel: () => this.fitGrid(),
    });
    this.pen = this.box.pen;
  }

  mount() {
    const {grid, heatmap} = this;
    grid.addEventListener("pointerdown", (event) => {
      const row = this.rowInGrid(event);
      if (row !== null) this.choose(this.order[row]);
    });
    grid.addEventListener("pointermove", (event) => this.hoverGrid(event));
    grid.addEventListener("pointerleave", () => this.drawGrid());
    heatmap.addEventListener("pointerdown", (event) => this.choose(this.order[this.atHeatmap(event).row]));
    heatmap.addEventListener("pointermove", (event) => {
      const {step} = this.atHeatmap(event);
      this.shown = step <= this.history.length ? step : null;
      this.drawGrid();
    });
    heatmap.addEventListener("pointerleave", () => {
      this.shown = null;
      this.drawGrid();
    });
    mountKey(this.root, this.settings.sharedRange, (shared) => {
      this.ranges = colourRanges(this.settings, shared);
      this.drawHeatmap(true);
      this.drawWriting();
      this.drawGrid();
    });
    part(this.root, ".cells-live-clear", HTMLButtonElement).addEventListener("click", () => this.box.clear());
    onWidthChange(this.canvas, () => {
      this.view = fitCanvas(this.canvas, this.settings.height);
      if (this.gridView) this.fitGrid();
      this.draw();
    });
    this.draw();
  }

  /**
   * @param {Float32Array} c  every cell's state at one step
   * @param {number} cell
   */
  shownValue(c, cell) {
    return c[cell] * this.signs[cell];
  }

  fitGrid() {
    const width = this.grid.clientWidth || this.canvas.clientWidth;
    const columns = Math.max(10, Math.min(this.rows, Math.floor(width / SQUARE)));
    this.layout = {columns, size: width / columns};
    this.gridView = fitCanvas(this.grid, Math.ceil(this.rows / columns) * this.layout.size);
  }

  /** @param {number} t */
  paintColumn(t) {
    const {image, history} = this;
    const pixels = image.data;
    const width = image.width;
    for (let row = 0; row < this.rows; row++) {
      const cell = this.order[row];
      const [r, g, b] = t < history.length ? HEAT[level(this.shownValue(history[t], cell), this.ranges[cell])] : EMPTY;
      const at = (row * width + t) * 4;
      pixels[at] = r; pixels[at + 1] = g; pixels[at + 2] = b; pixels[at + 3] = 255;
    }
  }

  /**
   * Paints the columns written since the last call (all of them after a clear or a new scale).
   * @param {boolean} [repaint]
   */
  drawHeatmap(repaint = false) {
    const {heatmap, history, rows} = this;
    const columns = Math.max(STEPS, Math.ceil(history.length / STEPS) * STEPS);
    if (!this.image || this.image.width !== columns || repaint || this.painted > history.length) {
      heatmap.width = columns;
      heatmap.height = rows;
      this.image = heatmap.getContext("2d").createImageData(columns, rows);
      for (let t = 0; t < columns; t++) this.paintColumn(t);
    } else {
      for (let t = this.painted; t < history.length; t++) this.paintColumn(t);
    }
    this.painted = history.length;
    heatmap.getContext("2d").putImageData(this.image, 0, 0);
    this.root.dataset.steps = String(history.length);
  }

  drawWriting() {
    const {view, pen, history, chosen} = this;
    view.context.clearRect(0, 0, view.width, view.height);
    if (!pen.start) return;
    paintPoints(view.context, pen.points, {x: pen.start[0], y: pen.start[1], scale: this.settings.scale, width: 3,
      air: true,
      colourOf: (i) => (i < history.length ? INK[level(this.shownValue(history[i], chosen), this.ranges[chosen])]
        : UNFED_INK)});
  }

  drawGrid() {
    const {layout, chosen, rows} = this;
    const step = this.shown ?? this.history.length;
    const current = this.history[step - 1];
    this.stepMarker.hidden = step === 0;
    this.stepMarker.style.left = `${((step - 0.5) / this.image.width) * 100}%`;
    this.stepMarker.dataset.label = `step ${step}`;
    this.rowMarker.style.top = `${((this.rowOf[chosen] + 0.5) / rows) * 100}%`;
    this.gridTitle.innerHTML = `Activations at <b>step ${step}</b>`;
    if (!this.gridView) return;
    const {context} = this.gridView;
    context.clearRect(0, 0, this.gridView.width, this.gridView.height);
    for (let row = 0; row < rows; row++) {
      const cell = this.order[row];
      const [r, g, b] = current ? HEAT[level(this.shownValue(current, cell), this.ranges[cell])] : EMPTY;
      context.fillStyle = `rgb(${r},${g},${b})`;
      const [x, y] = [(row % layout.columns) * layout.size, Math.floor(row / layout.columns) * layout.size];
      context.fillRect(x + 0.5, y + 0.5, layout.size - 1, layout.size - 1);
      if (cell === chosen) {
        context.strokeStyle = "#000";
        context.lineWidth = 2;
        context.strokeRect(x + 1, y + 1, layout.size - 2, layout.size - 2);
      }
    }
    this.describe(current);
  }

  /** @param {Float32Array | undefined} current  every cell at the step shown */
  describe(current) {
    const {chosen} = this;
    const value = current ? `; now ${this.shownValue(current, chosen).toFixed(2)}` : "";
    const start = this.settings.start;
    const measured = chosen === start.cell ? `, which follows ${start.label} (r = ${start.r.toFixed(2)})` : "";
    this.readout.textContent = `The writing is coloured by row ${this.rowOf[chosen]} (cell ${chosen})${measured}`
      + `${value}. Tap the heatmap or a square to choose another cell.`;
  }

  draw() {
    this.drawHeatmap();
    this.drawWriting();
    this.drawGrid();
    this.root.dataset.drawnPoints = String(this.pen.start ? 1 + this.pen.points.length : 0);
  }

  /** Feeds the reader's final points to the model (run through `update`). */
  async feed() {
    const {feeder} = this.box;
    const {pen} = this;
    if (!feeder || !pen.start) return this.draw();
    const fed = await feeder.feed(pen.points, pen.writing ? pen.points.length - 1 : pen.points.length);
    if (!fed) return;
    const cells = fed.count ? fed.c.length / fed.count : 0;
    for (let k = 0; k < fed.count; k++) this.history.push(fed.c.subarray(k * cells, (k + 1) * cells));
    this.draw();
  }

  /** @param {number} cell */
  choose(cell) {
    this.chosen = cell;
    this.drawWriting();
    this.drawGrid();
  }

  /**
   * The grid's row under the pointer, or null.
   * @param {PointerEvent} event
   */
  rowInGrid(event) {
    const {layout} = this;
    const bounds = this.grid.getBoundingClientRect();
    const [x, y] = [event.clientX - bounds.left, event.clientY - bounds.top];
    const row = Math.floor(y / layout.size) * layout.columns + Math.floor(x / layout.size);
    return row >= 0 && row < this.rows ? row : null;
  }

  /**
   * The heatmap's row and step under the pointer.
   * @param {PointerEvent} event
   */
  atHeatmap(event) {
    const {rows} = this;
    const bounds = this.heatmap.getBoundingClientRect();
    const row = Math.min(rows - 1, Math.max(0, Math.floor(((event.clientY - bounds.top) / bounds.height) * rows)));
    const step = Math.floor(((event.clientX - bounds.left) / bounds.width) * this.image.width) + 1;
    return {row, step};
  }

  /** @param {PointerEvent} event */
  hoverGrid(event) {
    const row = this.rowInGrid(event);
    const current = this.history[(this.shown ?? this.history.length) - 1];
    if (row === null || !current) return;
    const value = this.shownValue(current, this.order[row]).toFixed(2);
    this.readout.textContent = `Row ${row} (cell ${this.order[row]}): ${value}. Tap to colour the writing by it.`;
  }
}

const root = figureRoot(NAME);
if (root) new CellsLive(root, {scale: 10, height: 200, demo: [], ...figureData(NAME)}).mount();
