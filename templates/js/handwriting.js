// @ts-check
/**
 * The handwriting model in the page: an LSTM mixture density network (Graves 2013, section 4.2,
 * as in Carter, Ha, Johnson, Olah, "Experiments in Handwriting with a Neural Network", Distill
 * 2016), run with TensorFlow.js on the weights of the site's LayersModel export.
 *
 * Each LSTM step is two matMuls on the backend: [x, h] times the stacked [kernel;
 * recurrent_kernel] (sigmoid fused in), then the head. The cell update between them (gates in
 * Keras order i, f, c, o), the mixture activations and sampling run in plain JavaScript on
 * typed arrays, so states are plain data and the seeded random stream is the same on every
 * backend. Backend: wasm (SIMD where available), cpu where WebAssembly is missing. Works on
 * the main thread and in a Web Worker (see worker.js; figures use model-client.js, which has
 * the same methods returning promises).
 *
 * API (points are [dx, dy, pen_up] in model units = raw pen units / 40; pen_up = 1 on the last
 * point of a stroke):
 *
 *   const model = await loadModel("model/model.json", {backend: "wasm" | "cpu"})
 *   model.info         {backend, layers, cells, mixtures, modelUnit}; cells is per layer, modelUnit
 *        the raw pen units per model unit (the export's metadata, as the start point)
 *   model.zeroState(batch)          -> state {batch, h: [Float32Array(batch*cells)] per layer, c}
 *   model.step(points, state)       -> {params, state}: feed one point per batch entry
 *        (points.length == state.batch; state defaults to zero). params describe each entry's
 *        next point: {eos (batch), pi, mu1, mu2, sigma1, sigma2, rho (batch*M, row-major)},
 *        activated, no temperature. state holds h and c of all cells.
 *   model.trace(points, {state})    -> {params (as above, one row per step), c: Float32Array
 *        (T * layers*cells): c after feeding points[t], state: the state after the last point}
 *   model.sample(steps, {batch = 1, temperature = 0.65, seed = 0, state}) -> points per batch
 *        entry: [[[dx, dy, pen_up], ...], ...]. Without a state, starts as the article does:
 *        from the state after feeding [0, 0, 0] to the zero state. With one, the first point
 *        is drawn from that state's prediction; a batch-1 state serves every batch entry.
 *   model.generate(steps, options)  -> {points, state}: sample, plus the state to continue from.
 *   model.futures(line, {steps = 20, count = 50, temperature, seed = 0, state, signal, share},
 *        onPoint) -> Promise<boolean>: for each point i of line, feeds line[0..i] (from state,
 *        default zero) and samples `count` continuations of `steps` points from there (one
 *        batch), calling onPoint(i, futures) with futures like sample's result. Yields to the
 *        event loop between points; aborting `signal` stops it (resolves false; true when done).
 *        share = {index, count} samples only the points i with i % count == index (every
 *        point is still fed), so `count` workers can split a line; each point's random stream
 *        comes from (seed, i) alone, so the futures do not depend on how the line is split.
 *   model.memory()                  -> number of live tensors (stays flat across calls).
 *
 * Temperature is the original's: pi <- softmax(log pi / tau); the chosen component's sigma1,
 * sigma2 are multiplied by tau; mu, rho and eos are unchanged. Randomness comes only from the
 * seed: mulberry32 uniforms, Box-Muller normals.
 *
 * The building blocks (weights, LSTM cell update, mixture reading and sampling) are exported
 * for writer-model.js, the text-conditional network, which steps the same LSTM layers.
 */
import "../vendor/tf-core.min.js";
import "../vendor/tf-backend-wasm.min.js";  // needs only tf-core; the cpu fallback is imported on demand

