// @ts-check
/**
 * `cells-sorted`: the same heatmap with mostly-negative cells flipped in sign and the rows
 * reordered by the build's 1-D t-SNE (generator/cell_analysis.py), so cells that behave alike
 * sit together; hovering a row names the signal that cell correlates with most.
 */
import {figureData, figureRoot} from "../figure.js";
import {Heatmap} from "./heatmap.js";

/**
 * @typedef {import("./heatmap.js").HeatmapData & {order: number[], signs: number[],
 *   rowSignal: [string, number][], signalLabels: Record<string, string>}} SortedData
 *   rowSignal: per row, the signal its cell follows most and the correlation
 */

const root = figureRoot("cells-sorted");
/** @type {SortedData} */
const data = figureData("cells-sorted");
if (root && data.lines) {
  new Heatmap(root, data, {
    order: data.order, signs: data.signs, sorted: true,
    describeRow: (row) => {
      const [signal, r] = data.rowSignal[row];
      return `; follows ${data.signalLabels[signal]} most (r = ${r.toFixed(2)})`;
    },
  }).mount();
}
