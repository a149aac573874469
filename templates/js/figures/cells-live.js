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
import {coalesce, figureData, onWidthChange} from "../figure.js";
import {fitCanvas, paintPoints} from "../ink.js";
import {writingBox} from "../writing-box.js";
import {colourRanges, HEAT, heatmapHeight, INK, level, mountKey} from "./heatmap.js";

const NAME = "cells-live";
const SQUARE = 14;  // CSS pixels per cell in the grid, at most
const STEPS = 400;  // columns the heatmap starts with; it widens by as many when full
const EMPTY = [236, 236, 236];  // a column not written yet
const UNFED_INK = "#9e9e9e";

function setUp(root) {
  const settings = {scale: 10, height: 200, demo: [], ...figureData(NAME)};
  const order = settings.order;
  const signs = settings.signs;
  const rows = order.length;
  const rowOf = new Int32Array(rows);
  order.forEach((cell, row) => { rowOf[cell] = row; });
  const canvas = root.querySelector(".cells-live-canvas");
  const heatmap = root.querySelector(".cells-live-heatmap");
  const stepMarker = root.querySelector(".cells-live-step");
  const rowMarker = root.querySelector(".cells-live-row");
  const grid = root.querySelector(".cells-live-grid");
  const gridTitle = root.querySelector(".cells-live-now");
  const readout = root.querySelector(".cells-live-readout");
  const status = root.querySelector(".cells-live-status");
  let view = fitCanvas(canvas, settings.height);
  let gridView = null;
  let layout = {columns: 1, size: SQUARE};
  let history = [];  // c of every cell after each fed point
  let shown = null;  // the step the grid shows while the reader hovers the heatmap
  let chosen = settings.start.cell;
  let ranges = colourRanges(settings, false);
  let image = null;  // the heatmap's pixels: rows x columns
  let painted = 0;  // columns of `image` painted
  heatmap.style.height = `${heatmapHeight(rows)}px`;

  const box = writingBox(root, canvas, status, settings, {
    onChange: () => update(),
    onClear: () => {
      history = [];
      draw();
    },
    onModel: () => fitGrid(),
  });
  const pen = box.pen;

  const shownValue = (c, cell) => c[cell] * signs[cell];

  function fitGrid() {
    const width = grid.clientWidth || canvas.clientWidth;
    const columns = Math.max(10, Math.min(rows, Math.floor(width / SQUARE)));
    layout = {columns, size: width / columns};
    gridView = fitCanvas(grid, Math.ceil(rows / columns) * layout.size);
  }

  function paintColumn(t) {
    const pixels = image.data;
    const width = image.width;
    for (let row = 0; row < rows; row++) {
      const cell = order[row];
      const [r, g, b] = t < history.length ? HEAT[level(shownValue(history[t], cell), ranges[cell])] : EMPTY;
      const at = (row * width + t) * 4;
      pixels[at] = r; pixels[at + 1] = g; pixels[at + 2] = b; pixels[at + 3] = 255;
    }
  }

  /** Paints the columns written since the last call (all of them after a clear or a new scale). */
  function drawHeatmap(repaint = false) {
    const columns = Math.max(STEPS, Math.ceil(history.length / STEPS) * STEPS);
    if (!image || image.width !== columns || repaint || painted > history.length) {
      heatmap.width = columns;
      heatmap.height = rows;
      image = heatmap.getContext("2d").createImageData(columns, rows);
      for (let t = 0; t < columns; t++) paintColumn(t);
    } else {
      for (let t = painted; t < history.length; t++) paintColumn(t);
    }
    painted = history.length;
    heatmap.getContext("2d").putImageData(image, 0, 0);
    root.dataset.steps = String(history.length);
  }

  function drawWriting() {
    view.context.clearRect(0, 0, view.width, view.height);
    if (!pen.start) return;
    paintPoints(view.context, pen.points, {x: pen.start[0], y: pen.start[1], scale: settings.scale, width: 3,
      air: true,
      colourOf: (i) => (i < history.length ? INK[level(shownValue(history[i], chosen), ranges[chosen])] : UNFED_INK)});
  }

  function drawGrid() {
    const step = shown ?? history.length;
    const current = history[step - 1];
    stepMarker.hidden = step === 0;
    stepMarker.style.left = `${((step - 0.5) / image.width) * 100}%`;
    stepMarker.dataset.label = `step ${step}`;
    rowMarker.style.top = `${((rowOf[chosen] + 0.5) / rows) * 100}%`;
    gridTitle.innerHTML = `Activations at <b>step ${step}</b>`;
    if (!gridView) return;
    const {context} = gridView;
    context.clearRect(0, 0, gridView.width, gridView.height);
    for (let row = 0; row < rows; row++) {
      const cell = order[row];
      const [r, g, b] = current ? HEAT[level(shownValue(current, cell), ranges[cell])] : EMPTY;
      context.fillStyle = `rgb(${r},${g},${b})`;
      const [x, y] = [(row % layout.columns) * layout.size, Math.floor(row / layout.columns) * layout.size];
      context.fillRect(x + 0.5, y + 0.5, layout.size - 1, layout.size - 1);
      if (cell === chosen) {
        context.strokeStyle = "#000";
        context.lineWidth = 2;
        context.strokeRect(x + 1, y + 1, layout.size - 2, layout.size - 2);
      }
    }
    describe(current);
  }

  function describe(current) {
    const value = current ? `; now ${shownValue(current, chosen).toFixed(2)}` : "";
    const start = settings.start;
    const measured = chosen === start.cell ? `, which follows ${start.label} (r = ${start.r.toFixed(2)})` : "";
    readout.textContent = `The writing is coloured by row ${rowOf[chosen]} (cell ${chosen})${measured}${value}. `
      + "Tap the heatmap or a square to choose another cell.";
  }

  function draw() {
    drawHeatmap();
    drawWriting();
    drawGrid();
    root.dataset.drawnPoints = String(pen.start ? 1 + pen.points.length : 0);
  }

  const update = coalesce(async () => {
    if (!box.feeder || !pen.start) return draw();
    const fed = await box.feeder.feed(pen.points, pen.writing ? pen.points.length - 1 : pen.points.length);
    if (!fed) return;
    const cells = fed.count ? fed.c.length / fed.count : 0;
    for (let k = 0; k < fed.count; k++) history.push(fed.c.subarray(k * cells, (k + 1) * cells));
    draw();
  });

  function choose(cell) {
    chosen = cell;
    drawWriting();
    drawGrid();
  }

  const rowInGrid = (event) => {
    const bounds = grid.getBoundingClientRect();
    const [x, y] = [event.clientX - bounds.left, event.clientY - bounds.top];
    const row = Math.floor(y / layout.size) * layout.columns + Math.floor(x / layout.size);
    return row >= 0 && row < rows ? row : null;
  };
  const atHeatmap = (event) => {
    const bounds = heatmap.getBoundingClientRect();
    const row = Math.min(rows - 1, Math.max(0, Math.floor(((event.clientY - bounds.top) / bounds.height) * rows)));
    const step = Math.floor(((event.clientX - bounds.left) / bounds.width) * image.width) + 1;
    return {row, step};
  };
  grid.addEventListener("pointerdown", (event) => {
    const row = rowInGrid(event);
    if (row !== null) choose(order[row]);
  });
  grid.addEventListener("pointermove", (event) => {
    const row = rowInGrid(event);
    const current = history[(shown ?? history.length) - 1];
    if (row === null || !current) return;
    const value = shownValue(current, order[row]).toFixed(2);
    readout.textContent = `Row ${row} (cell ${order[row]}): ${value}. Tap to colour the writing by it.`;
  });
  grid.addEventListener("pointerleave", () => drawGrid());
  heatmap.addEventListener("pointerdown", (event) => choose(order[atHeatmap(event).row]));
  heatmap.addEventListener("pointermove", (event) => {
    const {step} = atHeatmap(event);
    shown = step <= history.length ? step : null;
    drawGrid();
  });
  heatmap.addEventListener("pointerleave", () => {
    shown = null;
    drawGrid();
  });
  mountKey(root, settings.sharedRange, (shared) => {
    ranges = colourRanges(settings, shared);
    drawHeatmap(true);
    drawWriting();
    drawGrid();
  });
  root.querySelector(".cells-live-clear").addEventListener("click", () => box.clear());
  onWidthChange(canvas, () => {
    view = fitCanvas(canvas, settings.height);
    if (gridView) fitGrid();
    draw();
  });
  draw();
}

const root = document.querySelector(`[data-figure="${NAME}"]`);
if (root) setUp(root);
