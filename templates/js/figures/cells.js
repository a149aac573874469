// @ts-check
/**
 * `cells`: the model's 500 (or however many) cells in their own order, over a human line
 * (Carter, Ha, Johnson, Olah, Distill 2016). The heatmap itself is templates/js/figures/heatmap.js.
 */
import {figureData, figureRoot} from "../figure.js";
import {Heatmap} from "./heatmap.js";

const root = figureRoot("cells");
/** @type {import("./heatmap.js").HeatmapData} */
const data = figureData("cells");
if (root && data.lines) {
  new Heatmap(root, data, {order: Array.from({length: data.cells}, (_, cell) => cell),
                           signs: new Array(data.cells).fill(1)}).mount();
}
