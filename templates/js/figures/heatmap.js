// @ts-check
/**
 * The cell heatmap shared by the `cells` and `cells-sorted` figures (Carter, Ha, Johnson, Olah,
 * Distill 2016; the model is Graves 2013, section 4.2): one row per LSTM cell, one column per
 * point of a human line, coloured by the cell state c just before that point is fed; the line
 * drawn above, coloured by one chosen cell, its moves in the air dotted. Its colours and key
 * are also those of `cells-live`.
 *
 * Data (generator/figures/cells.py): the page inlines the line menu and per-cell scales; each
 * line's points and cell values are one binary file under data/cells/, fetched when the line
 * is picked and shared by both figures (one fetch per file per page). Values are int8,
 * cell-major, shipped as steps along each row: c = q / levels * scale[cell]. Colour saturates
 * at colourRange[cell], so every row shows its own pattern, or, on the one shared scale the key
 * offers, at sharedRange; the hover readout gives the true value.
 *
 * The root element keeps data-state (loading, ready, failed), data-line, data-cell (raw index),
 * data-row (row in this figure's order), data-scale (row or shared), data-drawn-points, and
 * the timings data-render-ms (mount to first heatmap and strokes drawn) and data-recolour-ms
 * (choice to strokes redrawn), which bench/cells.py reads.
 */
import {onWidthChange, part} from "../figure.js";
import {extent, fitCanvas, paintPoints, RAW_PER_MODEL_UNIT} from "../ink.js";

/**
 * @typedef {import("../handwriting.js").Point} Point
 * @typedef {[number, number, number]} Rgb
 * @typedef {object} CellScales  how the cells' values are coloured (generator/figures/cells.py)
 * @property {ArrayLike<number>} colourRange  per cell: |c| at full colour on its own scale
 * @property {number} sharedRange  |c| at full colour on the shared scale
 * @typedef {object} HeatmapData  the `cells` and `cells-sorted` figures' inlined data
 * @property {{name: string, points: number, file: string}[]} lines  the line menu
 * @property {number} cells
 * @property {number} levels  int8 steps per scale[cell]
 * @property {number[]} scale  per cell
 * @property {number[]} colourRange
 * @property {number} sharedRange
 * @property {number} [defaultCell]
 * @typedef {object} HeatmapOptions
 * @property {ArrayLike<number>} order  raw cell index per row
 * @property {ArrayLike<number>} signs  ±1 per raw cell, multiplied into what is shown
 * @property {boolean} [sorted]  name rows by their position in the order
 * @property {(row: number) => string} [describeRow]  extra hover text
 * @typedef {{count: number, width: number, points: Point[], values: Int8Array}} CellLine  a decoded line file
 * @typedef {{context: CanvasRenderingContext2D, width: number, x: number, y: number, scale: number}} Ink
 */

const DATA_URL = new URL("../../../data/cells/", import.meta.url);
/** @type {Rgb} */
const NEGATIVE = [33, 102, 172]; // blue
/** @type {Rgb} */
const POSITIVE = [178, 24, 43]; // red
/** @type {Rgb} */
const ZERO = [247, 247, 247];
/** @type {Rgb} */
const INK_ZERO = [190, 190, 190]; // strokes need a visible middle colour on a white page
const LEVELS = 255; // colour steps from -1 to +1
const MAX_HEATMAP_PX = 500;
const MIN_ROW_PX = 12; // small models get tall rows
const STROKE_HEIGHT_PX = 150;
const STROKE_MARGIN_PX = 8;
const PAGE_ROWS = 10; // PageUp / PageDown

/** LEVELS colours from -1 (NEGATIVE) through 0 (middle) to +1 (POSITIVE), as [r, g, b]. */
/**
 * @param {Rgb} middle
 * @returns {Rgb[]}
 */
function palette(middle) {
  return Array.from({length: LEVELS}, (_, level) => {
    const t = (level / (LEVELS - 1)) * 2 - 1;
    const end = t < 0 ? NEGATIVE : POSITIVE;
    return /** @type {Rgb} */ (middle.map((channel, i) => Math.round(channel + (end[i] - channel) * Math.abs(t))));
  });
}
/** Heatmap colours ([r, g, b]) and ink colours (CSS), indexed by `level`. */
export const HEAT = palette(ZERO);
export const INK = palette(INK_ZERO).map(([r, g, b]) => `rgb(${r},${g},${b})`);

