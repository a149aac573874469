// @ts-check
/**
 * "Write anything": the reader types, the text model (Graves 2013, section 5; writer-model.js in
 * its worker, model-client.js's getWriter) writes it, and the figure draws each point as it
 * is sampled. Beneath, live, the soft window (Graves's figure 13): one row per character, one
 * column per point, phi as the colour, a line at the newest point.
 *
 * The text is wrapped into rows at word boundaries: as many characters as fit the box at the
 * figure's scale, at most the longest lines the model learned (rowChars); the rows are
 * written one after another, each from the model's start state. Typing
 * stops the writing at once; it starts again on the new text after a short pause. What the
 * model cannot write is said in the figure: an empty text, a text cut at maxChars, characters
 * outside its alphabet (skipped). The root's data-text is the text being written,
 * data-drawn-points the points drawn so far, data-window-steps the window's columns.
 *
 * Write like me (write-like-me.js): once the reader has written and typed a few words of their
 * own, every row is written after the model has read those strokes and that text, in the same
 * session of its memory. data-primed says whether it is.
 */
import {getWriter} from "../model-client.js";
import {download, figureData, figureRoot, onVisibility, onWidthChange, part} from "../figure.js";
import {fitCanvas, linesToSvg, paintPoints} from "../ink.js";
import {HandBox} from "./write-like-me.js";

/**
 * @typedef {import("../handwriting.js").Point} Point
 * @typedef {import("../ink.js").CanvasView} CanvasView
 * @typedef {import("../ink.js").Pen} Pen
 * @typedef {import("../model-client.js").WriterClient} WriterClient
 * @typedef {import("../writer-model.js").Prime} Prime
 * @typedef {object} Settings  generator/figures/write_anything.py's
 * @property {string} text  the text box's first text
 * @property {number} bias
 * @property {number} rowChars  the longest lines the model learned, in characters
 * @property {number} unitsPerCharacter  the model's writing's width per character, in model units
 * @property {number} maxChars
 * @property {number} scale  CSS pixels per model unit, at most
 * @property {number} rowUnits  a row's height in model units
 * @property {number} seed
 * @property {string} alphabet
 * @property {number} pointsPerCharacter
 * @property {{name: string, label: string}[]} hands  the writer's, for the hand picker (none: no picker)
 * @typedef {object} Row  one row of the text as it is written
 * @property {string} text
 * @property {number} offset  of its first character in the window
 * @property {Point[]} points
 * @property {number[][]} phis  the window over the row's characters at each point
 * @property {number} drawn  points painted
 * @property {Pen} pen  where painting goes on
 * @property {number} x  the pen's, in model units from the row's start
 * @property {number} y
 * @property {number} up  whether the pen is up after the last point (the next segment is not inked)
 * @property {number} left  the ink's extent, in model units from the row's start
 * @property {number} right
 * @property {number} top
 * @property {number} bottom
 * @property {number} shownLeft  the extent the row was laid out for (the pen may start right of its
 *   first letter, and loops and descenders reach above and below a row's usual height)
 * @property {number} shownTop
 * @property {number} shownBottom
 * @property {number} startY  the pen's start in the canvas, in CSS pixels
 */

const NAME = "write-anything";
const INK = "#1d1d1f";
const MARGIN = 12;  // CSS pixels left of each row
const PAD = 4;  // CSS pixels above and below each row's ink: half the ink's width, and the box's 2 px border
const SHRINK = 0.9;  // of the scale at which the ink just fits, when it must be written smaller
const TALLEST_ROW = 3;  // rows a row may grow to for its ink before everything is written smaller
const MIN_ROW_CHARS = 8;  // a box narrower than this many characters writes smaller instead
// Where a row starts, as a share of the row's height: the model's pen goes about as far up as down.
const BASELINE = 0.55;
const TYPING_PAUSE = 250;  // ms without a keystroke before the new text is written (first point goal: 300)
const WINDOW_HEIGHT = 220;  // CSS pixels the window's rows share, between these heights per character;
// a longer text scrolls in the window, which follows the character being read
const CHAR_HEIGHT = {min: 11, max: 14};

