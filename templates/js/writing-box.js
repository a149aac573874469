// @ts-check
/**
 * The writing box of `continue` and `cells-live`: the reader's pen on a canvas (pointer
 * events), a line from the build that writes itself until the reader starts, the model fed
 * each point of the reader's line once, and the reader's writing saved in the original data
 * format. Drawing is ink.js's; points are [dx, dy, pen_up] in model units, as there.
 */
import {extent, RAW_PER_MODEL_UNIT} from "./ink.js";
import {getModel} from "./model-client.js";
import {whenNear} from "./figure.js";

/**
 * @typedef {import("./handwriting.js").LstmState} LstmState
 * @typedef {import("./handwriting.js").Point} Point
 * @typedef {import("./model-client.js").ModelClient} ModelClient
 * @typedef {object} PenOptions
 * @property {number} scale  CSS pixels per model unit
 * @property {number} [minStep]  model units the pen must move for a new point
 * @property {() => void} [onStart]  the reader puts the pen down
 * @property {() => void} [onPoint]
 * @property {() => void} [onStrokeEnd]
 * @typedef {{c: Float32Array, count: number}} Fed  cell states of the newly fed points (count x cells)
 * @typedef {{scale: number, demo?: Point[]}} BoxSettings  a writing figure's; scale may shrink to fit
 * @typedef {object} BoxEvents
 * @property {() => void} onChange  the writing changed
 * @property {() => void} onClear  it was wiped
 * @property {(model: ModelClient) => void} onModel  the model is there
 */

/**
 * The reader's pen on a canvas (mouse, touch or pen through pointer events). Keeps the
 * written line as `start` (CSS pixels) and `points` (model units); calls onPoint() when a
 * point is added and onStrokeEnd() when the pen lifts. A new point needs `minStep` model units
 * of movement, so the sampling density resembles the pen data the model learned from.
 */
export class PenInput {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {PenOptions} options
   */
  constructor(canvas, {scale, minStep = 0.3, onStart, onPoint, onStrokeEnd}) {
    this.canvas = canvas;
    this.scale = scale;
    this.minStep = minStep;
    this.onStart = onStart;
    this.onPoint = onPoint;
    this.onStrokeEnd = onStrokeEnd;
    /** @type {[number, number] | null} where the line starts, CSS pixels */
    this.start = null;
    /** @type {Point[]} */
    this.points = [];
    /** @type {[number, number] | null} the last position, CSS pixels */
    this.last = null;
    /** @type {number | null} */
    this.pointerId = null;
    this.clear();
    canvas.style.touchAction = "none";
    canvas.addEventListener("pointerdown", (event) => this.down(event));
    canvas.addEventListener("pointermove", (event) => this.move(event));
    for (const type of /** @type {const} */ (["pointerup", "pointercancel"])) {
      canvas.addEventListener(type, (event) => this.up(event));
    }
  }

  clear() {
    this.start = null;
    this.points = [];
    this.last = null;
    this.pointerId = null;
  }

  /** @param {PointerEvent} event @returns {[number, number]} */
  position(event) {
    const box = this.canvas.getBoundingClientRect();
    return [event.clientX - box.left, event.clientY - box.top];
  }

  /** Whether the reader's pen is on the canvas: then the last point's pen flag is not final. */
  get writing() {
    return this.pointerId !== null;
  }

  /** @param {[number, number]} position CSS pixels @param {number} [penUp] */
  add([x, y], penUp = 0) {
    if (!this.start) {
      this.start = [x, y];
    } else {
      this.points.push([(x - this.last[0]) / this.scale, (y - this.last[1]) / this.scale, penUp]);
    }
    this.last = [x, y];
    this.onPoint?.();
  }

  /** Writes `line` (model units) from `origin` (CSS pixels) as a hand would; returns stop(). */
  /**
   * @param {Point[]} line
   * @param {[number, number]} origin
   * @param {number} [msPerPoint]
   * @returns {() => void}
   */
  playDemo(line, origin, msPerPoint = 25) {
    this.clear();
    this.add(origin);
    let next = 0;
    const timer = setInterval(() => {
      if (next >= line.length) return clearInterval(timer);
      const [dx, dy, penUp] = line[next++];
      this.add([this.last[0] + dx * this.scale, this.last[1] + dy * this.scale], penUp);
      if (penUp) this.onStrokeEnd?.();
    }, msPerPoint);
    return () => clearInterval(timer);
  }

  /** @param {PointerEvent} event */
  down(event) {
    if (this.pointerId !== null) return;
    event.preventDefault();
    this.onStart?.();
    this.pointerId = event.pointerId;
    this.canvas.setPointerCapture?.(event.pointerId);
    this.add(this.position(event));
  }

  /** @param {PointerEvent} event */
  move(event) {
    if (event.pointerId !== this.pointerId) return;
    for (const sample of event.getCoalescedEvents?.() ?? [event]) {
      const [x, y] = this.position(sample);
      if (Math.hypot(x - this.last[0], y - this.last[1]) >= this.minStep * this.scale) this.add([x, y]);
    }
  }

  /** @param {PointerEvent} event */
  up(event) {
    if (event.pointerId !== this.pointerId) return;
    this.pointerId = null;
    const last = this.points.at(-1);
    if (last) last[2] = 1;
    this.onStrokeEnd?.();
  }
}