/**
 * The model's data (what magenta-js types as its interfaces):
 * @typedef {[dx: number, dy: number, penUp: number]} Point  one pen offset in model units; penUp 1 ends a stroke
 * @typedef {"wasm" | "cpu"} Backend
 * @typedef {object} ModelJson  an export's model.json, the parts the page reads
 * @property {string} [format]  "weights-only" for the text model (writer-model.js)
 * @property {{model_config: {config: {layers: {class_name: string, name: string}[]}}}} [modelTopology]
 * @property {WeightsGroup[]} weightsManifest
 * @property {object} [userDefinedMetadata]  the export's own (writer-model.js reads the text model's)
 * @typedef {object} LstmState  h and c of every cell: per layer, batch x cells values, row-major
 * @property {number} batch  the batch entries it serves
 * @property {number} [copies]  how many entries in a row each stored row serves (futures from one point)
 * @property {Float32Array[]} h
 * @property {Float32Array[]} c
 * @typedef {object} MixtureParams  the next point's distribution per row, activated, no temperature
 * @property {Float32Array} eos  pen-lift probability (rows)
 * @property {Float32Array} pi  mixture weights (rows x M, row-major, as the rest)
 * @property {Float32Array} mu1
 * @property {Float32Array} mu2
 * @property {Float32Array} sigma1
 * @property {Float32Array} sigma2
 * @property {Float32Array} rho
 * @typedef {object} Mixture  one row's mixture as sampling reads it (newMixture, readMixture)
 * @property {number} eos
 * @property {Float64Array} logPi
 * @property {Float64Array} mu1
 * @property {Float64Array} mu2
 * @property {Float64Array} sigma1
 * @property {Float64Array} sigma2
 * @property {Float64Array} rho
 * @typedef {{params: MixtureParams, state: LstmState}} StepResult  model.step's
 * @typedef {{params: MixtureParams, c: Float32Array, state: LstmState}} Trace  model.trace's
 * @typedef {{state: LstmState, y: Float32Array}} Prediction  a state and its head's raw outputs y
 * @typedef {{points: Point[][], state?: LstmState}} Generated  model.generate's: points per batch entry
 * @typedef {{mixtures: number, width: number, eos: number, pi: number, mu1: number, mu2: number, sigma1: number,
 *   sigma2: number, rho: number}} HeadLayout  where each parameter starts in a row of the head's outputs
 * @typedef {{stacked: Tensor, bias: Tensor}} StackedLstm  stackLstm's
 * @typedef {object} Network  the loaded weights (loadNetwork)
 * @property {StackedLstm[]} lstms
 * @property {Float32Array} inputKernel
 * @property {Tensor} headKernel
 * @property {Tensor} headBias
 * @property {number} cells
 * @property {HeadLayout} head
 * @property {Point} startPoint
 * @property {number} modelUnit
 * @typedef {object} SharedConstants  what the page takes from the export's metadata (model/export.py)
 * @property {Point} start_point  the point fed before a line's first
 * @property {number} model_unit  raw pen units per model unit
 * @typedef {{backend: Backend, layers: number, cells: number, mixtures: number, modelUnit: number}} ModelInfo
 * @typedef {{batch?: number, temperature?: number, seed?: number, state?: LstmState}} SampleOptions
 * @typedef {object} FuturesOptions
 * @property {number} [steps]
 * @property {number} [count]
 * @property {number} [temperature]
 * @property {number} [seed]
 * @property {LstmState} [state]
 * @property {AbortSignal} [signal]
 * @property {{index: number, count: number}} [share]
 * @typedef {(index: number, futures: Point[][]) => void} OnFutures  called with each point's futures
 * @typedef {Awaited<ReturnType<typeof loadModel>>} Model  loadModel's
 */

const tf = globalThis.tf;
const VENDOR_URL = new URL("../vendor/", import.meta.url).href;
// Futures of two points share one batch: a 100-row matMul does more per row than a 50-row one.
const FUTURE_POINTS_PER_BATCH = 2;

/** @type {Promise<Backend> | null} */
let backendReady = null;

/**
 * Chooses the backend once per thread: wasm unless asked for cpu or WebAssembly is missing.
 * @param {Backend} preferred
 * @returns {Promise<Backend>}
 */
export function useBackend(preferred) {
  backendReady ??= (async () => {
    tf.enableProdMode();
    if (preferred !== "cpu" && typeof WebAssembly === "object") {
      tf.wasm.setWasmPaths(VENDOR_URL);
      if (await tf.setBackend("wasm").catch(() => false)) return "wasm";
    }
    await import("../vendor/tf-backend-cpu.min.js");  // fetched only where wasm is not to be had
    await tf.setBackend("cpu");
    return "cpu";
  })();
  return backendReady;
}