/**
 * The typed text as the model writes it: spaces collapsed, cut at maxChars, characters outside
 * the alphabet skipped; and a message for each change the reader should know of.
 */
/**
 * @param {string} typed
 * @param {{alphabet: string, maxChars: number}} settings
 * @returns {{text: string, messages: string[]}}
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
 * The text's words in rows of at most `width` characters, broken only between words; a word
 * longer than a row is broken after its own hyphens, and cut with a hyphen where that isn't
 * enough: model/write.py's wrap. Exported for bench/write_anything.py, which samples the same
 * rows without the figure.
 * @param {string} text
 * @param {number} width
 * @returns {string[]}
 */
export function wrap(text, width) {
  /** @type {string[]} */
  const rows = [];
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const pieces = wordPieces(word, width);
    const last = rows.length - 1;
    if (last >= 0 && rows[last].length + 1 + pieces[0].length <= width) rows[last] += ` ${pieces.shift()}`;
    rows.push(...pieces);
  }
  return rows;
}

/**
 * @param {string} word
 * @param {number} width
 * @returns {string[]}
 */
function wordPieces(word, width) {
  if (word.length <= width) return [word];
  /** @type {string[]} */
  const pieces = [];
  for (let part of word.match(/[^-]*-+|[^-]+/g) ?? []) {  // "fifty-five": "fifty-", "five"
    const last = pieces.length - 1;
    if (last >= 0 && pieces[last].length + part.length <= width) {
      pieces[last] += part;
      continue;
    }
    while (part.length > width) {
      pieces.push(`${part.slice(0, width - 1)}-`);
      part = part.slice(width - 1);
    }
    pieces.push(part);
  }
  return pieces;
}

/**
 * The soft window beneath the writing: heat (one pixel per point and character, stretched by
 * CSS), the characters' labels, and a line at the newest point.
 */
class WindowStrip {
  /**
   * @param {HTMLElement} root  the figure's, whose data-window-steps it keeps
   * @param {number} pointsPerCharacter  the corpus's, to size the heat for a text
   */
  constructor(root, pointsPerCharacter) {
    this.root = root;
    this.pointsPerCharacter = pointsPerCharacter;
    this.heat = part(root, ".write-anything-heat", HTMLCanvasElement);
    this.labels = part(root, ".write-anything-chars", HTMLElement);
    this.scroller = part(root, ".write-anything-window", HTMLElement);
    this.marker = part(root, ".write-anything-now", HTMLElement);
    this.columns = 0;  // painted
  }

  /** @param {string} chars  the text the window reads, one row per character */
  reset(chars) {
    const height = Math.max(CHAR_HEIGHT.min, Math.min(CHAR_HEIGHT.max, Math.floor(WINDOW_HEIGHT / chars.length)));
    this.heat.width = Math.max(64, Math.ceil(chars.length * this.pointsPerCharacter * 1.2));
    this.heat.height = Math.max(chars.length, 1);
    this.heat.style.height = `${height * chars.length}px`;
    this.labels.replaceChildren(...Array.from(chars, (char) => {
      const label = document.createElement("span");
      label.textContent = char;
      label.style.height = `${height}px`;
      return label;
    }));
    this.scroller.style.maxHeight = `${WINDOW_HEIGHT + 2}px`;
    this.scroller.scrollTop = 0;
    this.columns = 0;
    this.marker.hidden = true;
    this.root.dataset.windowSteps = "0";
  }

