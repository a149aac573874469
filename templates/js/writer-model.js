// @ts-check
/**
 * The text-conditional handwriting model in the page: Graves's synthesis network (Graves 2013,
 * section 5; model/text_network.py), run with TensorFlow.js on the weights-only export of
 * model/export.py, which no TF.js layer implements.
 *
 * The LSTM layers are handwriting.js's (the same stacked weights, fused sigmoid matMul and
 * cell update in plain JavaScript); between layer 1 and the rest sits the soft window over
 * the text's one-hot characters c_1..c_U (section 5.1, equations 46-51):
 *
 *   (a, b, k) = W h1 + bias,  alpha = exp(a),  beta = exp(b),  kappa += exp(k)
 *   phi(u) = sum_k alpha_k exp(-beta_k (kappa_k - u)^2)   for u = 1..U+1
 *   w = sum_{u <= U} phi(u) c_u
 *
 * Layer 1 reads [x_t, w_{t-1}] (and, for a writer trained with hands, the one-hot hand to write
 * in: the named one, else with a prime the one it reads there (readHand), else its first, as
 * model/write.py), later layers [x_t, h_{l-1}, w_t], the head [h_L, w_t]. Writing
 * stops by section 5.3's rule (as model/write.py): when phi(U+1), "past the end", beats
 * phi(u) for every character u. Sampling uses Graves's bias b (section 5.4): pi <-
 * softmax(log pi (1 + b)), sigmas times exp(-b), and (as model.network.sample_points) the pen's
 * lift probability sigmoid(logit (1 + b)); its random stream is the seed's alone
 * (handwriting.js's mulberry32), so a seed writes the same line on every backend. Batch 1.
 *
 * API (points are [dx, dy, pen_up] in model units, as in handwriting.js):
 *
 *   const writer = await loadWriter("writer/model.json", {backend: "wasm" | "cpu"})
 *   writer.info        {backend, layers, cells, mixtures, windowMixtures, alphabet (its chars),
 *        modelUnit, hands (their names; empty for a writer without)}
 *   writer.encode(text)              -> Int32Array codes: 1 + index in the alphabet, 0 for any
 *        other character (model/alphabet.py's placeholder)
 *   writer.trace(text, points, hand) -> {params (one row per point, as handwriting.js's step),
 *        phi: Float32Array (T * (U+1)), kappa: Float32Array (T * K)}: the points fed in turn
 *        from the zero state (teacher forcing), nothing sampled
 *   writer.start(text, {bias = 1, seed = 0, prime, hand}) -> a writing whose step() returns
 *        {done: false, point, params, phi, kappa} for each sampled point, or, once finished,
 *        {done: true, stopped} (stopped: by the stop rule, else cut off after the export's
 *        give_up_points_per_character times the text's length); phi and kappa are the window's
 *        when that point was drawn. prime = {points, text}: read a real line (and its text,
 *        which may be empty) first, then write the text in that hand (section 5.5), the
 *        window over the text alone: from the state after the prime where the writer followed
 *        it (primeReader), else from the zero state, as model/write.py does
 *   writer.write(text, options)      -> {points, stopped}: start(...).step() until done
 *   writer.readHand(prime)           -> the name of the hand the writer reads in a prime (as
 *        model/write.py's read_hand: the hand under which the prime's first read_hand_points
 *        points are likeliest); undefined for a writer without hands. start() reads it when
 *        given a prime and no hand; a page that writes several rows after one prime reads it once
 *   writer.memory()                  -> number of live tensors (stays flat across calls)
 */
import {
  fetchExport, headLayout, logDensity, logSoftmax, matMul, mixtureParams, mulberry32, newMixture, readMixture,
  sampleMixture, sharedConstants, stackLstm, updateCells, useBackend, weightNamed,
} from "./handwriting.js";

