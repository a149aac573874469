/**
 * The handwriting model in the page: an LSTM mixture density network (Graves 2013, section 4.2,
 * as in Carter, Ha, Johnson, Olah, "Experiments in Handwriting with a Neural Network", Distill
 * 2016), run with TensorFlow.js on the weights of the site's LayersModel export.
 *
 * Each LSTM step is a handful of explicit ops: one matMul of concat[x, h] with the stacked
 * [kernel; recurrent_kernel] (sigmoid fused in), the gates in Keras order (i, f, c, o), then
 * the head; sampling and
 * the mixture activations run in plain JavaScript on the head's 1 + 6M outputs, so the seeded
 * random stream is the same on every backend. Backend: wasm (SIMD where available), cpu where
 * WebAssembly is missing. Works on the main thread and in a Web Worker (see worker.js; figures
 * use model-client.js, which has the same methods returning promises).
 *
 * API (points are [dx, dy, pen_up] in model units = raw pen units / 40; pen_up = 1 on the last
 * point of a stroke):
 *
 *   const model = await loadModel("model/model.json", {backend: "wasm" | "cpu"})
 *   model.info         {backend, layers, cells, mixtures}; cells is per layer
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
 */
import "../vendor/tf-core.min.js";
import "../vendor/tf-backend-cpu.min.js";
import "../vendor/tf-backend-wasm.min.js";

const tf = globalThis.tf;
const VENDOR_URL = new URL("../vendor/", import.meta.url).href;
const START_POINT = [0, 0, 0];

let backendReady = null;

/** Chooses the backend once per thread: wasm unless asked for cpu or WebAssembly is missing. */
function useBackend(preferred) {
  backendReady ??= (async () => {
    tf.enableProdMode();
    if (preferred !== "cpu" && typeof WebAssembly === "object") {
      tf.wasm.setWasmPaths(VENDOR_URL);
      if (await tf.setBackend("wasm").catch(() => false)) return "wasm";
    }
    await tf.setBackend("cpu");
    return "cpu";
  })();
  return backendReady;
}

/** Seeded uniform [0, 1) numbers (mulberry32), so a seed gives the same handwriting anywhere. */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** out[k] = log softmax(scale * values[from + k]) for k < count, stable for any values. */
function logSoftmax(values, from, count, scale, out) {
  let max = -Infinity;
  for (let k = 0; k < count; k++) max = Math.max(max, scale * values[from + k]);
  let total = 0;
  for (let k = 0; k < count; k++) total += Math.exp(scale * values[from + k] - max);
  const logTotal = Math.log(total) + max;
  for (let k = 0; k < count; k++) out[k] = scale * values[from + k] - logTotal;
}

/** A pair of independent standard normals from two uniforms (Box-Muller). */
function normalPair(random) {
  const radius = Math.sqrt(-2 * Math.log(1 - random()));
  const angle = 2 * Math.PI * random();
  return [radius * Math.cos(angle), radius * Math.sin(angle)];
}