  /** @param {Row[]} rows  paints the columns that came since the last call */
  paint(rows) {
    const {heat, labels, marker} = this;
    const steps = rows.flatMap((row) => row.phis.map((phi) => ({phi, row})));
    if (steps.length > heat.width) {  // longer than foreseen: twice as wide, painted again
      heat.width = 2 * steps.length;
      this.columns = 0;
    }
    if (steps.length === this.columns) return;
    const context = heat.getContext("2d");
    const image = context.createImageData(steps.length - this.columns, heat.height);
    steps.slice(this.columns).forEach(({phi, row}, column) => {
      for (let u = 0; u < heat.height; u++) {
        const value = u >= row.offset && u < row.offset + row.text.length ? Math.min(1, phi[u - row.offset]) : 0;
        const at = 4 * (u * image.width + column);
        image.data.set([255 - 200 * value, 255 - 160 * value, 255 - 90 * value, 255], at);
      }
    });
    context.putImageData(image, this.columns, 0);
    this.columns = steps.length;
    this.root.dataset.windowSteps = String(this.columns);
    marker.hidden = false;
    marker.style.left = `${(100 * (this.columns - 0.5)) / heat.width}%`;
    const {phi, row} = steps.at(-1);
    const reading = row.offset + phi.slice(0, row.text.length).indexOf(Math.max(...phi.slice(0, row.text.length)));
    labels.querySelector(".reading")?.classList.remove("reading");
    const label = /** @type {HTMLElement | undefined} */ (labels.children[reading]);
    if (!label) return;
    label.classList.add("reading");
    const {scroller} = this;  // the character being read stays in view, mid-window
    if (scroller.scrollHeight > scroller.clientHeight) {
      const below = label.getBoundingClientRect().top - scroller.getBoundingClientRect().top + scroller.scrollTop;
      scroller.scrollTop = below - (scroller.clientHeight - label.offsetHeight) / 2;
    }
  }
}

/**
 * Moves the row's pen by one point and widens the row's extent to the ink: both ends of a segment
 * drawn with the pen down (paintPoints's), none of a move in the air.
 * @param {Row} row
 * @param {Point} point
 */
function inkExtent(row, [dx, dy, up]) {
  const [x, y] = [row.x + dx, row.y + dy];
  if (!row.up) {
    row.left = Math.min(row.left, row.x, x);
    row.right = Math.max(row.right, row.x, x);
    row.top = Math.min(row.top, row.y, y);
    row.bottom = Math.max(row.bottom, row.y, y);
  }
  [row.x, row.y, row.up] = [x, y, up];
}

/** The figure: the text box, the writing, the window, and the text model behind them. */
class WriteAnything {
  /**
   * @param {HTMLElement} root
   * @param {Settings} settings
   */
  constructor(root, settings) {
    this.root = root;
    this.settings = settings;
    this.canvas = part(root, ".write-anything-canvas", HTMLCanvasElement);
    this.textInput = part(root, ".write-anything-text", HTMLInputElement);
    this.biasInput = part(root, ".write-anything-bias", HTMLInputElement);
    /** @type {HTMLSelectElement | null} the hand picker: only for a writer trained with hands */
    this.handChoice = settings.hands.length ? part(root, ".write-anything-hand-choice", HTMLSelectElement) : null;
    this.status = part(root, ".write-anything-status", HTMLElement);
    this.message = part(root, ".write-anything-message", HTMLElement);
    this.strip = new WindowStrip(root, settings.pointsPerCharacter);
    this.hand = new HandBox(root, settings, {
      onChange: () => {
        root.dataset.primed = String(Boolean(this.hand.prime));
        // a prime's hand is the one the model reads in it: the picker waits until the box is cleared
        if (this.handChoice) this.handChoice.disabled = Boolean(this.hand.prime);
        this.restart();
      },
      say: (text) => (this.message.textContent = text),
    });
    /** @type {WriterClient | null} */
    this.writer = null;
    /** @type {Promise<WriterClient> | null} */
    this.loading = null;
    this.version = 0;  // bumped whenever the writing starts over: points of older writings are dropped
    /** @type {{cancel: () => void} | null} the running request */
    this.writing = null;
    /** @type {{prime: Prime, hand: Promise<string | undefined>} | null} the hand read in the last prime */
    this.primeHand = null;
    this.seed = settings.seed;
    /** @type {Row[]} */
    this.rows = [];
    this.wrappedAt = 0;  // the characters per row the rows were wrapped at
    this.scale = settings.scale;
    /** @type {CanvasView} */
    this.view = null;
    this.framed = false;  // a frame is asked for
    this.typingTimer = 0;
  }

