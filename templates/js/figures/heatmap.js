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
import {onWidthChange} from "../figure.js";
import {extent, fitCanvas, paintPoints, RAW_PER_MODEL_UNIT} from "../ink.js";

const DATA_URL = new URL("../../../data/cells/", import.meta.url);
const NEGATIVE = [33, 102, 172]; // blue
const POSITIVE = [178, 24, 43]; // red
const ZERO = [247, 247, 247];
const INK_ZERO = [190, 190, 190]; // strokes need a visible middle colour on a white page
const LEVELS = 255; // colour steps from -1 to +1
const MAX_HEATMAP_PX = 500;
const MIN_ROW_PX = 12; // small models get tall rows
const STROKE_HEIGHT_PX = 150;
const STROKE_MARGIN_PX = 8;
const PAGE_ROWS = 10; // PageUp / PageDown

/** LEVELS colours from -1 (NEGATIVE) through 0 (middle) to +1 (POSITIVE), as [r, g, b]. */
function palette(middle) {
  return Array.from({length: LEVELS}, (_, level) => {
    const t = (level / (LEVELS - 1)) * 2 - 1;
    const end = t < 0 ? NEGATIVE : POSITIVE;
    return middle.map((channel, i) => Math.round(channel + (end[i] - channel) * Math.abs(t)));
  });
}
/** Heatmap colours ([r, g, b]) and ink colours (CSS), indexed by `level`. */
export const HEAT = palette(ZERO);
export const INK = palette(INK_ZERO).map(([r, g, b]) => `rgb(${r},${g},${b})`);

/** The colour level of value / range, clamped to [-1, 1]. */
export function level(value, range) {
  const t = Math.max(-1, Math.min(1, value / range));
  return Math.round(((t + 1) / 2) * (LEVELS - 1));
}

/** CSS pixels a heatmap of `rows` rows is tall. */
export function heatmapHeight(rows) {
  return Math.min(MAX_HEATMAP_PX, rows * MIN_ROW_PX);
}

/** Where a heatmap's colours saturate: per cell or, on the shared scale, at one value for all. */
export function colourRanges(data, shared) {
  return shared ? new Float32Array(data.colourRange.length).fill(data.sharedRange) : data.colourRange;
}

const fmt = (value) => String(Number(value.toPrecision(3)));

/**
 * The colour key (.cells-key, the `colour_key` macro of templates/partials/cells.html.j2):
 * the bar's end labels and the sentence that says what the colours mean on the chosen scale,
 * and its two scale buttons, which call onScale(shared) when the reader switches.
 */
export function mountKey(root, sharedRange, onScale) {
  const key = root.querySelector(".cells-key");
  const [low, high] = [key.querySelector(".cells-key-low"), key.querySelector(".cells-key-high")];
  const meaning = key.querySelector(".cells-key-meaning");
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
    input.addEventListener("change", () => {
      const shared = input.value === "shared" && input.checked;
      show(shared);
      onScale(shared);
    });
  }
  show(false);
}

/**
 * Scrolls root's part from `top` to `bottom` into view unless it is in view already, so that
 * a choice made far from the heatmap (a table's buttons) visibly does something.
 */
export function reveal(top, bottom) {
  const [first, last] = [top.getBoundingClientRect().top, bottom.getBoundingClientRect().bottom];
  if (first >= 0 && last <= innerHeight) return;
  const smooth = !matchMedia("(prefers-reduced-motion: reduce)").matches;
  top.scrollIntoView({block: "start", behavior: smooth ? "smooth" : "auto"});
}

const lines = new Map(); // file -> Promise of the decoded line

/** One line's binary file: {count, width, points: [[dx, dy, pen]] in model units, values}. */
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
export function decodeLine(buffer) {
  const [count, width] = new Uint32Array(buffer, 0, 2);
  const offsets = new Int16Array(buffer, 8, count * 3);
  const points = Array.from({length: count}, (_, i) =>
    [offsets[3 * i] / RAW_PER_MODEL_UNIT, offsets[3 * i + 1] / RAW_PER_MODEL_UNIT, offsets[3 * i + 2]]);
  const values = new Int8Array(buffer, 8 + count * 6, count * width).slice();
  for (let row = 0; row < count * width; row += count) {  // steps along each cell's row back to q
    for (let t = row + 1; t < row + count; t++) values[t] += values[t - 1];
  }
  return {count, width, points, values};
}

