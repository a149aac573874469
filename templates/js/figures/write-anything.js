/**
 * "Write anything": the reader types, the text model (Graves 2013, section 5; writer-model.js in
 * its worker, model-client.js's getWriter) writes it, and the figure draws each point as it
 * is sampled. Beneath, live, the soft window (Graves's figure 13): one row per character, one
 * column per point, phi as the colour, a line at the newest point.
 *
 * The model learned lines of a few words, so the text is wrapped into rows of at most
 * rowChars characters, written one after another, each from the model's start state. Typing
 * stops the writing at once; it starts again on the new text after a short pause. What the
 * model cannot write is said in the figure: an empty text, a text cut at maxChars, characters
 * outside its alphabet (skipped). The root's data-text is the text being written,
 * data-drawn-points the points drawn so far, data-window-steps the window's columns.
 *
 * Write like me (Graves 2013, section 5.5, priming): the reader writes a few words in a small
 * pen box (writing-box.js's PenInput, at the scale the model's writing is drawn) and types what
 * they wrote; every row is then written after the model has read those strokes and that text,
 * in the same session of its memory. data-primed says whether it is.
 */
import {getWriter} from "../model-client.js";
import {download, figureData, onVisibility, onWidthChange} from "../figure.js";
import {fitCanvas, linesToSvg, paintPoints} from "../ink.js";
import {PenInput} from "../writing-box.js";

const NAME = "write-anything";
const INK = "#1d1d1f";
const MARGIN = 12;  // CSS pixels left of each row
// Where a row starts, as a share of the row's height: the model's pen goes about as far up as down.
const BASELINE = 0.55;
const TYPING_PAUSE = 250;  // ms without a keystroke before the new text is written (first point goal: 300)
const WINDOW_HEIGHT = 220;  // CSS pixels the window's rows share, between these heights per character
const CHAR_HEIGHT = {min: 3, max: 14, labelled: 8};  // (labelled: the least that shows the characters)

/**
 * The typed text as the model writes it: spaces collapsed, cut at maxChars, characters outside
 * the alphabet skipped; and a message for each change the reader should know of.
 */
function prepare(typed, {alphabet, maxChars}) {
  let chars = Array.from(typed.trim().replace(/\s+/g, " "));
  if (!chars.length) return {text: "", messages: ["Type some words for the model to write."]};
  const messages = [];
  if (chars.length > maxChars) {
    messages.push(`Only the first ${maxChars} of your ${chars.length} characters are written.`);
    chars = chars.slice(0, maxChars);
  }
  const known = new Set(alphabet);
  const skipped = [...new Set(chars.filter((char) => !known.has(char)))];
  if (skipped.length) {
    messages.push(`Skipped ${skipped.map((char) => `“${char}”`).join(", ")}: the model never learned `
      + `${skipped.length === 1 ? "that character" : "those characters"}.`);
  }
  const text = chars.filter((char) => known.has(char)).join("").replace(/ +/g, " ").trim();
  if (!text) messages.push("Nothing is left to write: use letters, digits or punctuation.");
  return {text, messages};
}

/**
 * The text in rows of at most `width` characters, broken at spaces (a longer word is cut).
 * Exported for bench/write_anything.py, which samples the same rows without the figure.
 */
export function wrap(text, width) {
  const rows = [];
  let row = "";
  for (let word of text.split(" ")) {
    while (word.length > width) {
      if (row) rows.push(row);
      row = "";
      rows.push(word.slice(0, width));
      word = word.slice(width);
    }
    if (row && row.length + 1 + word.length > width) {
      rows.push(row);
      row = word;
    } else if (word) {
      row = row ? `${row} ${word}` : word;
    }
  }
  if (row) rows.push(row);
  return rows;
}