  mount() {
    const {root, textInput, biasInput} = this;
    this.hand.mount();
    textInput.addEventListener("input", () => {
      this.stop();  // the old text stops at once; the new one is written once the typing pauses
      root.dataset.state = "typing";
      clearTimeout(this.typingTimer);
      this.typingTimer = setTimeout(() => this.restart(), TYPING_PAUSE);
    });
    biasInput.addEventListener("input", () => {
      part(root, 'output[for="write-anything-bias"]', HTMLOutputElement).value = biasInput.value;
    });
    biasInput.addEventListener("change", () => this.restart());
    this.handChoice?.addEventListener("change", () => this.restart());
    part(root, ".write-anything-restart", HTMLButtonElement).addEventListener("click", () => {
      this.seed++;
      this.restart();
    });
    part(root, ".write-anything-save", HTMLButtonElement).addEventListener("click", () => this.save());
    onWidthChange(this.canvas, () => {
      if (this.rowChars() !== this.wrappedAt) {
        this.restart();
        return;
      }
      this.scale = Math.min(this.settings.scale, this.fittingScale());
      this.layout();
      this.draw();
    });
    this.restart();
    onVisibility(root, (visible) => this.load(visible));
  }

  /**
   * Loads the text model the first time the figure comes near the screen.
   * @param {boolean} visible
   */
  async load(visible) {
    if (!visible || this.loading) return;
    this.status.textContent = "Loading the text model…";
    this.loading = getWriter();
    try {
      this.writer = await this.loading;
    } catch (error) {
      this.status.textContent = `The text model could not load (${error.message}).`;
      return;
    }
    this.status.textContent = "";
    this.restart();
  }

  /** @param {Row} row */
  rowStart(row) {
    return MARGIN - row.shownLeft * this.scale;
  }

  /** Characters per row: as many as fit the box at the figure's scale, at most rowChars. */
  rowChars() {
    const {scale, unitsPerCharacter, rowChars} = this.settings;
    const fit = Math.floor((this.canvas.clientWidth - 2 * MARGIN) / (scale * unitsPerCharacter));
    return Math.max(MIN_ROW_CHARS, Math.min(rowChars, fit));
  }

  /** The largest scale at which every row's ink fits the box's width and TALLEST_ROW rows' height. */
  fittingScale() {
    const {scale, rowUnits} = this.settings;
    return Math.min(scale, ...this.rows.map((row) => Math.min(
      (this.canvas.clientWidth - 2 * MARGIN) / Math.max(row.right - row.left, 1),
      (TALLEST_ROW * rowUnits * scale - 2 * PAD) / Math.max(row.bottom - row.top, 1))));
  }

  /**
   * Places the rows one below the other, each as tall as its ink (at least a row's usual height),
   * and paints them afresh.
   */
  layout() {
    const {rowUnits} = this.settings;
    let top = 0;
    for (const row of this.rows) {
      row.drawn = 0;
      row.shownLeft = row.left;
      row.shownTop = Math.min(row.top, -BASELINE * rowUnits);
      row.shownBottom = Math.max(row.bottom, (1 - BASELINE) * rowUnits);
      row.startY = top + PAD - row.shownTop * this.scale;
      // the first offset leaves the start
      row.pen = {x: this.rowStart(row), y: row.startY, penUp: 1};
      top += (row.shownBottom - row.shownTop) * this.scale + 2 * PAD;
    }
    this.view = fitCanvas(this.canvas, Math.max(top, rowUnits * this.scale));
  }

  /** Whether some row's ink reaches out of the place it was laid out in. */
  outgrown() {
    return this.rows.some((row) => row.left < row.shownLeft || row.top < row.shownTop || row.bottom > row.shownBottom)
      || this.fittingScale() < this.scale;
  }