/**
 * Seeded uniform [0, 1) numbers (mulberry32), so a seed gives the same handwriting anywhere.
 * @param {number} seed
 * @returns {() => number}
 */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * out[k] = log softmax(scale * values[from + k]) for k < count, stable for any values.
 * @param {ArrayLike<number>} values
 * @param {number} from
 * @param {number} count
 * @param {number} scale
 * @param {Float64Array | Float32Array} out
 */
export function logSoftmax(values, from, count, scale, out) {
  let max = -Infinity;
  for (let k = 0; k < count; k++) max = Math.max(max, scale * values[from + k]);
  let total = 0;
  for (let k = 0; k < count; k++) total += Math.exp(scale * values[from + k] - max);
  const logTotal = Math.log(total) + max;
  for (let k = 0; k < count; k++) out[k] = scale * values[from + k] - logTotal;
}

/**
 * A pair of independent standard normals from two uniforms (Box-Muller).
 * @param {() => number} random
 * @returns {[number, number]}
 */
function normalPair(random) {
  const radius = Math.sqrt(-2 * Math.log(1 - random()));
  const angle = 2 * Math.PI * random();
  return [radius * Math.cos(angle), radius * Math.sin(angle)];
}

/**
 * Fetches model.json and its weight shards: {modelJson, weights}, dequantised by tf.io.loadWeights
 * and, for a kernel stored with a range per column (model/export.py COLUMN_KERNELS), by joinColumns.
 * @param {string} url
 * @returns {Promise<{modelJson: ModelJson, weights: Record<string, Tensor>}>}
 */
export async function fetchExport(url) {
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(`cannot load the model: ${url} answered ${response.status}; `
      + "build the site first (python build.py)");
  }
  const modelJson = await response.json();
  const base = new URL(".", new URL(url, globalThis.location.href)).href;
  return {modelJson, weights: joinColumns(await tf.io.loadWeights(modelJson.weightsManifest, base))};
}

/**
 * Every KERNEL/codes with its KERNEL/column_min and KERNEL/column_step, replaced by KERNEL.
 * @param {Record<string, Tensor>} weights
 */
function joinColumns(weights) {
  for (const codesName of Object.keys(weights).filter((name) => name.endsWith("/codes"))) {
    const kernel = codesName.slice(0, -"/codes".length);
    const parts = [codesName, `${kernel}/column_min`, `${kernel}/column_step`];
    const [codes, low, step] = parts.map((name) => weights[name]);
    weights[kernel] = tf.tidy(() => tf.add(tf.mul(codes, step), low));
    tf.dispose([codes, low, step]);
    parts.forEach((name) => delete weights[name]);
  }
  return weights;
}

/**
 * A LayersModel export's weights, the names of its LSTM layers in order, and its metadata.
 * @param {string} url
 */
async function fetchWeights(url) {
  const {modelJson, weights} = await fetchExport(url);
  const layers = modelJson.modelTopology.model_config.config.layers;
  return {weights, lstmNames: layers.filter((layer) => layer.class_name === "LSTM").map((layer) => layer.name),
    metadata: sharedConstants(url, modelJson)};
}

/**
 * The export's metadata (model/export.py), checked for the constants the page shares with
 * Python rather than repeating them: start_point, model_unit and, for a text model, more.
 * @param {string} url
 * @param {ModelJson} modelJson
 * @param {string[]} [names]
 * @returns {SharedConstants}
 */
export function sharedConstants(url, modelJson, names = ["start_point", "model_unit"]) {
  const metadata = /** @type {Record<string, unknown>} */ (modelJson.userDefinedMetadata ?? {});
  const missing = names.filter((name) => metadata[name] === undefined);
  if (missing.length) {
    throw new Error(`model export ${url} has no ${missing.join(", ")} in its metadata; `
      + "rebuild the site (python build.py)");
  }
  return /** @type {SharedConstants} */ (/** @type {unknown} */ (metadata));
}

/**
 * @param {Record<string, Tensor>} weights
 * @param {string} layerName
 * @param {string} suffix
 */
export function weightNamed(weights, layerName, suffix) {
  const name = Object.keys(weights).find((key) => key.startsWith(`${layerName}/`) && key.endsWith(`/${suffix}`));
  if (!name) {
    throw new Error(`model export has no ${suffix} for layer ${layerName}; rebuild the site (python build.py)`);
  }
  return weights[name];
}

