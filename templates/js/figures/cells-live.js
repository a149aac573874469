/**
 * "Watch the cells" (Carter et al., Distill 2016): as the reader writes, every LSTM cell state
 * c of the model (Graves 2013, section 4.2) updates live in a compact grid, one square per
 * cell, red for positive and blue for negative (tanh of the value). Choosing a square colours
 * the writing by that cell's value at each point, relative to its largest magnitude along the
 * line, so its job along the line can be seen. Until the reader writes,
 * a human line writes itself, coloured by the cell that varies most along it.
 */
import {coalesce, figureData, onWidthChange} from "../figure.js";
import {fitCanvas, paintPoints} from "../ink.js";
import {writingBox} from "../writing-box.js";

const NAME = "cells-live";
const SQUARE = 14;  // CSS pixels per cell in the grid, at most
const UNFED_INK = "#9e9e9e";

/** Diverging colour for a value in [-1, 1]: blue - white - red. */
function cellColour(t) {
  const [r, g, b] = t >= 0 ? [178, 24, 43] : [33, 102, 172];
  const mix = (channel) => Math.round(255 + (channel - 255) * Math.abs(t));
  return `rgb(${mix(r)},${mix(g)},${mix(b)})`;
}

function setUp(root) {
  const settings = {scale: 10, height: 200, cell: 0, demo: [], ...figureData(NAME)};
  const canvas = root.querySelector(".cells-live-canvas");
  const grid = root.querySelector(".cells-live-grid");
  const readout = root.querySelector(".cells-live-readout");
  const status = root.querySelector(".cells-live-status");
  let view = fitCanvas(canvas, settings.height);
  let gridView = null;
  let layout = {columns: 1, size: SQUARE};
  let cells = 0;
  let history = [];  // c of every cell after each fed point
  let chosen = settings.cell;
  const box = writingBox(root, canvas, status, settings, {
    onChange: () => update(),
    onClear: () => {
      history = [];
      draw();
    },
    onModel: (model) => {
      cells = model.info.layers * model.info.cells;
      chosen = Math.min(chosen, cells - 1);
      fitGrid();
    },
  });
  const pen = box.pen;

  function fitGrid() {
    const width = grid.clientWidth || canvas.clientWidth;
    const columns = Math.max(10, Math.min(cells, Math.floor(width / SQUARE)));
    layout = {columns, size: width / columns};
    gridView = fitCanvas(grid, Math.ceil(cells / columns) * layout.size);
  }

  function drawWriting() {
    view.context.clearRect(0, 0, view.width, view.height);
    if (!pen.start) return;
    // Relative to the cell's largest magnitude along the line: the pattern shows at any scale.
    const largest = history.reduce((most, c) => Math.max(most, Math.abs(c[chosen])), 1e-6);
    paintPoints(view.context, pen.points, {x: pen.start[0], y: pen.start[1], scale: settings.scale, width: 3,
      colourOf: (i) => (i < history.length ? cellColour(history[i][chosen] / largest) : UNFED_INK)});
  }

  function drawGrid() {
    if (!gridView) return;
    const {context} = gridView;
    const current = history.at(-1);
    context.clearRect(0, 0, gridView.width, gridView.height);
    for (let cell = 0; cell < cells; cell++) {
      context.fillStyle = current ? cellColour(Math.tanh(current[cell])) : "#f3f3f3";
      const [x, y] = [(cell % layout.columns) * layout.size, Math.floor(cell / layout.columns) * layout.size];
      context.fillRect(x + 0.5, y + 0.5, layout.size - 1, layout.size - 1);
      if (cell === chosen) {
        context.strokeStyle = "#000";
        context.lineWidth = 2;
        context.strokeRect(x + 1, y + 1, layout.size - 2, layout.size - 2);
      }
    }
    const value = current ? current[chosen].toFixed(2) : "–";
    readout.textContent = `Colouring the writing by cell ${chosen} (now ${value}). `
      + "Tap a square to choose another cell.";
  }

  function draw() {
    drawWriting();
    drawGrid();
    root.dataset.drawnPoints = String(pen.start ? 1 + pen.points.length : 0);
  }

  const update = coalesce(async () => {
    if (!box.feeder || !pen.start) return draw();
    const fed = await box.feeder.feed(pen.points, pen.writing ? pen.points.length - 1 : pen.points.length);
    if (!fed) return;
    for (let k = 0; k < fed.count; k++) history.push(fed.c.subarray(k * cells, (k + 1) * cells));
    draw();
  });

  const cellAt = (event) => {
    const box = grid.getBoundingClientRect();
    const row = Math.floor((event.clientY - box.top) / layout.size);
    const cell = row * layout.columns + Math.floor((event.clientX - box.left) / layout.size);
    return cell >= 0 && cell < cells ? cell : null;
  };
  grid.addEventListener("pointerdown", (event) => {
    const cell = cellAt(event);
    if (cell !== null) {
      chosen = cell;
      draw();
    }
  });
  grid.addEventListener("pointermove", (event) => {
    const cell = cellAt(event);
    const current = history.at(-1);
    if (cell === null || !current) return;
    readout.textContent = `Cell ${cell}: ${current[cell].toFixed(2)} now. Tap to colour the writing by it.`;
  });
  grid.addEventListener("pointerleave", () => drawGrid());
  root.querySelector(".cells-live-clear").addEventListener("click", () => box.clear());
  onWidthChange(canvas, () => {
    view = fitCanvas(canvas, settings.height);
    if (cells) fitGrid();
    draw();
  });
  draw();
}

const root = document.querySelector(`[data-figure="${NAME}"]`);
if (root) setUp(root);
