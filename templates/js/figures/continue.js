/**
 * "Continue my handwriting", the article's opening figure (Carter et al., Distill 2016): the
 * reader writes with a mouse, finger or pen, and as they write the model (Graves 2013, section
 * 4.2) continues their strokes from its state after reading everything so far. Controls: how
 * many points to predict, the variation (sampling temperature), clear, and a download of the
 * reader's writing in the original data format, ready for `python -m model.train`.
 *
 * Until the reader writes, a human line from the build writes itself as a demonstration.
 */
import {coalesce, download, figureData, onWidthChange} from "../figure.js";
import {fitCanvas, paintPoints} from "../ink.js";
import {toRawRows, writingBox} from "../writing-box.js";

const NAME = "continue";
const READER_INK = "#1d1d1f";
const MODEL_INK = "#c2185b";

/** The continuation up to where it would leave the box: it stops at the edge. */
function withinBox(points, [x, y], scale, {width, height}) {
  const edge = 2;  // CSS pixels kept clear, so the end dot is whole
  for (let i = 0; i < points.length; i++) {
    x += points[i][0] * scale;
    y += points[i][1] * scale;
    if (x < edge || x > width - edge || y < edge || y > height - edge) return points.slice(0, i);
  }
  return points;
}

function setUp(root) {
  const settings = {scale: 18, height: 280, predict: 80, temperature: 0.65, seed: 0, demo: [], ...figureData(NAME)};
  const canvas = root.querySelector(".continue-canvas");
  const lengthInput = root.querySelector(".continue-length");
  const variationInput = root.querySelector(".continue-variation");
  const status = root.querySelector(".continue-status");
  const downloadButton = root.querySelector(".continue-download");
  let view = fitCanvas(canvas, settings.height);
  let prediction = [];
  const box = writingBox(root, canvas, status, settings, {
    onChange: () => update(),
    onClear: () => {
      prediction = [];
      draw();
    },
    onModel: () => (status.textContent = "Write in the box: the model continues in pink."),
  });
  const pen = box.pen;

  function draw() {
    view.context.clearRect(0, 0, view.width, view.height);
    let drawn = 0;
    if (pen.start) {
      const [x, y] = pen.start;
      paintPoints(view.context, pen.points, {x, y, scale: settings.scale, colour: READER_INK, width: 2.5, air: true});
      const shown = withinBox(prediction, pen.last, settings.scale, view);
      const end = paintPoints(view.context, shown, {x: pen.last[0], y: pen.last[1], scale: settings.scale,
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
    downloadButton.disabled = pen.points.length === 0;
  }

  // From the state after the final points (plus the stroke's last point, pen still down, when
  // the reader is mid-stroke) the model samples the continuation.
  const update = coalesce(async () => {
    const feeder = box.feeder;
    if (!feeder || !pen.start) return draw();
    const version = feeder.version;
    const final = pen.writing ? pen.points.length - 1 : pen.points.length;
    if (!(await feeder.feed(pen.points, final))) return;
    let state = feeder.state;
    if (final < pen.points.length) state = (await feeder.model.trace(pen.points.slice(final), {state})).state;
    const [points] = await feeder.model.sample(Number(lengthInput.value),
      {state, temperature: Number(variationInput.value), seed: settings.seed});
    if (version !== feeder.version) return;
    prediction = points;
    draw();
  });

  root.querySelector(".continue-clear").addEventListener("click", () => box.clear());
  // One file per line, numbered, so a reader's lines can share a folder: model.train reads
  // a folder of them (and needs two lines at least, one to hold out).
  let downloads = 0;
  downloadButton.addEventListener("click", () => {
    const rows = toRawRows(pen.start, pen.points, settings.scale);
    download(`my-handwriting-${++downloads}.json`, JSON.stringify(rows) + "\n", "application/json");
  });
  for (const input of [lengthInput, variationInput]) {
    input.addEventListener("input", () => {
      root.querySelector(`output[for="${input.id}"]`).value = input.value;
      update();
    });
  }
  onWidthChange(canvas, () => {
    view = fitCanvas(canvas, settings.height);
    draw();
  });
  draw();
}

const root = document.querySelector(`[data-figure="${NAME}"]`);
if (root) setUp(root);
