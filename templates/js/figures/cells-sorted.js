/**
 * `cells-sorted`: the same heatmap with mostly-negative cells flipped in sign and the rows
 * reordered by the build's 1-D t-SNE (generator/cell_analysis.py), so cells that behave alike
 * sit together; hovering a row names the signal that cell correlates with most.
 */
import {figureData} from "../figure.js";
import {mountHeatmap} from "./heatmap.js";

const root = document.querySelector('[data-figure="cells-sorted"]');
const data = figureData("cells-sorted");
if (root && data.lines) {
  mountHeatmap(root, data, {
    order: data.order, signs: data.signs, sorted: true,
    describeRow: (row) => {
      const [signal, r] = data.rowSignal[row];
      return `; follows ${data.signalLabels[signal]} most (r = ${r.toFixed(2)})`;
    },
  });
}