/** The colour level of value / range, clamped to [-1, 1]. */
/**
 * @param {number} value
 * @param {number} range
 */
export function level(value, range) {
  const t = Math.max(-1, Math.min(1, value / range));
  return Math.round(((t + 1) / 2) * (LEVELS - 1));
}

/** CSS pixels a heatmap of `rows` rows is tall. */
/** @param {number} rows */
export function heatmapHeight(rows) {
  return Math.min(MAX_HEATMAP_PX, rows * MIN_ROW_PX);
}

/** Where a heatmap's colours saturate: per cell or, on the shared scale, at one value for all. */
/**
 * @param {CellScales} data
 * @param {boolean} shared
 * @returns {ArrayLike<number>}
 */
export function colourRanges(data, shared) {
  return shared ? new Float32Array(data.colourRange.length).fill(data.sharedRange) : data.colourRange;
}

const fmt = (/** @type {number} */ value) => String(Number(value.toPrecision(3)));

/**
 * The colour key (.cells-key, the `colour_key` macro of templates/partials/cells.html.j2):
 * the bar's end labels and the sentence that says what the colours mean on the chosen scale,
 * and its two scale buttons, which call onScale(shared) when the reader switches. Returns
 * whether the scale checked in the markup, the first view's, is the shared one.
 */
/**
 * @param {HTMLElement} root
 * @param {number} sharedRange
 * @param {(shared: boolean) => void} onScale
 * @returns {boolean}
 */
export function mountKey(root, sharedRange, onScale) {
  const key = part(root, ".cells-key", HTMLElement);
  const [low, high] = [part(key, ".cells-key-low", HTMLElement), part(key, ".cells-key-high", HTMLElement)];
  const meaning = part(key, ".cells-key-meaning", HTMLElement);
  /** @param {boolean} shared */
  function show(shared) {
    root.dataset.scale = shared ? "shared" : "row";
    low.textContent = shared ? `−${fmt(sharedRange)}` : "−1";
    high.textContent = shared ? `+${fmt(sharedRange)}` : "+1";
    meaning.textContent = shared
      ? `The cell state c on one scale for every cell: full colour at |c| = ${fmt(sharedRange)} `
        + "(99% of all values lie within), so rows compare with each other and quiet cells look pale."
      : "Each row on its own scale: ±1 is that cell’s full colour, reached at its 99th percentile of |c|, "
        + "so quiet cells show their pattern too; compare colours along a row, not between rows.";
  }
  for (const input of key.querySelectorAll("input[type=radio]")) {
    if (!(input instanceof HTMLInputElement)) continue;
    input.addEventListener("change", () => {
      const shared = input.value === "shared" && input.checked;
      show(shared);
      onScale(shared);
    });
  }
  const shared = key.querySelector("input[value=shared]:checked") !== null;
  show(shared);
  return shared;
}

/**
 * Scrolls root's part from `top` to `bottom` into view unless it is in view already, so that
 * a choice made far from the heatmap (a table's buttons) visibly does something.
 */
/**
 * @param {Element} top
 * @param {Element} bottom
 */
export function reveal(top, bottom) {
  const [first, last] = [top.getBoundingClientRect().top, bottom.getBoundingClientRect().bottom];
  if (first >= 0 && last <= innerHeight) return;
  const smooth = !matchMedia("(prefers-reduced-motion: reduce)").matches;
  top.scrollIntoView({block: "start", behavior: smooth ? "smooth" : "auto"});
}

/** @type {Map<string, Promise<CellLine>>} file -> the decoded line */
const lines = new Map();

/** One line's binary file: {count, width, points: [[dx, dy, pen]] in model units, values}. */
/**
 * @param {string} file
 * @returns {Promise<CellLine>}
 */
export function loadLine(file) {
  if (!lines.has(file)) {
    lines.set(file, fetch(new URL(file, DATA_URL)).then((response) => {
      if (!response.ok) throw new Error(`cells: ${file}: HTTP ${response.status}`);
      return response.arrayBuffer();
    }).then(decodeLine));
  }
  return lines.get(file);
}

/** Decodes the layout written by generator/figures/cells.py `pack_line`. */
/**
 * @param {ArrayBuffer} buffer
 * @returns {CellLine}
 */