/**
 * @typedef {import("./handwriting.js").Backend} Backend
 * @typedef {import("./handwriting.js").HeadLayout} HeadLayout
 * @typedef {import("./handwriting.js").MixtureParams} MixtureParams
 * @typedef {import("./handwriting.js").Point} Point
 * @typedef {import("./handwriting.js").StackedLstm} StackedLstm
 * @typedef {object} WriterMetadata  the text model export's userDefinedMetadata (model/export.py)
 * @property {{layers: number, cells: number, mixtures: number, window_mixtures: number, alphabet_size: number,
 *   hands?: string[]}} model
 * @property {{chars: string}} alphabet
 * @property {number} points_per_character
 * @property {Point} start_point
 * @property {number} model_unit
 * @property {number} give_up_points_per_character
 * @property {number} read_hand_points
 * @property {number} followed_nll
 * @typedef {object} TextNetwork  the loaded weights and shape (loadTextNetwork)
 * @property {StackedLstm[]} lstms
 * @property {Tensor} windowKernel
 * @property {Tensor} windowBias
 * @property {Tensor} headKernel
 * @property {Tensor} headBias
 * @property {number} cells
 * @property {number} windowMixtures  K
 * @property {number} alphabetSize
 * @property {string[]} hands  the hands it can be told, in the order of its hand inputs
 * @property {HeadLayout} head
 * @property {string} chars
 * @property {number} giveUpPerCharacter
 * @property {number} readHandPoints
 * @property {number} followedNll  a prime whose first readHandPoints average a higher NLL is not followed
 * @property {Point} startPoint
 * @property {number} modelUnit
 * @typedef {{kappa: Float32Array, phi: Float32Array, w: Float32Array, mass: Float32Array}} SoftWindow  the
 *   window at one step; mass: the phi each Gaussian puts on the text and the place past its end
 * @typedef {{h: Float32Array[], c: Float32Array[], kappa: Float32Array, w: Float32Array}} WriterState
 * @typedef {{points: Point[], text: string}} Prime  a real line and its text, read before writing
 * @typedef {{bias?: number, seed?: number, prime?: Prime, hand?: string}} WriteOptions
 * @typedef {object} WriterStep  one step of a writing: a point (done false, the window's phi and kappa
 *   when it was drawn), or the end (done true: stopped by the stop rule, else cut off)
 * @property {boolean} done
 * @property {boolean} [stopped]
 * @property {Point} [point]
 * @property {MixtureParams} [params]
 * @property {Float32Array} [phi]
 * @property {Float32Array} [kappa]
 * @typedef {object} Writing  start's: read the prime (all of it, or `count` more points: true once
 *   it is read), then step() samples each point; step() reads what is left of the prime first
 * @property {Int32Array} codes
 * @property {(count?: number) => boolean} read
 * @property {() => WriterStep} step
 * @typedef {Awaited<ReturnType<typeof loadWriter>>} Writer  loadWriter's
 */

const tf = globalThis.tf;
const CELL = "synthesis/window_cell";

/**
 * The export's weights as the step needs them, and its metadata's shape and alphabet.
 * @param {string} url
 * @returns {Promise<TextNetwork>}
 */
async function loadTextNetwork(url) {
  const {modelJson, weights} = await fetchExport(url);
  const metadata = /** @type {WriterMetadata} */ (modelJson.userDefinedMetadata ?? {});
  if (modelJson.format !== "weights-only" || !metadata.alphabet) {
    throw new Error(`${url} is not a text-conditional export; export one with python -m model.export `
      + "--weights writer");
  }
  sharedConstants(url, modelJson, [
    "start_point", "model_unit", "give_up_points_per_character", "read_hand_points", "followed_nll"]);
  const {layers, cells, mixtures, window_mixtures: windowMixtures, alphabet_size: alphabetSize, hands = []} =
    metadata.model;
  const net = {
    lstms: Array.from({length: layers}, (_, layer) => stackLstm(weights, `${CELL}/lstm_${layer}`)),
    windowKernel: weightNamed(weights, `${CELL}/window`, "kernel"),
    windowBias: weightNamed(weights, `${CELL}/window`, "bias"),
    headKernel: weightNamed(weights, "mixture", "kernel"),
    headBias: weightNamed(weights, "mixture", "bias"),
    cells, windowMixtures, alphabetSize, hands, head: headLayout(mixtures), chars: metadata.alphabet.chars,
    giveUpPerCharacter: metadata.give_up_points_per_character, readHandPoints: metadata.read_hand_points,
    followedNll: metadata.followed_nll,
    startPoint: metadata.start_point, modelUnit: metadata.model_unit,
  };
  const kept = new Set([net.windowKernel, net.windowBias, net.headKernel, net.headBias]);
  tf.dispose(Object.values(weights).filter((tensor) => !kept.has(tensor)));
  return net;
}