/**
 * One LSTM layer's weights as the step needs them: the stacked [kernel; recurrent_kernel] and
 * bias, the candidate block doubled (one sigmoid over all four gate blocks, fused into the
 * matMul, serves the candidate too: tanh(x) = 2 sigmoid(2x) - 1). Disposes nothing.
 * @param {Record<string, Tensor>} weights
 * @param {string} layerName
 * @returns {StackedLstm}
 */
export function stackLstm(weights, layerName) {
  return tf.tidy(() => {
    const bias = weightNamed(weights, layerName, "bias");
    const units = bias.shape[0] / 4;
    const doubleCandidate = tf.concat([tf.ones([2 * units]), tf.fill([units], 2), tf.ones([units])]);
    const kernel = weightNamed(weights, layerName, "kernel");
    const stacked = tf.concat([kernel, weightNamed(weights, layerName, "recurrent_kernel")], 0);
    return {stacked: tf.mul(stacked, doubleCandidate), bias: tf.mul(bias, doubleCandidate)};
  });
}

/**
 * The network's weights as the step needs them: per LSTM layer stackLstm's pair; the first
 * layer's three input rows as plain numbers (sharedGates); the head's kernel and bias.
 * @param {string} url
 * @returns {Promise<Network>}
 */
async function loadNetwork(url) {
  const {weights, lstmNames, metadata} = await fetchWeights(url);
  if (!lstmNames.length) throw new Error(`model export ${url} has no LSTM layer; rebuild the site (python build.py)`);
  const lstms = lstmNames.map((name) => stackLstm(weights, name));
  const inputRows = tf.slice(lstms[0].stacked, [0, 0], [3, -1]);
  const inputKernel = inputRows.dataSync();
  inputRows.dispose();
  const headKernel = weightNamed(weights, "mixture", "kernel");
  const headBias = weightNamed(weights, "mixture", "bias");
  tf.dispose(Object.values(weights).filter((tensor) => tensor !== headKernel && tensor !== headBias));
  const cells = lstms[0].bias.shape[0] / 4;
  const head = headLayout((headBias.shape[0] - 1) / 6);
  return {lstms, inputKernel, headKernel, headBias, cells, head, startPoint: metadata.start_point,
    modelUnit: metadata.model_unit};
}

/**
 * Where the head's parameters sit in one row of its raw outputs: the pen-lift logit, then M
 * values each of the mixture weights' logits, mu1, mu2, log sigma1, log sigma2 and rho's
 * pre-activation (the order of model/network.py's head).
 * @param {number} mixtures
 * @returns {HeadLayout}
 */
export function headLayout(mixtures) {
  const M = mixtures;
  return {mixtures: M, width: 1 + 6 * M, eos: 0, pi: 1, mu1: 1 + M, mu2: 1 + 2 * M, sigma1: 1 + 3 * M,
    sigma2: 1 + 4 * M, rho: 1 + 5 * M};
}

/**
 * rows (batch x kernel rows) times kernel plus bias, activated on the backend; a typed array.
 * @param {Float32Array} rows
 * @param {number} batch
 * @param {Tensor} kernel
 * @param {Tensor} bias
 * @param {"sigmoid"} [activation]
 */
export function matMul(rows, batch, kernel, bias, activation) {
  const a = tf.tensor2d(rows, [batch, kernel.shape[0]]);
  const product = tf.fused.matMul({a, b: kernel, bias, activation});
  const values = product.dataSync();
  tf.dispose([a, product]);
  return values;
}

/** @type {(net: Network, batch: number) => LstmState} */
const zeroState = (net, batch) => ({
  batch,
  h: net.lstms.map(() => new Float32Array(batch * net.cells)),
  c: net.lstms.map(() => new Float32Array(batch * net.cells)),
});

/**
 * A state with the head's raw outputs y: its prediction of each entry's next point.
 * @type {(net: Network, state: LstmState) => Prediction}
 */
const predicting = (net, state) => ({
  state, y: matMul(state.h[net.lstms.length - 1], state.batch, net.headKernel, net.headBias),
});