export function decodeLine(buffer) {
  const [count, width] = new Uint32Array(buffer, 0, 2);
  const offsets = new Int16Array(buffer, 8, count * 3);
  const points = Array.from({length: count}, (_, i) => /** @type {Point} */ (
    [offsets[3 * i] / RAW_PER_MODEL_UNIT, offsets[3 * i + 1] / RAW_PER_MODEL_UNIT, offsets[3 * i + 2]]));
  const values = new Int8Array(buffer, 8 + count * 6, count * width).slice();
  for (let row = 0; row < count * width; row += count) {  // steps along each cell's row back to q
    for (let t = row + 1; t < row + count; t++) values[t] += values[t - 1];
  }
  return {count, width, points, values};
}

const SVG = "http://www.w3.org/2000/svg";

/**
 * Puts each group label (.cells-group, in row order) as near the middle of its band as it can
 * without touching another: pushed down below the label above, then, where that runs past the
 * heatmap's foot, back up; a thin leader joins each label to its band, so a label set off from
 * its band still points at it.
 * @param {HTMLElement} root
 * @param {number} heightPx
 */
export function placeGroupLabels(root, heightPx) {
  const labels = [...root.querySelectorAll(".cells-group")].filter((label) => label instanceof HTMLElement);
  if (!labels.length) return;
  const column = /** @type {HTMLElement} */ (labels[0].parentElement);
  const heights = labels.map((label) => /** @type {HTMLElement} */ (label).offsetHeight);
  const centres = labels.map((label) => Number(/** @type {HTMLElement} */ (label).dataset.centre) * heightPx);
  const tops = centres.map((centre, i) => centre - heights[i] / 2);
  for (let i = 0; i < tops.length; i++) tops[i] = Math.max(tops[i], i ? tops[i - 1] + heights[i - 1] : 0);
  for (let i = tops.length - 1; i >= 0; i--) {
    tops[i] = Math.min(tops[i], (i + 1 < tops.length ? tops[i + 1] : heightPx) - heights[i]);
  }
  column.querySelector(".cells-group-leaders")?.remove();
  const leaders = document.createElementNS(SVG, "svg");
  leaders.setAttribute("class", "cells-group-leaders");
  leaders.setAttribute("aria-hidden", "true");
  labels.forEach((label, i) => {
    const element = /** @type {HTMLElement} */ (label);
    element.style.top = `${tops[i]}px`;
    const leader = document.createElementNS(SVG, "polyline");
    leader.setAttribute("points", `3,${centres[i]} 8,${centres[i]} ${element.offsetLeft},${tops[i] + heights[i] / 2}`);
    leaders.append(leader);
  });
  column.append(leaders);
}

/**
 * One heatmap figure on `root` (see HeatmapOptions). Elements with data-choose-cell="N" inside
 * root choose raw cell N when clicked, and bring the strokes and the heatmap into view.
 */
export class Heatmap {
  /**
   * @param {HTMLElement} root
   * @param {HeatmapData} data
   * @param {HeatmapOptions} options
   */
  constructor(root, data, {order, signs, sorted = false, describeRow = () => ""}) {
    this.started = performance.now();
    this.root = root;
    this.data = data;
    this.order = order;
    this.signs = signs;
    this.sorted = sorted;
    this.describeRow = describeRow;
    this.rows = order.length;
    this.rowOf = new Int32Array(this.rows);
    Array.from(order).forEach((cell, row) => { this.rowOf[cell] = row; });
    this.select = part(root, ".cells-line", HTMLSelectElement);
    this.number = part(root, ".cells-number", HTMLInputElement);
    this.strokes = part(root, ".cells-strokes", HTMLCanvasElement);
    this.heatmap = part(root, ".cells-heatmap", HTMLCanvasElement);
    this.marker = part(root, ".cells-marker", HTMLElement);
    this.outline = part(root, ".cells-row-outline", HTMLElement);
    this.step = part(root, ".cells-step", HTMLElement);
    this.readout = part(root, ".cells-readout", HTMLElement);
    this.heightPx = heatmapHeight(this.rows);
    /** @type {CellLine | null} */
    this.line = null;
    this.cell = data.defaultCell ?? order[0];
    this.lineIndex = 0;
    /** @type {ArrayLike<number>} */
    this.ranges = [];
    /** @type {Ink | null} the strokes' canvas context and placement, set per line and width */
    this.ink = null;
  }

