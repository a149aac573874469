// @ts-check
/**
 * "Write like me", the pen box of the `write-anything` figure (Graves 2013, section 5.5,
 * priming): the reader writes a few words in a small box (writing-box.js's PenInput, at the
 * scale the model's writing is drawn) and types what they wrote; once they ask, `prime` holds
 * those strokes and that text, which the text model reads before every row it writes.
 */
import {onWidthChange, part} from "../figure.js";
import {fitCanvas, paintPoints} from "../ink.js";
import {PenInput} from "../writing-box.js";

/**
 * @typedef {import("../ink.js").CanvasView} CanvasView
 * @typedef {import("../writer-model.js").Prime} Prime
 * @typedef {object} HandEvents
 * @property {() => void} onChange  `prime` changed
 * @property {(text: string) => void} say  tells the reader what is missing
 */

const INK = "#1d1d1f";
const HINT = "#8a8a8e";  // the empty box's hint, lighter than any ink
const MAX_PRIME_POINTS = 1500;  // about a line of 50 characters, read in about a second
const MAX_PRIME_CHARS = 100;

export class HandBox {
  /**
   * @param {HTMLElement} root  the write-anything figure
   * @param {{scale: number, rowUnits: number}} settings  the figure's: the writing's scale and row height
   * @param {HandEvents} events
   */
  constructor(root, {scale, rowUnits}, events) {
    this.root = root;
    this.scale = scale;
    this.height = rowUnits * scale;
    this.events = events;
    this.canvas = part(root, ".write-anything-hand", HTMLCanvasElement);
    this.textInput = part(root, ".write-anything-hand-text", HTMLInputElement);
    /** @type {Prime | null} the reader's hand, read before every row once they ask */
    this.prime = null;
    /** @type {CanvasView} */
    this.view = null;
    /** @type {PenInput} */
    this.pen = null;
  }

  mount() {
    this.view = fitCanvas(this.canvas, this.height);
    this.pen = new PenInput(this.canvas, {scale: this.scale, onPoint: () => this.paint(),
      onStrokeEnd: () => this.paint()});
    this.paint();
    part(this.root, ".write-anything-like-me", HTMLButtonElement).addEventListener("click", () => this.use());
    part(this.root, ".write-anything-hand-clear", HTMLButtonElement).addEventListener("click", () => this.clear());
    onWidthChange(this.canvas, () => {
      this.view = fitCanvas(this.canvas, this.height);
      this.paint();
    });
  }

  paint() {
    const {view, pen} = this;
    view.context.clearRect(0, 0, view.width, view.height);
    if (!pen.start) {  // an empty box says what it is for
      view.context.fillStyle = HINT;
      view.context.font = "italic 15px system-ui, sans-serif";
      view.context.textBaseline = "middle";
      view.context.fillText("Write a few words here", 12, view.height / 2);
      return;
    }
    paintPoints(view.context, pen.points, {x: pen.start[0], y: pen.start[1], scale: this.scale, colour: INK,
      width: 1.8});
  }

  /** The reader asks the model to write like them: the strokes and their text become the prime. */
  use() {
    const text = this.textInput.value.trim().replace(/\s+/g, " ");
    if (!this.pen.points.length) {
      this.events.say("Write a few words in the small box first, then type what you wrote.");
    } else if (!text) {
      this.events.say("Type the words you wrote in the small box, so that the model knows what your strokes say.");
    } else {
      // The model reads the prime before every row: the first MAX_PRIME_POINTS keep that quick.
      const points = this.pen.points.slice(0, MAX_PRIME_POINTS)
        .map((point) => /** @type {typeof point} */ ([...point]));
      points.at(-1)[2] = 1;  // the last stroke has ended, even if a pointer was lost
      this.prime = {points, text: text.slice(0, MAX_PRIME_CHARS)};
      this.events.onChange();
      if (this.pen.points.length > MAX_PRIME_POINTS) {
        this.events.say(`The model reads the first ${MAX_PRIME_POINTS} of your ${this.pen.points.length} points.`);
      }
    }
  }

  clear() {
    this.pen.clear();
    this.paint();
    if (!this.prime) return;
    this.prime = null;
    this.events.onChange();
  }
}