/**
 * Row r of input (width inputSize) followed by row floor(r / copies) of h: an LSTM's matMul
 * input, for a state whose rows each serve `copies` batch entries in a row.
 * @param {Float32Array} input
 * @param {number} inputSize
 * @param {Float32Array} h
 * @param {number} cells
 * @param {number} batch
 * @param {number} copies
 */
function joinRows(input, inputSize, h, cells, batch, copies) {
  const width = inputSize + cells;
  const rows = new Float32Array(batch * width);
  for (let row = 0; row < batch; row++) {
    const from = Math.floor(row / copies) * cells;
    rows.set(input.subarray(row * inputSize, (row + 1) * inputSize), row * width);
    rows.set(h.subarray(from, from + cells), row * width + inputSize);
  }
  return rows;
}

/**
 * The first layer's gates when `copies` entries in a row share h (futures from one point):
 * the product with h is made once per shared row, then only x's three columns differ.
 * @param {Network} net
 * @param {Float32Array} x
 * @param {Float32Array} h
 * @param {number} batch
 * @param {number} copies
 */
function sharedGates(net, x, h, batch, copies) {
  const {cells, inputKernel} = net;
  const width = 4 * cells;
  const shared = batch / copies;
  const common = matMul(joinRows(new Float32Array(shared * 3), 3, h, cells, shared, 1), shared,
    net.lstms[0].stacked, net.lstms[0].bias);
  const preactivations = new Float32Array(batch * width);
  for (let row = 0; row < batch; row++) {
    const from = Math.floor(row / copies) * width;
    const [x0, x1, x2] = x.subarray(row * 3, row * 3 + 3);
    for (let k = 0, at = row * width; k < width; k++, at++) {
      preactivations[at] = common[from + k] + x0 * inputKernel[k] + x1 * inputKernel[width + k]
        + x2 * inputKernel[2 * width + k];
    }
  }
  const gates = tf.tidy(() => tf.sigmoid(tf.tensor2d(preactivations, [batch, width])));
  const values = gates.dataSync();
  gates.dispose();
  return values;
}

/**
 * The cell update from one layer's activated gates (Keras order: input, forget, candidate as
 * sigmoid(2x), output) and the previous c, whose rows each serve `copies` entries in a row.
 * Runs here, not on the backend: slicing the gate blocks apart there costs more than this.
 * @param {Float32Array} gates
 * @param {Float32Array} previous
 * @param {number} cells
 * @param {number} batch
 * @param {number} copies
 */
export function updateCells(gates, previous, cells, batch, copies) {
  const h = new Float32Array(batch * cells);
  const c = new Float32Array(batch * cells);
  for (let row = 0; row < batch; row++) {
    const from = Math.floor(row / copies) * cells;
    const to = row * cells;
    const g = 4 * row * cells;
    for (let unit = 0; unit < cells; unit++) {
      const cell = gates[g + cells + unit] * previous[from + unit]
        + gates[g + unit] * (2 * gates[g + 2 * cells + unit] - 1);
      c[to + unit] = cell;
      h[to + unit] = gates[g + 3 * cells + unit] * (2 / (1 + Math.exp(-2 * cell)) - 1);  // tanh, faster
    }
  }
  return {h, c};
}

/**
 * One LSTM step for every layer: x (batch x 3) and a state in, the next state and the head's
 * raw outputs y out. A state with `copies` > 1 holds each row once for that many entries in a
 * row (state.batch counts the entries); the next state holds every entry.
 * @param {Network} net
 * @param {Float32Array} x
 * @param {LstmState} state
 * @returns {Prediction}
 */
function lstmStep(net, x, state) {
  const {batch, copies = 1} = state;
  const next = /** @type {LstmState} */ ({batch, h: [], c: []});
  let input = x;
  let inputSize = 3;
  net.lstms.forEach((lstm, layer) => {
    const gates = layer === 0 && copies > 1
      ? sharedGates(net, x, state.h[0], batch, copies)
      : matMul(joinRows(input, inputSize, state.h[layer], net.cells, batch, copies), batch, lstm.stacked, lstm.bias,
        "sigmoid");
    const {h, c} = updateCells(gates, state.c[layer], net.cells, batch, copies);
    next.h.push(h);
    next.c.push(c);
    input = h;
    inputSize = net.cells;
  });
  return predicting(net, next);
}