/** Fetches model.json and its weight shards (dequantised by tf.io.loadWeights). */
async function fetchWeights(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot load the model: ${url} answered ${response.status}; build the site first (python build.py)`);
  const modelJson = await response.json();
  const base = new URL(".", new URL(url, globalThis.location.href)).href;
  const weights = await tf.io.loadWeights(modelJson.weightsManifest, base);
  const layers = modelJson.modelTopology.model_config.config.layers;
  return {weights, lstmNames: layers.filter((layer) => layer.class_name === "LSTM").map((layer) => layer.name)};
}

function weightNamed(weights, layerName, suffix) {
  const name = Object.keys(weights).find((key) => key.startsWith(`${layerName}/`) && key.endsWith(`/${suffix}`));
  if (!name) throw new Error(`model export has no ${suffix} for layer ${layerName}; rebuild the site (python build.py)`);
  return weights[name];
}

/** loadModel(url, {backend}) -> the model object described at the top of this file. */
export async function loadModel(url, {backend: preferred = "wasm"} = {}) {
  const backend = await useBackend(preferred);
  const {weights, lstmNames} = await fetchWeights(url);
  if (!lstmNames.length) throw new Error(`model export ${url} has no LSTM layer; rebuild the site (python build.py)`);
  // One sigmoid over all four gate blocks (fused into the matMul) serves the candidate too:
  // tanh(x) = 2 sigmoid(2x) - 1, so that block's kernel and bias are doubled once, here.
  const lstms = lstmNames.map((name) => tf.tidy(() => {
    const bias = weightNamed(weights, name, "bias");
    const units = bias.shape[0] / 4;
    const doubleCandidate = tf.concat([tf.ones([2 * units]), tf.fill([units], 2), tf.ones([units])]);
    const stacked = tf.concat([weightNamed(weights, name, "kernel"), weightNamed(weights, name, "recurrent_kernel")], 0);
    return {stacked: tf.mul(stacked, doubleCandidate), bias: tf.mul(bias, doubleCandidate)};
  }));
  const headKernel = weightNamed(weights, "mixture", "kernel");
  const headBias = weightNamed(weights, "mixture", "bias");
  tf.dispose(Object.values(weights).filter((tensor) => tensor !== headKernel && tensor !== headBias));
  const cells = lstms[0].bias.shape[0] / 4;
  const outputs = headBias.shape[0];
  const mixtures = (outputs - 1) / 6;
  const info = {backend, layers: lstms.length, cells, mixtures};
  const [two, one] = [tf.scalar(2), tf.scalar(1)];  // made once: a number in an op is a new tensor

  /** One LSTM step for every layer; tensors in, tensors out (the caller disposes). */
  function stepTensors(x, hs, cs) {
    return tf.tidy(() => {
      let input = x;
      const h = [];
      const c = [];
      lstms.forEach((lstm, layer) => {
        const gates = tf.fused.matMul({a: tf.concat([input, hs[layer]], 1), b: lstm.stacked, bias: lstm.bias, activation: "sigmoid"});
        const [inGate, forgetGate, halfCandidate, outGate] = tf.split(gates, 4, 1);
        const candidate = tf.sub(tf.mul(halfCandidate, two), one);
        c.push(tf.add(tf.mul(forgetGate, cs[layer]), tf.mul(inGate, candidate)));
        h.push(tf.mul(tf.tanh(c[layer]), outGate));
        input = h[layer];
      });
      return {h, c, y: tf.fused.matMul({a: input, b: headKernel, bias: headBias})};
    });
  }

  const zeroTensors = (batch) => ({
    batch,
    h: lstms.map(() => tf.zeros([batch, cells])),
    c: lstms.map(() => tf.zeros([batch, cells])),
  });
  const toTensors = (state) => ({
    batch: state.batch,
    h: state.h.map((values) => tf.tensor2d(values, [state.batch, cells])),
    c: state.c.map((values) => tf.tensor2d(values, [state.batch, cells])),
  });
  const toData = (state) => ({batch: state.batch, h: state.h.map((t) => t.dataSync().slice()), c: state.c.map((t) => t.dataSync().slice())});
  const disposeState = (state) => tf.dispose([...state.h, ...state.c]);

  /** Feeds one point per batch entry; returns the next state and the raw head outputs y. */
  function advance(points, state) {
    const x = tf.tensor2d(points.flat(), [state.batch, 3]);
    const next = stepTensors(x, state.h, state.c);
    x.dispose();
    const y = next.y.dataSync().slice();
    next.y.dispose();
    return {state: {batch: state.batch, h: next.h, c: next.c}, y};
  }

  /** Activated mixture parameters of raw head outputs y (rows of 1 + 6M), as typed arrays. */
  function mixtureParams(y, rows) {
    const M = mixtures;
    const params = {eos: new Float32Array(rows)};
    for (const key of ["pi", "mu1", "mu2", "sigma1", "sigma2", "rho"]) params[key] = new Float32Array(rows * M);
    const logPi = new Float64Array(M);
    for (let row = 0; row < rows; row++) {
      const o = row * outputs;
      params.eos[row] = 1 / (1 + Math.exp(-y[o]));
      logSoftmax(y, o + 1, M, 1, logPi);
      for (let k = 0; k < M; k++) {
        const at = row * M + k;
        params.pi[at] = Math.exp(logPi[k]);
        params.mu1[at] = y[o + 1 + M + k];
        params.mu2[at] = y[o + 1 + 2 * M + k];
        params.sigma1[at] = Math.exp(y[o + 1 + 3 * M + k]);
        params.sigma2[at] = Math.exp(y[o + 1 + 4 * M + k]);
        params.rho[at] = Math.tanh(y[o + 1 + 5 * M + k]);
      }
    }
    return params;
  }

  /** Draws one point per row of y with temperature tau (the original article's sampling). */
  function drawPoints(y, rows, temperature, random) {
    const M = mixtures;
    const logPi = new Float64Array(M);
    const points = [];
    for (let row = 0; row < rows; row++) {
      const o = row * outputs;
      logSoftmax(y, o + 1, M, 1, logPi);
      logSoftmax(logPi, 0, M, 1 / temperature, logPi);  // pi' = softmax(log pi / tau)
      let pick = random();
      let k = 0;
      for (; k < M - 1; k++) {
        pick -= Math.exp(logPi[k]);
        if (pick < 0) break;
      }
      const mu1 = y[o + 1 + M + k];
      const mu2 = y[o + 1 + 2 * M + k];
      const sigma1 = Math.exp(y[o + 1 + 3 * M + k]) * temperature;
      const sigma2 = Math.exp(y[o + 1 + 4 * M + k]) * temperature;
      const rho = Math.tanh(y[o + 1 + 5 * M + k]);
      const [z1, z2] = normalPair(random);
      const eos = 1 / (1 + Math.exp(-y[o]));
      points.push([
        mu1 + sigma1 * (Math.sqrt(1 - rho * rho) * z1 + rho * z2),
        mu2 + sigma2 * z2,
        random() < eos ? 1 : 0,
      ]);
    }
    return points;
  }

  /** The head's outputs for a state's h: the prediction of the next point, without stepping. */
  function headOutputs(state) {
    const y = tf.tidy(() => tf.fused.matMul({a: state.h[lstms.length - 1], b: headKernel, bias: headBias}));
    const values = y.dataSync().slice();
    y.dispose();
    return values;
  }

  /**
   * Samples `steps` points per batch entry from a tensor state; disposes it, returns the last.
   * With feedLast false the last points are not fed back (one LSTM step fewer) and the state
   * returned is the one they were drawn from, for callers that only want the points.
   */
  function sampleTensors(steps, state, temperature, random, {feedLast = true} = {}) {
    const batch = state.batch;
    const points = Array.from({length: batch}, () => []);
    let y = headOutputs(state);
    for (let t = 0; t < steps; t++) {
      const drawn = drawPoints(y, batch, temperature, random);
      drawn.forEach((point, entry) => points[entry].push(point));
      if (!feedLast && t === steps - 1) break;
      const next = advance(drawn, state);
      disposeState(state);
      state = next.state;
      y = next.y;
    }
    return {points, state};
  }

  /** The state the article starts sampling from: one [0, 0, 0] fed to the zero state. */
  function startTensors(batch) {
    const zero = zeroTensors(batch);
    const {state} = advance(Array.from({length: batch}, () => START_POINT), zero);
    disposeState(zero);
    return state;
  }

  /** A batch-1 state repeated `count` times (the same history for every future). */
  function repeatTensors(state, count) {
    return {
      batch: count,
      h: state.h.map((t) => tf.tile(t, [count, 1])),
      c: state.c.map((t) => tf.tile(t, [count, 1])),
    };
  }

  function generate(steps, {state, batch = state?.batch ?? 1, temperature = 0.65, seed = 0} = {}) {
    let start = state ? toTensors(state) : startTensors(batch);
    if (start.batch !== batch) {
      if (start.batch !== 1) throw new Error(`sample: a state of batch ${start.batch} for batch ${batch}; give a batch-1 state or the same batch`);
      const repeated = repeatTensors(start, batch);
      disposeState(start);
      start = repeated;
    }
    const result = sampleTensors(steps, start, temperature, mulberry32(seed));
    const data = toData(result.state);
    disposeState(result.state);
    return {points: result.points, state: data};
  }

  return {
    info,
    zeroState(batch = 1) {
      const zeros = () => new Float32Array(batch * cells);
      return {batch, h: lstms.map(zeros), c: lstms.map(zeros)};
    },
    step(points, state = this.zeroState(points.length)) {
      if (points.length !== state.batch) throw new Error(`step: ${points.length} points for a batch of ${state.batch}; give one point per batch entry`);
      const before = toTensors(state);
      const next = advance(points, before);
      disposeState(before);
      const data = toData(next.state);
      disposeState(next.state);
      return {params: mixtureParams(next.y, state.batch), state: data};
    },
    trace(points, {state} = {}) {
      let current = state ? toTensors(state) : zeroTensors(1);
      const allCells = cells * lstms.length;
      const c = new Float32Array(points.length * allCells);
      const y = new Float32Array(points.length * outputs);
      points.forEach((point, t) => {
        const next = advance([point], current);
        disposeState(current);
        current = next.state;
        y.set(next.y, t * outputs);
        current.c.forEach((layerC, layer) => c.set(layerC.dataSync(), t * allCells + layer * cells));
      });
      const data = toData(current);
      disposeState(current);
      return {params: mixtureParams(y, points.length), c, state: data};
    },
    generate,
    sample(steps, options) {
      return generate(steps, options).points;
    },
    async futures(line, {steps = 20, count = 50, temperature = 0.65, seed = 0, state, signal,
      share = {index: 0, count: 1}} = {}, onPoint) {
      let current = state ? toTensors(state) : zeroTensors(1);
      try {
        for (let i = 0; i < line.length; i++) {
          if (signal?.aborted) return false;
          const next = advance([line[i]], current);
          disposeState(current);
          current = next.state;
          if (i % share.count !== share.index) continue;
          const result = sampleTensors(steps, repeatTensors(current, count), temperature, mulberry32(seed * 100003 + i),
            {feedLast: false});
          disposeState(result.state);
          onPoint(i, result.points);
          await nextTask();
        }
        return !signal?.aborted;
      } finally {
        disposeState(current);
      }
    },
    memory: () => tf.memory().numTensors,
  };
}

/** Lets queued messages (a cancel, another figure's request) run between long pieces of work. */
function nextTask() {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