  mount() {
    const {root, heatmap, number, rows} = this;
    heatmap.style.height = `${this.heightPx}px`;
    root.style.setProperty("--heatmap-height", `${this.heightPx}px`);
    heatmap.addEventListener("click", (event) => {
      if (this.line) this.choose(this.order[this.pointer(event).row]);
    });
    heatmap.addEventListener("mousemove", (event) => this.hover(event));
    heatmap.addEventListener("mouseleave", () => {
      if (!this.line) return;
      this.drawStrokes();
      this.showReadout();
    });
    heatmap.addEventListener("keydown", (event) => this.key(event));
    number.max = String(rows - 1);
    number.addEventListener("change", () => {
      const wanted = Math.min(rows - 1, Math.max(0, Math.round(Number(number.value)) || 0));
      this.choose(this.sorted ? this.order[wanted] : wanted);
    });
    this.ranges = colourRanges(this.data, mountKey(root, this.data.sharedRange, (shared) => {
      this.ranges = colourRanges(this.data, shared);
      if (this.line) this.drawHeatmap();
    }));
    placeGroupLabels(root, this.heightPx);
    root.addEventListener("click", (event) => {
      const button = event.target instanceof Element ? event.target.closest("[data-choose-cell]") : null;
      if (!(button instanceof HTMLElement)) return;
      this.choose(Number(button.dataset.chooseCell));
      reveal(this.strokes, heatmap);
    });
    this.select.addEventListener("change", () => {
      this.show(Number(this.select.value)).catch((error) => this.fail(error));
    });
    onWidthChange(this.strokes.parentElement, () => {
      if (!this.line) return;
      this.placeStrokes();
      this.drawStrokes();
    });
    this.show(0).catch((error) => this.fail(error));
  }

  /**
   * The shown value of raw cell c at point t.
   * @param {number} c
   * @param {number} t
   */
  value(c, t) {
    const {line, data} = this;
    return (line.values[c * line.count + t] / data.levels) * data.scale[c] * this.signs[c];
  }

  drawHeatmap() {
    const {heatmap, line, data, rows} = this;
    heatmap.width = line.count;
    heatmap.height = rows;
    const context = heatmap.getContext("2d");
    const image = context.createImageData(line.count, rows);
    const pixels = image.data;
    for (let row = 0; row < rows; row++) {
      const c = this.order[row];
      const factor = (data.scale[c] * this.signs[c]) / data.levels / this.ranges[c];
      const base = c * line.count;
      for (let t = 0; t < line.count; t++) {
        const [r, g, b] = HEAT[level(line.values[base + t] * factor, 1)];
        const at = (row * line.count + t) * 4;
        pixels[at] = r; pixels[at + 1] = g; pixels[at + 2] = b; pixels[at + 3] = 255;
      }
    }
    context.putImageData(image, 0, 0);
  }

  placeStrokes() {
    const {left, right, top, bottom} = extent(this.line.points);
    const width = this.strokes.parentElement.clientWidth || 600;
    const spanX = right - left || 1;
    const spanY = bottom - top || 1;
    const scale = Math.min((width - 2 * STROKE_MARGIN_PX) / spanX, (STROKE_HEIGHT_PX - 2 * STROKE_MARGIN_PX) / spanY);
    const {context} = fitCanvas(this.strokes, STROKE_HEIGHT_PX);
    this.ink = {context, width, x: STROKE_MARGIN_PX - left * scale, y: STROKE_MARGIN_PX - top * scale, scale};
  }

  /**
   * The strokes coloured by the chosen cell; at point `at` (a hovered column), a ring.
   * @param {number | null} [at]
   */
  drawStrokes(at = null) {
    const {context, width, x, y, scale} = this.ink;
    const {line, cell} = this;
    context.clearRect(0, 0, width, STROKE_HEIGHT_PX);
    // The strokes show one cell: on its own scale, whatever the heatmap's, or a quiet cell's
    // strokes would be grey on the shared one.
    const range = this.data.colourRange[cell];
    paintPoints(context, line.points, {
      x, y, scale, width: 2.5, air: true, colourOf: (t) => INK[level(this.value(cell, t), range)],
    });
    if (at !== null) {
      let [atX, atY] = [x, y];
      for (const [dx, dy] of line.points.slice(0, at + 1)) [atX, atY] = [atX + dx * scale, atY + dy * scale];
      context.lineWidth = 1.5;
      context.strokeStyle = "#000";
      context.beginPath();
      context.arc(atX, atY, 6, 0, 2 * Math.PI);
      context.stroke();
    }
    this.root.dataset.drawnPoints = String(line.count);
  }