/**
 * Feeds one point [dx, dy, pen_up] per batch entry.
 * @type {(net: Network, points: Point[], state: LstmState) => Prediction}
 */
const advance = (net, points, state) => lstmStep(net, Float32Array.from(points.flat()), state);

/**
 * The state the article starts sampling from: the export's start point fed to the zero state.
 * @type {(net: Network, batch: number) => Prediction}
 */
const startRows = (net, batch) => advance(net, Array.from({length: batch}, () => net.startPoint),
  zeroState(net, batch));

/**
 * An empty mixture for `mixtures` components, which readMixture fills row after row.
 * @param {number} mixtures
 * @returns {Mixture}
 */
export function newMixture(mixtures) {
  const values = () => new Float64Array(mixtures);
  return {eos: 0, logPi: values(), mu1: values(), mu2: values(), sigma1: values(), sigma2: values(), rho: values()};
}

/**
 * The mixture one row of raw head outputs y describes (magenta-js's getPDF): pen-lift
 * probability eos, log mixture weights logPi, and each component's mu1, mu2, sigma1, sigma2
 * and rho, activated. With a temperature tau (the original article's sampling), logPi <-
 * log softmax(logPi / tau) and the sigmas are multiplied by tau; mu, rho and eos unchanged.
 * Writes into `mixture` (from newMixture) and returns it.
 * @param {ArrayLike<number>} y
 * @param {number} row
 * @param {HeadLayout} head
 * @param {number | undefined} temperature
 * @param {Mixture} mixture
 */
export function readMixture(y, row, head, temperature, mixture) {
  const M = head.mixtures;
  const o = row * head.width;
  const tau = temperature ?? 1;
  mixture.eos = 1 / (1 + Math.exp(-y[o + head.eos]));
  logSoftmax(y, o + head.pi, M, 1, mixture.logPi);
  if (temperature !== undefined) logSoftmax(mixture.logPi, 0, M, 1 / temperature, mixture.logPi);
  for (let k = 0; k < M; k++) {
    mixture.mu1[k] = y[o + head.mu1 + k];
    mixture.mu2[k] = y[o + head.mu2 + k];
    mixture.sigma1[k] = Math.exp(y[o + head.sigma1 + k]) * tau;
    mixture.sigma2[k] = Math.exp(y[o + head.sigma2 + k]) * tau;
    mixture.rho[k] = Math.tanh(y[o + head.rho + k]);
  }
  return mixture;
}

/**
 * The log density of a point [dx, dy, pen_up] (model units) under a mixture from readMixture,
 * per model unit squared: minus model.network.nll_terms's nll_xy + nll_eos (Graves 2013,
 * equations 23-26), the sum over components taken as a log-sum-exp.
 * @param {Mixture} mixture
 * @param {ArrayLike<number>} point
 */
export function logDensity(mixture, point) {
  const terms = Array.from(mixture.logPi, (logPi, k) => {
    const z1 = (point[0] - mixture.mu1[k]) / mixture.sigma1[k];
    const z2 = (point[1] - mixture.mu2[k]) / mixture.sigma2[k];
    const rho = mixture.rho[k];
    const spread = 1 - rho * rho;
    return logPi - Math.log(2 * Math.PI * mixture.sigma1[k] * mixture.sigma2[k] * Math.sqrt(spread))
      - (z1 * z1 + z2 * z2 - 2 * rho * z1 * z2) / (2 * spread);
  });
  const top = Math.max(...terms);
  const xy = top + Math.log(terms.reduce((sum, term) => sum + Math.exp(term - top), 0));
  return xy + Math.log(point[2] ? mixture.eos : 1 - mixture.eos);
}

/**
 * The model's parameters for rows of raw head outputs y, as the API gives them: eos (rows)
 * and pi, mu1, mu2, sigma1, sigma2, rho (rows x M, row-major), activated, no temperature.
 * @param {HeadLayout} head
 * @param {Float32Array} y
 * @param {number} rows
 * @returns {MixtureParams}
 */