/** @type {(net: TextNetwork) => WriterState} */
const zeroState = (net) => ({
  h: net.lstms.map(() => new Float32Array(net.cells)),
  c: net.lstms.map(() => new Float32Array(net.cells)),
  kappa: new Float32Array(net.windowMixtures),
  w: new Float32Array(net.alphabetSize),
});

/**
 * The one-hot hand layer 1 reads (top of this file): empty for a writer without hands.
 * @param {TextNetwork} net
 * @param {string | undefined} hand
 */
function handInput(net, hand) {
  const input = new Float32Array(net.hands.length);
  if (hand !== undefined && !net.hands.includes(hand)) {
    throw new Error(`write: ${hand} is not one of the writer's hands (${net.hands.join(", ") || "it learned none"})`);
  }
  if (hand !== undefined) input[net.hands.indexOf(hand)] = 1;
  else if (net.hands.length) input[0] = 1;
  return input;
}

/**
 * The arrays end to end, as one Float32Array: a layer's matMul input row.
 * @param {...Float32Array} parts
 */
function joined(...parts) {
  const row = new Float32Array(parts.reduce((total, part) => total + part.length, 0));
  let at = 0;
  for (const part of parts) {
    row.set(part, at);
    at += part.length;
  }
  return row;
}

/**
 * The window after layer 1's output h1: kappa moved on, phi (U+1 values) and w.
 * @param {TextNetwork} net
 * @param {Float32Array} h1
 * @param {Float32Array} kappaBefore
 * @param {Int32Array} codes
 * @returns {SoftWindow}
 */
function softWindow(net, h1, kappaBefore, codes) {
  const K = net.windowMixtures;
  const raw = matMul(h1, 1, net.windowKernel, net.windowBias);
  const kappa = kappaBefore.map((before, k) => before + Math.exp(raw[2 * K + k]));
  const phi = new Float32Array(codes.length + 1);
  const mass = new Float32Array(K);
  for (let u = 0; u < phi.length; u++) {
    let total = 0;
    for (let k = 0; k < K; k++) {
      const distance = kappa[k] - (u + 1);
      const term = Math.exp(raw[k]) * Math.exp(-Math.exp(raw[K + k]) * distance * distance);
      mass[k] += term;
      total += term;
    }
    phi[u] = total;
  }
  const w = new Float32Array(net.alphabetSize);
  codes.forEach((code, u) => {
    if (code >= 0) w[code] += phi[u];  // the export's text padding, -1, adds nothing
  });
  return {kappa, phi, w, mass};
}

/**
 * One point x (Float32Array(3)) fed: the next state, the head's raw outputs y and the window.
 * @param {TextNetwork} net
 * @param {Float32Array} x
 * @param {WriterState} state
 * @param {Int32Array} codes
 * @param {Float32Array} hand  handInput's
 * @returns {{state: WriterState, y: Float32Array, window: SoftWindow}}
 */
function windowStep(net, x, state, codes, hand) {
  const next = /** @type {WriterState} */ ({h: [], c: []});
  /** @type {SoftWindow} */
  let window = null;
  net.lstms.forEach((lstm, layer) => {
    const input = layer === 0 ? [x, state.w, hand] : [x, next.h[layer - 1], window.w];
    const gates = matMul(joined(...input, state.h[layer]), 1, lstm.stacked, lstm.bias, "sigmoid");
    const {h, c} = updateCells(gates, state.c[layer], net.cells, 1, 1);
    next.h.push(h);
    next.c.push(c);
    if (layer === 0) window = softWindow(net, h, state.kappa, codes);
  });
  Object.assign(next, {kappa: window.kappa, w: window.w});
  const y = matMul(joined(next.h[net.lstms.length - 1], window.w), 1, net.headKernel, net.headBias);
  return {state: next, y, window};
}

/**
 * Section 5.3's stop rule: phi just past the last character beats every character's.
 * @type {(phi: Float32Array) => boolean}
 */