  /** Starts writing the text box's text afresh (a new seed only when asked). */
  restart() {
    const {root} = this;
    clearTimeout(this.typingTimer);
    this.stop();
    const {text, messages} = prepare(this.textInput.value, this.settings);
    this.message.textContent = messages.join(" ");
    root.dataset.text = text;
    let offset = 0;
    this.wrappedAt = this.rowChars();
    this.rows = wrap(text, this.wrappedAt).map((rowText) => {
      /** @type {Row} */
      const row = {text: rowText, offset, points: [], phis: [], drawn: 0, pen: null, x: 0, y: 0, up: 1, left: 0,
        right: 0, top: 0, bottom: 0, shownLeft: 0, shownTop: 0, shownBottom: 0, startY: 0};
      offset += rowText.length;
      return row;
    });
    this.scale = this.settings.scale;
    this.layout();
    this.strip.reset(this.rows.map((row) => row.text).join(""));
    this.draw();
    if (this.writer && text) this.writeRows(this.version);
    else root.dataset.state = text ? "loading" : "idle";
  }

  stop() {
    this.version++;
    this.writing?.cancel();
    this.writing = null;
  }

  /**
   * The hand the writer reads in a prime: read once for all the rows and texts written after it.
   * @param {Prime} prime
   */
  handOf(prime) {
    if (this.primeHand?.prime !== prime) this.primeHand = {prime, hand: this.writer.readHand(prime)};
    return this.primeHand.hand;
  }

  /** @param {number} asked  the version the rows were asked for */
  async writeRows(asked) {
    this.root.dataset.state = "writing";
    const {prime} = this.hand;
    const hand = prime ? await this.handOf(prime) : this.handChoice?.value;
    if (asked !== this.version) return;
    for (const [index, row] of this.rows.entries()) {
      const options = {bias: Number(this.biasInput.value), seed: this.seed * 1009 + index, prime: prime ?? undefined,
        hand};
      const writing = this.writer.write(row.text, options, (_, step) => {
        if (asked !== this.version) return;
        row.points.push(step.point);
        row.phis.push(step.phi);
        inkExtent(row, step.point);
        this.schedule();
      });
      this.writing = writing;
      let result;
      try {
        result = await writing.done;
      } catch (error) {
        this.status.textContent = `The model stopped (${error.message}).`;
        return;
      }
      if (asked !== this.version || result === false) return;
    }
    this.writing = null;
    this.root.dataset.state = "done";
  }

  schedule() {
    if (this.framed) return;
    this.framed = true;
    requestAnimationFrame(() => {
      this.framed = false;
      this.draw();
    });
  }

  /** Paints the points that came since the last frame, the window's new columns, the counts. */
  draw() {
    const {rows} = this;
    if (this.outgrown()) {  // a row would leave the box: everything smaller, or further right, or taller
      const fitting = this.fittingScale();
      if (fitting < this.scale) this.scale = SHRINK * fitting;  // with room to grow, not laid out at every point
      this.layout();
    }
    for (const row of rows) {
      row.pen = paintPoints(this.view.context, row.points.slice(row.drawn), {...row.pen, scale: this.scale,
        colour: INK, width: 1.8, air: false});
      row.drawn = row.points.length;
    }
    this.strip.paint(rows);
    this.root.dataset.drawnPoints = String(rows.reduce((total, row) => total + row.drawn, 0));
  }

  save() {
    const lines = this.rows.map((row) => ({points: row.points.slice(0, row.drawn), x: this.rowStart(row),
      y: row.startY}));
    download("my-text.svg", linesToSvg(lines, {scale: this.scale, width: this.view.width, height: this.view.height,
      colour: INK}), "image/svg+xml");
  }
}

const root = figureRoot(NAME);
if (root) {
  const settings = {text: "", bias: 1, rowChars: 40, unitsPerCharacter: 4.8, maxChars: 200, scale: 4.7, rowUnits: 16,
    seed: 0, alphabet: "", pointsPerCharacter: 27, hands: [], ...figureData(NAME)};
  new WriteAnything(root, settings).mount();
}