export function mixtureParams(head, y, rows) {
  const M = head.mixtures;
  const params = /** @type {MixtureParams} */ ({eos: new Float32Array(rows)});
  for (const key of /** @type {const} */ (["pi", "mu1", "mu2", "sigma1", "sigma2", "rho"])) {
    params[key] = new Float32Array(rows * M);
  }
  const mixture = newMixture(M);
  for (let row = 0; row < rows; row++) {
    readMixture(y, row, head, undefined, mixture);
    params.eos[row] = mixture.eos;
    for (let k = 0; k < M; k++) {
      const at = row * M + k;
      params.pi[at] = Math.exp(mixture.logPi[k]);
      for (const key of /** @type {const} */ (["mu1", "mu2", "sigma1", "sigma2", "rho"])) {
        params[key][at] = mixture[key][k];
      }
    }
  }
  return params;
}

/**
 * One point [dx, dy, pen_up] drawn from a mixture, written to points[at..at+3): a component
 * by its weight, an offset from its correlated normal, a pen lift with probability eos.
 * @param {Mixture} mixture
 * @param {() => number} random
 * @param {Float32Array} points
 * @param {number} at
 */
export function sampleMixture(mixture, random, points, at) {
  const M = mixture.logPi.length;
  let pick = random();
  let k = 0;
  for (; k < M - 1; k++) {
    pick -= Math.exp(mixture.logPi[k]);
    if (pick < 0) break;
  }
  const [z1, z2] = normalPair(random);
  const rho = mixture.rho[k];
  points[at] = mixture.mu1[k] + mixture.sigma1[k] * (Math.sqrt(1 - rho * rho) * z1 + rho * z2);
  points[at + 1] = mixture.mu2[k] + mixture.sigma2[k] * z2;
  points[at + 2] = random() < mixture.eos ? 1 : 0;
}

/**
 * Samples one point per row of raw head outputs y with temperature tau, as rows x 3 numbers.
 * Row r takes its uniforms from randoms[floor(r / rowsPerRandom)].
 * @param {HeadLayout} head
 * @param {Float32Array} y
 * @param {number} rows
 * @param {number} temperature
 * @param {(() => number)[]} randoms
 * @param {number} rowsPerRandom
 */
function samplePoints(head, y, rows, temperature, randoms, rowsPerRandom) {
  const mixture = newMixture(head.mixtures);
  const points = new Float32Array(rows * 3);
  for (let row = 0; row < rows; row++) {
    readMixture(y, row, head, temperature, mixture);
    sampleMixture(mixture, randoms[Math.floor(row / rowsPerRandom)], points, row * 3);
  }
  return points;
}

/**
 * Samples `steps` points per batch entry, starting from a state and its head outputs y;
 * returns the points and the state after the last. randoms/rowsPerRandom as in samplePoints.
 * With feedLast false the last points are not fed back (one LSTM step fewer) and no state
 * is returned, for callers that only want the points.
 * @param {Network} net
 * @param {number} steps
 * @param {Prediction} start
 * @param {number} temperature
 * @param {(() => number)[]} randoms
 * @param {number} rowsPerRandom
 * @param {{feedLast?: boolean}} [options]
 * @returns {Generated}
 */
function sampleSteps(net, steps, {state, y}, temperature, randoms, rowsPerRandom, {feedLast = true} = {}) {
  const batch = state.batch;
  const points = Array.from({length: batch}, () => /** @type {Point[]} */ ([]));
  for (let t = 0; t < steps; t++) {
    const sampled = samplePoints(net.head, y, batch, temperature, randoms, rowsPerRandom);
    points.forEach((entry, row) => {
      entry.push(/** @type {Point} */ (Array.from(sampled.subarray(row * 3, row * 3 + 3))));
    });
    if (!feedLast && t === steps - 1) return {points};
    ({state, y} = lstmStep(net, sampled, state));
  }
  return {points, state};
}

/**
 * Batch-1 starts ({state, y}) stacked, each serving `count` batch entries in a row: the
 * states as rows with copies, the head outputs repeated.
 * @param {Network} net
 * @param {Prediction[]} starts
 * @param {number} count
 * @returns {Prediction}
 */
function repeatStarts(net, starts, count) {
  const stack = (/** @type {Float32Array[]} */ rows) => {
    const out = new Float32Array(rows.length * rows[0].length);
    rows.forEach((values, entry) => out.set(values, entry * values.length));
    return out;
  };
  const width = net.head.width;
  const y = new Float32Array(starts.length * count * width);
  starts.forEach((start, entry) => {
    for (let copy = 0; copy < count; copy++) y.set(start.y, (entry * count + copy) * width);
  });
  return {
    state: {
      batch: starts.length * count,
      copies: count,
      h: net.lstms.map((_, layer) => stack(starts.map(({state}) => state.h[layer]))),
      c: net.lstms.map((_, layer) => stack(starts.map(({state}) => state.c[layer]))),
    },
    y,
  };
}