function setUp(root) {
  const settings = {text: "", bias: 1, rowChars: 12, maxChars: 200, scale: 7, rowUnits: 16, seed: 0, alphabet: "",
    pointsPerCharacter: 27, ...figureData(NAME)};
  const canvas = root.querySelector(".write-anything-canvas");
  const textInput = root.querySelector(".write-anything-text");
  const biasInput = root.querySelector(".write-anything-bias");
  const status = root.querySelector(".write-anything-status");
  const message = root.querySelector(".write-anything-message");
  const heat = root.querySelector(".write-anything-heat");
  const labels = root.querySelector(".write-anything-chars");
  const marker = root.querySelector(".write-anything-now");
  let writer = null;
  let version = 0;  // bumped whenever the writing starts over: points of older writings are dropped
  let writing = null;  // the running request: {cancel}
  let seed = settings.seed;
  // {text, offset (of its first character in the window), points, phis, drawn, pen (where painting
  // goes on), x (the pen's, in model units), left and right (the furthest x either way), shownLeft
  // (the left the row was laid out for: the pen may start to the right of its first letter)}
  let rows = [];
  let scale = settings.scale;
  let view = null;
  let columns = 0;  // window columns painted
  let framed = false;
  let typingTimer = 0;
  let loading = null;
  let prime = null;  // {points, text}: the reader's hand, read before every row once they ask

  const rowHeight = () => settings.rowUnits * scale;
  const rowStart = (row) => MARGIN - row.shownLeft * scale;
  const fittingScale = () => Math.min(settings.scale,
    ...rows.map((row) => (canvas.clientWidth - 2 * MARGIN) / Math.max(row.right - row.left, 1)));

  function layout() {
    view = fitCanvas(canvas, Math.max(rows.length, 1) * rowHeight());
    for (const [index, row] of rows.entries()) {
      row.drawn = 0;
      row.shownLeft = row.left;
      row.pen = {x: rowStart(row), y: (index + BASELINE) * rowHeight(), penUp: 1};  // the first offset leaves the start
    }
  }

  /** Starts writing the text box's text afresh (a new seed only when asked). */
  function restart() {
    clearTimeout(typingTimer);
    stop();
    const {text, messages} = prepare(textInput.value, settings);
    message.textContent = messages.join(" ");
    root.dataset.text = text;
    let offset = 0;
    rows = wrap(text, settings.rowChars).map((rowText) => {
      const row = {text: rowText, offset, points: [], phis: [], x: 0, left: 0, right: 0};
      offset += rowText.length;
      return row;
    });
    scale = settings.scale;
    layout();
    resetWindow(rows.map((row) => row.text).join(""));
    draw();
    if (writer && text) writeRows(version);
    else root.dataset.state = text ? "loading" : "idle";
  }

  function stop() {
    version++;
    writing?.cancel();
    writing = null;
  }

  async function writeRows(asked) {
    root.dataset.state = "writing";
    // The window spans the prime's text, a space, then the row's: the strip shows the row's part.
    const primeChars = prime ? Array.from(prime.text).length + 1 : 0;
    for (const [index, row] of rows.entries()) {
      const options = {bias: Number(biasInput.value), seed: seed * 1009 + index, prime: prime ?? undefined};
      writing = writer.write(row.text, options, (_, step) => {
        if (asked !== version) return;
        row.points.push(step.point);
        row.phis.push(step.phi.slice(primeChars));
        row.x += step.point[0];
        row.left = Math.min(row.left, row.x);
        row.right = Math.max(row.right, row.x);
        schedule();
      });
      let result;
      try {
        result = await writing.done;
      } catch (error) {
        status.textContent = `The model stopped (${error.message}).`;
        return;
      }
      if (asked !== version || result === false) return;
    }
    writing = null;
    root.dataset.state = "done";
  }

  function schedule() {
    if (framed) return;
    framed = true;
    requestAnimationFrame(() => {
      framed = false;
      draw();
    });
  }

  /** Paints the points that came since the last frame, the window's new columns, the counts. */
  function draw() {
    if (fittingScale() < scale * 0.98 || rows.some((row) => row.left < row.shownLeft)) {
      scale = Math.min(scale, fittingScale());  // a row would leave the box: write everything smaller, or further right
      layout();
    }
    for (const row of rows) {
      row.pen = paintPoints(view.context, row.points.slice(row.drawn), {...row.pen, scale, colour: INK, width: 1.8,
        air: false});
      row.drawn = row.points.length;
    }
    paintWindow();
    root.dataset.drawnPoints = String(rows.reduce((total, row) => total + row.drawn, 0));
  }

  // --- the window: heat (one pixel per point and character, stretched by CSS) and the labels

  function resetWindow(chars) {
    const height = Math.max(CHAR_HEIGHT.min, Math.min(CHAR_HEIGHT.max, Math.floor(WINDOW_HEIGHT / chars.length)));
    heat.width = Math.max(64, Math.ceil(chars.length * settings.pointsPerCharacter * 1.2));
    heat.height = Math.max(chars.length, 1);
    heat.style.height = `${height * chars.length}px`;
    labels.replaceChildren(...Array.from(chars, (char) => {
      const label = document.createElement("span");
      label.textContent = height >= CHAR_HEIGHT.labelled ? char : "";
      label.style.height = `${height}px`;
      return label;
    }));
    labels.hidden = height < CHAR_HEIGHT.labelled;
    columns = 0;
    marker.hidden = true;
    root.dataset.windowSteps = "0";
  }

  function paintWindow() {
    const steps = rows.flatMap((row) => row.phis.map((phi) => ({phi, row})));
    if (steps.length > heat.width) {  // longer than foreseen: twice as wide, painted again
      heat.width = 2 * steps.length;
      columns = 0;
    }
    if (steps.length === columns) return;
    const context = heat.getContext("2d");
    const image = context.createImageData(steps.length - columns, heat.height);
    steps.slice(columns).forEach(({phi, row}, column) => {
      for (let u = 0; u < heat.height; u++) {
        const value = u >= row.offset && u < row.offset + row.text.length ? Math.min(1, phi[u - row.offset]) : 0;
        const at = 4 * (u * image.width + column);
        image.data.set([255 - 200 * value, 255 - 160 * value, 255 - 90 * value, 255], at);
      }
    });
    context.putImageData(image, columns, 0);
    columns = steps.length;
    root.dataset.windowSteps = String(columns);
    marker.hidden = false;
    marker.style.left = `${(100 * (columns - 0.5)) / heat.width}%`;
    const {phi, row} = steps.at(-1);
    const reading = row.offset + phi.slice(0, row.text.length).indexOf(Math.max(...phi.slice(0, row.text.length)));
    labels.querySelector(".reading")?.classList.remove("reading");
    labels.children[reading]?.classList.add("reading");
  }

  // --- write like me: the reader's hand primes the model

  const hand = root.querySelector(".write-anything-hand");
  const handText = root.querySelector(".write-anything-hand-text");
  let handView = fitCanvas(hand, settings.rowUnits * settings.scale);
  const paintHand = () => {
    handView.context.clearRect(0, 0, handView.width, handView.height);
    if (!pen.start) return;
    paintPoints(handView.context, pen.points, {x: pen.start[0], y: pen.start[1], scale: settings.scale, colour: INK,
      width: 1.8});
  };
  const pen = new PenInput(hand, {scale: settings.scale, onPoint: paintHand, onStrokeEnd: paintHand});

  function usePrime(next) {
    prime = next;
    root.dataset.primed = String(Boolean(prime));
    restart();
  }

  root.querySelector(".write-anything-like-me").addEventListener("click", () => {
    const text = handText.value.trim().replace(/\s+/g, " ");
    if (!pen.points.length) {
      message.textContent = "Write a few words in the small box first, then type what you wrote.";
    } else if (!text) {
      message.textContent = "Type the words you wrote in the small box, so that the model knows what your strokes say.";
    } else {
      const points = pen.points.map((point) => [...point]);
      points.at(-1)[2] = 1;  // the last stroke has ended, even if a pointer was lost
      usePrime({points, text});
    }
  });
  root.querySelector(".write-anything-hand-clear").addEventListener("click", () => {
    pen.clear();
    paintHand();
    if (prime) usePrime(null);
  });
  onWidthChange(hand, () => {
    handView = fitCanvas(hand, settings.rowUnits * settings.scale);
    paintHand();
  });

  textInput.addEventListener("input", () => {
    stop();  // the old text stops at once; the new one is written once the typing pauses
    root.dataset.state = "typing";
    clearTimeout(typingTimer);
    typingTimer = setTimeout(restart, TYPING_PAUSE);
  });
  biasInput.addEventListener("input", () => {
    root.querySelector('output[for="write-anything-bias"]').value = biasInput.value;
  });
  biasInput.addEventListener("change", restart);
  root.querySelector(".write-anything-restart").addEventListener("click", () => {
    seed++;
    restart();
  });
  root.querySelector(".write-anything-save").addEventListener("click", () => {
    const lines = rows.map((row, index) => ({points: row.points.slice(0, row.drawn), x: rowStart(row),
      y: (index + BASELINE) * rowHeight()}));
    download("my-text.svg", linesToSvg(lines, {scale, width: view.width, height: view.height, colour: INK}),
      "image/svg+xml");
  });
  onWidthChange(canvas, () => {
    scale = Math.min(settings.scale, fittingScale());
    layout();
    draw();
  });
  restart();

  onVisibility(root, async (visible) => {
    if (!visible || loading) return;
    status.textContent = "Loading the text model…";
    loading = getWriter();
    try {
      writer = await loading;
    } catch (error) {
      status.textContent = `The text model could not load (${error.message}).`;
      return;
    }
    status.textContent = "";
    restart();
  });
}

const root = document.querySelector(`[data-figure="${NAME}"]`);
if (root) setUp(root);