const pastEnd = (phi) => phi[phi.length - 1] > Math.max(...phi.subarray(0, phi.length - 1));

/**
 * One point drawn from raw head outputs y with Graves's bias b, as model.network.sample_points.
 * @param {HeadLayout} head
 * @param {Float32Array} y
 * @param {number} bias
 * @param {() => number} random
 */
export function sampleBiased(head, y, bias, random) {
  const mixture = readMixture(y, 0, head, undefined, newMixture(head.mixtures));
  logSoftmax(mixture.logPi, 0, head.mixtures, 1 + bias, mixture.logPi);
  mixture.eos = 1 / (1 + Math.exp(-y[head.eos] * (1 + bias)));
  for (let k = 0; k < head.mixtures; k++) {
    mixture.sigma1[k] *= Math.exp(-bias);
    mixture.sigma2[k] *= Math.exp(-bias);
  }
  const point = new Float32Array(3);
  sampleMixture(mixture, random, point, 0);
  return point;
}

/**
 * Whether the window read a prime's text of `length` characters to its end, as model/write.py's
 * _read_to_the_end: its place (each Gaussian's kappa weighted by its mass) ended less than a
 * character from the place past the text.
 * @param {SoftWindow} window  the window at the prime's last point
 * @param {number} length
 */
function readToTheEnd(window, length) {
  const total = window.mass.reduce((sum, mass) => sum + mass, 0);
  const place = window.kappa.reduce((sum, kappa, k) => sum + window.mass[k] * kappa, 0) / Math.max(total, 1e-30);
  return Math.abs(place - (length + 1)) < 1;
}

/**
 * The hand the writer reads in a prime (top of this file): the one under which its first
 * readHandPoints points, with its text (a space's codes where it has none), are likeliest.
 * @param {TextNetwork} net
 * @param {Prime} prime
 * @param {Int32Array} primeCodes
 * @returns {string | undefined}
 */
function readHand(net, prime, primeCodes) {
  const mixture = newMixture(net.head.mixtures);
  const likelihoods = net.hands.map((name) => {
    const hand = handInput(net, name);
    let state = zeroState(net);
    let fed = Float32Array.from(net.startPoint);
    let total = 0;
    for (const point of prime.points.slice(0, net.readHandPoints)) {
      const next = windowStep(net, fed, state, primeCodes, hand);
      total += logDensity(readMixture(next.y, 0, net.head, undefined, mixture), point);
      state = next.state;
      fed = Float32Array.from(point);
    }
    return total;
  });
  return net.hands[likelihoods.indexOf(Math.max(...likelihoods))];
}

/**
 * A reader of a prime: next(count) reads up to `count` more of its points (with its text, or a
 * space), and once all are read gives the state to write the new text from: where the writer
 * followed it (its first readHandPoints likely, followed_nll, and its text read to the end), the
 * LSTM's state after it, which carries the writer's slant and size, with kappa moved back by the
 * text's length; else the zero state, and only the hand carries. Nothing of the prime's text is
 * written, whatever its strokes were. Read in parts, so that a worker can take a cancel between
 * them.
 * @param {TextNetwork} net
 * @param {Prime} prime
 * @param {Int32Array} primeCodes  its text's codes (a space's where it has none)
 * @param {Float32Array} hand  handInput's
 */
function primeReader(net, prime, primeCodes, hand) {
  const mixture = newMixture(net.head.mixtures);
  let state = zeroState(net);
  let fed = Float32Array.from(net.startPoint);
  /** @type {SoftWindow} */
  let window = null;
  let at = 0;
  let logLikelihood = 0;
  return {
    /**
     * @param {number} count
     * @returns {{state: WriterState, fed: Float32Array} | null}  null while points are left
     */
    next(count) {
      for (const end = Math.min(prime.points.length, at + count); at < end; at++) {
        const next = windowStep(net, fed, state, primeCodes, hand);
        ({state, window} = next);
        fed = Float32Array.from(prime.points[at]);
        if (at < net.readHandPoints) {
          logLikelihood += logDensity(readMixture(next.y, 0, net.head, undefined, mixture), fed);
        }
      }
      if (at < prime.points.length) return null;
      const likely = -logLikelihood / Math.min(at, net.readHandPoints) < net.followedNll;
      const followed = window && likely && readToTheEnd(window, primeCodes.length);
      if (!followed) return {state: zeroState(net), fed: Float32Array.from(net.startPoint)};
      const kappa = state.kappa.map((kappa) => kappa - primeCodes.length);
      return {state: {...state, kappa, w: zeroState(net).w}, fed};
    },
  };
}