/**
 * loadModel(url, {backend}) -> the model object described at the top of this file.
 * @param {string} url
 * @param {{backend?: Backend}} [options]
 */
export async function loadModel(url, {backend: preferred = "wasm"} = {}) {
  const backend = await useBackend(preferred);
  const net = await loadNetwork(url);
  const {cells, head} = net;
  const layers = net.lstms.length;
  const info = {backend, layers, cells, mixtures: head.mixtures, modelUnit: net.modelUnit};

  /**
   * @param {number} steps
   * @param {SampleOptions} [options]
   * @returns {Generated}
   */
  function generate(steps, {state, batch = state?.batch ?? 1, temperature = 0.65, seed = 0} = {}) {
    let start = state ? predicting(net, state) : startRows(net, batch);
    if (start.state.batch !== batch) {
      if (start.state.batch !== 1) {
        throw new Error(`sample: a state of batch ${start.state.batch} for batch ${batch}; `
          + "give a batch-1 state or the same batch");
      }
      start = repeatStarts(net, [start], batch);
    }
    return sampleSteps(net, steps, start, temperature, [mulberry32(seed)], batch);
  }

  return {
    info,
    zeroState: (batch = 1) => zeroState(net, batch),
    /**
     * @param {Point[]} points
     * @param {LstmState} [state]
     * @returns {StepResult}
     */
    step(points, state = zeroState(net, points.length)) {
      if (points.length !== state.batch) {
        throw new Error(`step: ${points.length} points for a batch of ${state.batch}; give one point per batch entry`);
      }
      const next = advance(net, points, state);
      return {params: mixtureParams(head, next.y, state.batch), state: next.state};
    },
    /**
     * @param {Point[]} points
     * @param {{state?: LstmState}} [options]
     * @returns {Trace}
     */
    trace(points, {state = zeroState(net, 1)} = {}) {
      const allCells = cells * layers;
      const c = new Float32Array(points.length * allCells);
      const y = new Float32Array(points.length * head.width);
      points.forEach((point, t) => {
        const next = advance(net, [point], state);
        state = next.state;
        y.set(next.y, t * head.width);
        state.c.forEach((layerC, layer) => c.set(layerC, t * allCells + layer * cells));
      });
      return {params: mixtureParams(head, y, points.length), c, state};
    },
    generate,
    /**
     * @param {number} steps
     * @param {SampleOptions} [options]
     */
    sample(steps, options) {
      return generate(steps, options).points;
    },
    /**
     * @param {Point[]} line
     * @param {FuturesOptions} [options]
     * @param {OnFutures} [onPoint]
     */
    async futures(line, {steps = 20, count = 50, temperature = 0.65, seed = 0, state = zeroState(net, 1), signal,
      share = {index: 0, count: 1}} = {}, onPoint) {
      let pending = [];  // the points of this share fed but not yet sampled from: {index, state, y}
      for (let i = 0; i < line.length; i++) {
        if (signal?.aborted) return false;
        const next = advance(net, [line[i]], state);
        state = next.state;
        if (i % share.count === share.index) pending.push({index: i, ...next});
        const lastPoint = i === line.length - 1;
        if (pending.length < FUTURE_POINTS_PER_BATCH && !(lastPoint && pending.length > 0)) continue;
        const randoms = pending.map(({index}) => mulberry32(seed * 100003 + index));
        const {points} = sampleSteps(net, steps, repeatStarts(net, pending, count), temperature, randoms, count,
          {feedLast: false});
        pending.forEach(({index}, k) => onPoint(index, points.slice(k * count, (k + 1) * count)));
        pending = [];
        await nextTask();
      }
      return !signal?.aborted;
    },
    memory: () => tf.memory().numTensors,
  };
}

/**
 * Lets queued messages (a cancel, another figure's request) run between long pieces of work.
 * @returns {Promise<void>}
 */
export function nextTask() {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