  showChoice() {
    const row = this.rowOf[this.cell];
    this.marker.style.top = `${((row + 0.5) / this.rows) * 100}%`;
    // the chosen row, outlined across the heatmap (a little taller than one row, to be seen at 1 px rows)
    this.outline.style.top = `calc(${(row / this.rows) * 100}% - 2px)`;
    this.outline.style.height = `calc(${100 / this.rows}% + 4px)`;
    this.number.value = String(this.sorted ? row : this.cell);
    this.root.dataset.cell = String(this.cell);
    this.root.dataset.row = String(row);
    this.showReadout();
  }

  /** The readout for the chosen cell, the hover's step marker gone. Leaves the number input
   * alone: the pointer leaves the heatmap while the reader types there (focusing the input
   * can scroll the heatmap away), and rewriting it would undo the typed number. */
  showReadout() {
    const row = this.rowOf[this.cell];
    this.step.hidden = true;
    this.readout.textContent = `Strokes coloured by ${this.label(row)}${this.describeRow(row)}.`;
  }

  /** @param {number} row */
  label(row) {
    const flipped = this.signs[this.order[row]] < 0 ? ", sign flipped" : "";
    return this.sorted ? `row ${row} (cell ${this.order[row]}${flipped})` : `cell ${this.order[row]}`;
  }

  /** @param {number} newCell  a raw cell index */
  choose(newCell) {
    const begun = performance.now();
    this.cell = newCell;
    if (!this.line) return;
    this.drawStrokes();
    this.showChoice();
    this.root.dataset.recolourMs = (performance.now() - begun).toFixed(1);
  }

  /** @param {number} index  of the line to show */
  async show(index) {
    const {root} = this;
    this.lineIndex = index;
    root.dataset.state = "loading";
    const loaded = await loadLine(this.data.lines[index].file);
    if (index !== this.lineIndex) return; // the reader picked another line meanwhile
    this.line = loaded;
    this.drawHeatmap();
    this.placeStrokes();
    this.drawStrokes();
    this.showChoice();
    root.dataset.line = String(index);
    root.dataset.state = "ready";
    if (!root.dataset.renderMs) root.dataset.renderMs = (performance.now() - this.started).toFixed(1);
  }

  /**
   * The heatmap's row and point under the pointer.
   * @param {MouseEvent} event
   */
  pointer(event) {
    const {rows, line} = this;
    const box = this.heatmap.getBoundingClientRect();
    const row = Math.min(rows - 1, Math.max(0, Math.floor(((event.clientY - box.top) / box.height) * rows)));
    const t = Math.min(line.count - 1, Math.max(0, Math.floor(((event.clientX - box.left) / box.width) * line.count)));
    return {row, t};
  }

  /** @param {MouseEvent} event */
  hover(event) {
    if (!this.line) return;
    const {row, t} = this.pointer(event);
    this.step.hidden = false;
    this.step.style.left = `${((t + 0.5) / this.line.count) * 100}%`;
    this.step.dataset.label = `point ${t}`;
    this.drawStrokes(t);
    this.readout.textContent = `${this.label(row)}, point ${t}: c = ${this.value(this.order[row], t).toFixed(2)}`
      + this.describeRow(row);
  }

  /** @param {KeyboardEvent} event */
  key(event) {
    const {rows} = this;
    /** @type {Record<string, number>} */
    const steps = {ArrowUp: -1, ArrowDown: 1, PageUp: -PAGE_ROWS, PageDown: PAGE_ROWS, Home: -rows, End: rows};
    if (!(event.key in steps)) return;
    event.preventDefault();
    this.choose(this.order[Math.min(rows - 1, Math.max(0, this.rowOf[this.cell] + steps[event.key]))]);
  }

  /** @param {Error} error */
  fail(error) {
    this.root.dataset.state = "failed";
    this.readout.textContent = "The cell values could not be loaded.";
    console.error(error);
  }
}
