// @ts-check
/**
 * A model worker: runs handwriting.js off the main thread, so sampling never makes scrolling or
 * drawing stutter (Carter et al., Distill 2016, ran their model in workers too). The page has
 * one, plus up to three more that share futures requests where there are more cores
 * (model-client.js). The page's worker also holds the text model (writer-model.js) when a
 * figure writes text, so TensorFlow.js is fetched and compiled once for both models.
 *
 * Messages in: {id, method: "load", args: [url, {backend, text}]} (text: load writer-model.js's
 * model beside the handwriting one), {id, method, args} for a model method (zeroState, step,
 * trace, sample, generate, futures, memory; write, the text model's), {method: "cancel",
 * args: [id]} to stop a running futures or write request. Messages out: {id, result} or {id, error} (one line), and
 * {id, point: [i, futures]} while a futures request runs, {id, point: [i, {point, phi}]} while
 * a write request does. model-client.js is the other side of this conversation.
 */
import {loadModel, nextTask} from "./handwriting.js";
import {loadWriter} from "./writer-model.js";

/**
 * @typedef {import("./handwriting.js").Model} Model
 * @typedef {import("./writer-model.js").Writer} Writer
 * @typedef {import("./writer-model.js").WriteOptions} WriteOptions
 * @typedef {{id?: number, method: string, args: any[]}} Request  what model-client.js sends
 */

/** @type {{model: Promise<Model> | null, writer: Promise<Writer> | null}} */
const ready = {model: null, writer: null};  // promises of the handwriting and the text model
/** @type {Map<number, AbortController>} */
const running = new Map();
const PRIME_POINTS_PER_TASK = 50;  // a prime's points read between two looks at the message queue

/** @param {Request} request */
async function answer({id, method, args}) {
  if (method === "load") {
    const [url, {text, ...options}] = args;
    const loaded = text ? (ready.writer = loadWriter(url, options)) : (ready.model = loadModel(url, options));
    return (await loaded).info;
  }
  const model = await (method === "write" || method === "readHand" ? ready.writer : ready.model);
  if (method !== "futures" && method !== "write") {
    return /** @type {Record<string, Function>} */ (/** @type {unknown} */ (model))[method](...args);
  }
  const controller = new AbortController();
  running.set(id, controller);
  try {
    const [input, options] = args;
    /** @type {(index: number, value: unknown) => void} */
    const onPoint = (index, value) => postMessage({id, point: [index, value]});
    return await (method === "futures"
      ? /** @type {Model} */ (model).futures(input, {...options, signal: controller.signal}, onPoint)
      : write(/** @type {Writer} */ (model), input, options, controller.signal, onPoint));
  } finally {
    running.delete(id);
  }
}

/**
 * The text model writes `text` (after reading options.prime, a part at a time), each point
 * handed on as it is sampled, with the window over the characters then (phi); other messages
 * (a cancel) run between points and between the prime's parts. Resolves
 * {stopped} (writer-model.js's), or false when cancelled.
 * @param {Writer} writer
 * @param {string} text
 * @param {WriteOptions} options
 * @param {AbortSignal} signal
 * @param {(index: number, written: {point: import("./handwriting.js").Point, phi: number[]}) => void} onPoint
 */
async function write(writer, text, options, signal, onPoint) {
  const writing = writer.start(text, options);
  while (!writing.read(PRIME_POINTS_PER_TASK)) {  // a long prime is read in parts: a cancel can come between
    await nextTask();
    if (signal.aborted) return false;
  }
  for (let index = 0; ; index++) {
    await nextTask();
    if (signal.aborted) return false;
    const step = writing.step();
    if (step.done) return {stopped: step.stopped};
    onPoint(index, {point: step.point, phi: Array.from(step.phi)});
  }
}

/** @param {MessageEvent<Request>} event */
self.onmessage = async ({data}) => {
  if (data.method === "cancel") {
    running.get(data.args[0])?.abort();
    return;
  }
  try {
    postMessage({id: data.id, result: await answer(data)});
  } catch (error) {
    postMessage({id: data.id, error: String(error.message ?? error)});
  }
};
