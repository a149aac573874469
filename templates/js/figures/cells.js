/**
 * `cells`: the model's 500 (or however many) cells in their own order, over a human line
 * (Carter, Ha, Johnson, Olah, Distill 2016). The heatmap itself is templates/js/figures/heatmap.js.
 */
import {figureData} from "../figure.js";
import {mountHeatmap} from "./heatmap.js";

const root = document.querySelector('[data-figure="cells"]');
const data = figureData("cells");
if (root && data.lines) {
  mountHeatmap(root, data, {order: Array.from({length: data.cells}, (_, cell) => cell),
                            signs: new Array(data.cells).fill(1)});
}