/** Puts each group label (.cells-group, in row order) beside the middle of its band, pushed
 * down just enough not to cover the label above it. */
function placeGroupLabels(root, heightPx) {
  let bottom = -Infinity;
  for (const label of root.querySelectorAll(".cells-group")) {
    const top = Math.max(Number(label.dataset.centre) * heightPx - label.offsetHeight / 2, bottom);
    label.style.top = `${top}px`;
    bottom = top + label.offsetHeight;
  }
}

/**
 * Mounts one heatmap figure on `root`. data: the figure's inlined data; order: raw cell index
 * per row (identity for `cells`); signs: ±1 per raw cell, multiplied into what is shown;
 * sorted: name rows by their position in the order; describeRow(row) -> extra hover text.
 * Elements with data-choose-cell="N" inside root choose raw cell N when clicked, and bring
 * the strokes and the heatmap into view.
 */
export function mountHeatmap(root, data, {order, signs, sorted = false, describeRow = () => ""}) {
  const started = performance.now();
  const rows = order.length;
  const rowOf = new Int32Array(rows);
  order.forEach((cell, row) => { rowOf[cell] = row; });
  const select = root.querySelector(".cells-line");
  const number = root.querySelector(".cells-number");
  const strokes = root.querySelector(".cells-strokes");
  const heatmap = root.querySelector(".cells-heatmap");
  const marker = root.querySelector(".cells-marker");
  const step = root.querySelector(".cells-step");
  const readout = root.querySelector(".cells-readout");
  const heightPx = heatmapHeight(rows);
  heatmap.style.height = `${heightPx}px`;
  root.style.setProperty("--heatmap-height", `${heightPx}px`);
  let line = null;
  let cell = data.defaultCell ?? order[0];
  let lineIndex = 0;
  let ranges = colourRanges(data, false);

  const value = (c, t) => (line.values[c * line.count + t] / data.levels) * data.scale[c] * signs[c];

  function drawHeatmap() {
    heatmap.width = line.count;
    heatmap.height = rows;
    const context = heatmap.getContext("2d");
    const image = context.createImageData(line.count, rows);
    const pixels = image.data;
    for (let row = 0; row < rows; row++) {
      const c = order[row];
      const factor = (data.scale[c] * signs[c]) / data.levels / ranges[c];
      const base = c * line.count;
      for (let t = 0; t < line.count; t++) {
        const [r, g, b] = HEAT[level(line.values[base + t] * factor, 1)];
        const at = (row * line.count + t) * 4;
        pixels[at] = r; pixels[at + 1] = g; pixels[at + 2] = b; pixels[at + 3] = 255;
      }
    }
    context.putImageData(image, 0, 0);
  }

  let ink = null; // the strokes' canvas context and placement, set per line and width

  function placeStrokes() {
    const {left, right, top, bottom} = extent(line.points);
    const width = strokes.parentElement.clientWidth || 600;
    const spanX = right - left || 1;
    const spanY = bottom - top || 1;
    const scale = Math.min((width - 2 * STROKE_MARGIN_PX) / spanX, (STROKE_HEIGHT_PX - 2 * STROKE_MARGIN_PX) / spanY);
    const {context} = fitCanvas(strokes, STROKE_HEIGHT_PX);
    ink = {context, width, x: STROKE_MARGIN_PX - left * scale, y: STROKE_MARGIN_PX - top * scale, scale};
  }

  /** The strokes coloured by the chosen cell; at point `at` (a hovered column), a ring. */
  function drawStrokes(at = null) {
    const {context, width, x, y, scale} = ink;
    context.clearRect(0, 0, width, STROKE_HEIGHT_PX);
    const range = ranges[cell];
    paintPoints(context, line.points, {
      x, y, scale, width: 2.5, air: true, colourOf: (t) => INK[level(value(cell, t), range)],
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
    root.dataset.drawnPoints = String(line.count);
  }

  function showChoice() {
    const row = rowOf[cell];
    marker.style.top = `${((row + 0.5) / rows) * 100}%`;
    number.value = String(sorted ? row : cell);
    root.dataset.cell = String(cell);
    root.dataset.row = String(row);
    showReadout();
  }

  /** The readout for the chosen cell, the hover's step marker gone. Leaves the number input
   * alone: the pointer leaves the heatmap while the reader types there (focusing the input
   * can scroll the heatmap away), and rewriting it would undo the typed number. */
  function showReadout() {
    const row = rowOf[cell];
    step.hidden = true;
    readout.textContent = `Strokes coloured by ${label(row)}${describeRow(row)}.`;
  }

  function label(row) {
    const flipped = signs[order[row]] < 0 ? ", sign flipped" : "";
    return sorted ? `row ${row} (cell ${order[row]}${flipped})` : `cell ${order[row]}`;
  }

  function choose(newCell) {
    const begun = performance.now();
    cell = newCell;
    if (!line) return;
    drawStrokes();
    showChoice();
    root.dataset.recolourMs = (performance.now() - begun).toFixed(1);
  }

  async function show(index) {
    lineIndex = index;
    root.dataset.state = "loading";
    const loaded = await loadLine(data.lines[index].file);
    if (index !== lineIndex) return; // the reader picked another line meanwhile
    line = loaded;
    drawHeatmap();
    placeStrokes();
    drawStrokes();
    showChoice();
    root.dataset.line = String(index);
    root.dataset.state = "ready";
    if (!root.dataset.renderMs) root.dataset.renderMs = (performance.now() - started).toFixed(1);
  }

  function pointer(event) {
    const box = heatmap.getBoundingClientRect();
    const row = Math.min(rows - 1, Math.max(0, Math.floor(((event.clientY - box.top) / box.height) * rows)));
    const t = Math.min(line.count - 1, Math.max(0, Math.floor(((event.clientX - box.left) / box.width) * line.count)));
    return {row, t};
  }

  heatmap.addEventListener("click", (event) => {
    if (line) choose(order[pointer(event).row]);
  });
  heatmap.addEventListener("mousemove", (event) => {
    if (!line) return;
    const {row, t} = pointer(event);
    step.hidden = false;
    step.style.left = `${((t + 0.5) / line.count) * 100}%`;
    step.dataset.label = `point ${t}`;
    drawStrokes(t);
    readout.textContent = `${label(row)}, point ${t}: c = ${value(order[row], t).toFixed(2)}${describeRow(row)}`;
  });
  heatmap.addEventListener("mouseleave", () => {
    if (!line) return;
    drawStrokes();
    showReadout();
  });
  heatmap.addEventListener("keydown", (event) => {
    const steps = {ArrowUp: -1, ArrowDown: 1, PageUp: -PAGE_ROWS, PageDown: PAGE_ROWS, Home: -rows, End: rows};
    if (!(event.key in steps)) return;
    event.preventDefault();
    choose(order[Math.min(rows - 1, Math.max(0, rowOf[cell] + steps[event.key]))]);
  });
  number.max = String(rows - 1);
  number.addEventListener("change", () => {
    const wanted = Math.min(rows - 1, Math.max(0, Math.round(Number(number.value)) || 0));
    choose(sorted ? order[wanted] : wanted);
  });
  mountKey(root, data.sharedRange, (shared) => {
    ranges = colourRanges(data, shared);
    if (!line) return;
    drawHeatmap();
    drawStrokes();
  });
  placeGroupLabels(root, heightPx);
  root.addEventListener("click", (event) => {
    const button = event.target.closest("[data-choose-cell]");
    if (!button) return;
    choose(Number(button.dataset.chooseCell));
    reveal(strokes, heatmap);
  });
  select.addEventListener("change", () => show(Number(select.value)).catch(fail));
  onWidthChange(strokes.parentElement, () => {
    if (!line) return;
    placeStrokes();
    drawStrokes();
  });

  function fail(error) {
    root.dataset.state = "failed";
    readout.textContent = "The cell values could not be loaded.";
    console.error(error);
  }
  show(0).catch(fail);
  return {choose};
}
