// @ts-check
/**
 * Ink: handwriting on a canvas, for every figure that draws strokes (like magenta-js's
 * sketch_support beside its model). Canvases sized for the screen's pixel ratio, the extent
 * of a line, and a line of pen points painted as strokes, with the pen's moves in the air
 * left out or drawn dotted.
 *
 * Points are [dx, dy, pen_up] offsets in model units (raw pen units / 40, as in Graves 2013
 * and the Distill article); pen_up = 1 marks the last point of a stroke, so the offset after
 * it is a move in the air. A figure shows `scale` CSS pixels per model unit.
 */
/**
 * @typedef {import("./handwriting.js").Point} Point
 * @typedef {{context: CanvasRenderingContext2D, width: number, height: number}} CanvasView  fitCanvas's
 * @typedef {{left: number, right: number, top: number, bottom: number}} Extent  model units from a line's start
 * @typedef {{x: number, y: number, penUp: number}} Pen  where painting goes on: CSS pixels, and the pen's state
 * @typedef {{points: Point[], x: number, y: number}} PlacedLine  a line and its start in CSS pixels
 */

export const RAW_PER_MODEL_UNIT = 40;

const AIR_DASH = [1.5, 4];  // CSS pixels: a dotted move in the air

/**
 * Sizes canvas to `height` CSS pixels and `width` (default: its CSS width), sharp on
 * high-density screens. Returns {context, width, height}.
 * @param {HTMLCanvasElement} canvas
 * @param {number} height
 * @param {number} [width]
 * @returns {CanvasView}
 */
export function fitCanvas(canvas, height, width) {
  const ratio = globalThis.devicePixelRatio || 1;
  if (width === undefined) width = canvas.clientWidth || canvas.parentElement.clientWidth;
  else canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const context = canvas.getContext("2d");
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.lineCap = "round";
  context.lineJoin = "round";
  return {context, width, height};
}

/**
 * The bounding box of a line of offsets, in model units from its start (the start included).
 * @param {Point[]} line
 * @returns {Extent}
 */
export function extent(line) {
  let [x, y] = [0, 0];
  const box = {left: 0, right: 0, top: 0, bottom: 0};
  for (const [dx, dy] of line) {
    [x, y] = [x + dx, y + dy];
    box.left = Math.min(box.left, x);
    box.right = Math.max(box.right, x);
    box.top = Math.min(box.top, y);
    box.bottom = Math.max(box.bottom, y);
  }
  return box;
}

/**
 * Paints points from pen position (x, y) in CSS pixels: a segment into each point unless the
 * point before it lifted the pen (penUp: the pen state before the first point). colourOf(i)
 * (optional) colours segment i. With `air`, moves in the air are drawn dotted too (coloured
 * like the rest). Returns the end {x, y, penUp}.
 * @param {CanvasRenderingContext2D} context
 * @param {Point[]} points
 * @param {object} pen
 * @param {number} pen.x
 * @param {number} pen.y
 * @param {number} pen.scale  CSS pixels per model unit
 * @param {number} [pen.penUp]
 * @param {string} [pen.colour]
 * @param {(segment: number) => string} [pen.colourOf]
 * @param {number} [pen.width]
 * @param {boolean} [pen.air]
 * @returns {Pen}
 */
export function paintPoints(context, points, {x, y, scale, penUp = 0, colour = "#222", colourOf, width = 2,
  air = false}) {
  context.save();
  context.lineWidth = width;
  context.strokeStyle = colour;
  context.beginPath();
  let dashed = false;
  points.forEach(([dx, dy, up], i) => {
    const nextX = x + dx * scale;
    const nextY = y + dy * scale;
    if (!penUp || air) {
      if (colourOf || (air && dashed !== Boolean(penUp))) {
        context.stroke();
        context.beginPath();
        if (colourOf) context.strokeStyle = colourOf(i);
        dashed = Boolean(penUp);
        context.setLineDash(dashed ? AIR_DASH : []);
        context.lineWidth = dashed ? Math.min(width, 1.5) : width;
      }
      context.moveTo(x, y);
      context.lineTo(nextX, nextY);
    }
    [x, y, penUp] = [nextX, nextY, up];
  });
  context.stroke();
  context.restore();
  return {x, y, penUp};
}

/**
 * Lines ({points, x, y}: each line's start in CSS pixels) as an SVG document of width x height
 * CSS pixels: one path per line, a move wherever the pen was up.
 * @param {PlacedLine[]} lines
 * @param {{scale: number, width: number, height: number, colour?: string, lineWidth?: number}} options
 */
export function linesToSvg(lines, {scale, width, height, colour = "#1d1d1f", lineWidth = 1.8}) {
  const paths = lines.map((shown) => {
    let [x, y, penUp] = [shown.x, shown.y, 1];
    let d = "";
    for (const [dx, dy, up] of shown.points) {
      [x, y] = [x + dx * scale, y + dy * scale];
      d += `${penUp ? "M" : "L"}${x.toFixed(1)} ${y.toFixed(1)}`;
      penUp = up;
    }
    return `<path d="${d}"/>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<g fill="none" stroke="${colour}" stroke-width="${lineWidth}" stroke-linecap="round" stroke-linejoin="round">` +
    `${paths.join("")}</g></svg>\n`;
}