/**
 * The reader's line in the original data format (rows of integers in raw pen units, row 0
 * the absolute start), which `python -m model.train --data FILE` reads as one line.
 */
/**
 * @param {[number, number]} start
 * @param {Point[]} points
 * @param {number} scale
 * @returns {number[][]}
 */
export function toRawRows(start, points, scale) {
  const raw = (/** @type {number} */ pixels) => Math.round((pixels / scale) * RAW_PER_MODEL_UNIT);
  const rows = [[raw(start[0]), raw(start[1]), 0]];
  // Rounded cumulatively, so rounding errors never add up along the line.
  let [x, y] = [0, 0];
  let [rawX, rawY] = [0, 0];
  for (const [dx, dy, penUp] of points) {
    x += dx * RAW_PER_MODEL_UNIT;
    y += dy * RAW_PER_MODEL_UNIT;
    rows.push([Math.round(x) - rawX, Math.round(y) - rawY, penUp]);
    [rawX, rawY] = [Math.round(x), Math.round(y)];
  }
  return rows;
}

/**
 * Feeds a growing line to the model, each point once and only when it is final (a point's
 * pen flag is known when the next point arrives or the pen lifts), after the [0, 0, 0] start
 * the article feeds first. `feed` returns the new points' trace rows (c per point).
 */
export class LineFeeder {
  /** @param {ModelClient} model */
  constructor(model) {
    this.model = model;
    /** @type {LstmState | null} */
    this.state = null;
    this.fed = 0;
    this.version = 0;
    this.reset();
  }

  reset() {
    this.state = null;
    this.fed = 0;
    this.version = (this.version ?? 0) + 1;
  }

  /** Feeds points[fed..final); resolves to {c, count} or null if reset meanwhile. */
  /**
   * @param {Point[]} points
   * @param {number} final
   * @returns {Promise<Fed | null>}
   */
  async feed(points, final) {
    const version = this.version;
    this.state ??= (await this.model.trace([[0, 0, 0]])).state;
    if (version !== this.version) return null;
    const fresh = points.slice(this.fed, final);
    if (!fresh.length) return {c: new Float32Array(0), count: 0};
    const trace = await this.model.trace(fresh, {state: this.state});
    if (version !== this.version) return null;
    this.state = trace.state;
    this.fed += fresh.length;
    return {c: trace.c, count: fresh.length};
  }
}

const DEMO_SHARE = 0.55;  // of the box's width, at most, for the demonstration line

/** Where a line must start (CSS pixels) to sit inside the box: left-aligned, centred vertically. */
/**
 * @param {Point[]} line
 * @param {number} scale
 * @param {number} height
 * @returns {[number, number]}
 */
function demoOrigin(line, scale, height) {
  const {left, top, bottom} = extent(line);
  return [2 * scale - left * scale, height / 2 - ((top + bottom) / 2) * scale];
}

/**
 * The writing box of `continue` and `cells-live`: the reader's pen on canvas, a line from the
 * build that writes itself as a demonstration until the reader starts, and the model, loaded
 * when the figure first comes near the screen (status shows progress) while the demo writes.
 * On a narrow screen settings.scale shrinks so that the demonstration leaves room to continue.
 * Calls events.onChange() when the writing changes, onClear() when it is wiped, onModel(model)
 * once the model is there. `feeder` is null until then.
 */
export class WritingBox {
  /**
   * @param {HTMLElement} root  the figure's, whose data-source (demo, reader) and data-state it keeps
   * @param {HTMLCanvasElement} canvas
   * @param {HTMLElement} status
   * @param {BoxSettings} settings
   * @param {BoxEvents} events
   */
  constructor(root, canvas, status, settings, events) {
    this.root = root;
    this.canvas = canvas;
    this.status = status;
    this.settings = settings;
    this.events = events;
    const {left, right} = extent(settings.demo ?? []);
    settings.scale = Math.min(settings.scale, (DEMO_SHARE * canvas.clientWidth) / Math.max(1, right - left));
    this.stopDemo = () => {};
    /** @type {LineFeeder | null} */
    this.feeder = null;
    this.pen = new PenInput(canvas, {
      scale: settings.scale,
      onStart: () => {
        this.stopDemo();
        if (root.dataset.source !== "reader") this.wipe("reader");
      },
      onPoint: events.onChange,
      onStrokeEnd: events.onChange,
    });
    whenNear(root, () => this.load());
  }

  /** The reader wipes the box. */
  clear() {
    this.stopDemo();
    this.wipe("reader");
  }

  /** @param {"demo" | "reader"} source  who writes next */
  wipe(source) {
    this.root.dataset.source = source;
    this.pen.clear();
    this.feeder?.reset();
    this.events.onClear();
  }

  /** Starts the demonstration, which needs no model, and loads the model meanwhile. */
  async load() {
    const {demo, scale} = this.settings;
    if (!this.pen.start && demo?.length) {
      this.wipe("demo");
      this.stopDemo = this.pen.playDemo(demo, demoOrigin(demo, scale, this.canvas.clientHeight));
    }
    this.status.textContent = "Loading the model…";
    try {
      const model = await getModel();
      this.feeder = new LineFeeder(model);
      this.status.textContent = "";
      this.events.onModel(model);
    } catch (error) {
      this.status.textContent = `The model could not load (${error.message}).`;
      return;
    }
    this.root.dataset.state = "ready";
    this.events.onChange();
  }
}