/**
 * loadWriter(url, {backend}) -> the writer described at the top of this file.
 * @param {string} url
 * @param {{backend?: Backend}} [options]
 */
export async function loadWriter(url, {backend: preferred = "wasm"} = {}) {
  const backend = await useBackend(preferred);
  const net = await loadTextNetwork(url);
  const {head} = net;
  const codeOf = new Map(Array.from(net.chars, (char, index) => [char, index + 1]));
  const encode = (/** @type {string} */ text) => Int32Array.from(Array.from(text), (char) => codeOf.get(char) ?? 0);


  /**
   * @param {string} text
   * @param {WriteOptions} [options]
   * @returns {Writing}
   */
  function start(text, {bias = 1, seed = 0, prime, hand: handName} = {}) {
    if (!text) throw new Error("write: the text is empty; give the words to write");
    const codes = encode(text);
    const primeCodes = encode(prime?.text || " ");
    const hand = handInput(net, handName ?? (prime && readHand(net, prime, primeCodes)));
    const reader = prime ? primeReader(net, prime, primeCodes, hand) : null;
    let primed = !reader;
    let state = zeroState(net);
    /** @type {Float32Array} */
    let fed = Float32Array.from(net.startPoint);
    const random = mulberry32(seed);
    const limit = Math.floor(net.giveUpPerCharacter * Array.from(text).length);
    let written = 0;
    /** @type {WriterStep} */
    let finished = null;
    return {
      codes,
      read(count = Infinity) {
        const read = primed ? null : reader?.next(count);
        if (read) {
          ({state, fed} = read);
          primed = true;
        }
        return primed;
      },
      step() {
        if (finished) return finished;
        this.read();
        if (written === limit) return (finished = {done: true, stopped: false});
        const next = windowStep(net, fed, state, codes, hand);
        state = next.state;
        if (pastEnd(next.window.phi)) return (finished = {done: true, stopped: true});
        fed = sampleBiased(head, next.y, bias, random);
        written += 1;
        return {done: false, point: /** @type {Point} */ (Array.from(fed)), params: mixtureParams(head, next.y, 1),
          phi: next.window.phi, kappa: state.kappa};
      },
    };
  }

  return {
    info: {backend, layers: net.lstms.length, cells: net.cells, mixtures: head.mixtures,
      windowMixtures: net.windowMixtures, alphabet: net.chars, modelUnit: net.modelUnit, hands: net.hands},
    encode,
    /**
     * @param {string} text
     * @param {Point[]} points
     * @param {string} [handName]  for a writer with hands: the one to read the points in (default its first)
     */
    trace(text, points, handName) {
      const codes = encode(text);
      const hand = handInput(net, handName);
      const U = codes.length;
      const K = net.windowMixtures;
      const y = new Float32Array(points.length * head.width);
      const phi = new Float32Array(points.length * (U + 1));
      const kappa = new Float32Array(points.length * K);
      let state = zeroState(net);
      points.forEach((point, t) => {
        const next = windowStep(net, Float32Array.from(point), state, codes, hand);
        state = next.state;
        y.set(next.y, t * head.width);
        phi.set(next.window.phi, t * (U + 1));
        kappa.set(state.kappa, t * K);
      });
      return {params: mixtureParams(head, y, points.length), phi, kappa};
    },
    start,
    /** @param {Prime} prime */
    readHand: (prime) => readHand(net, prime, encode(prime.text || " ")),
    /**
     * @param {string} text
     * @param {WriteOptions} [options]
     * @returns {{points: Point[], stopped: boolean}}
     */
    write(text, options) {
      const writing = start(text, options);
      const points = [];
      for (let step = writing.step(); !step.done; step = writing.step()) points.push(step.point);
      return {points, stopped: writing.step().stopped};
    },
    memory: () => tf.memory().numTensors,
  };
}
