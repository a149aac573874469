// @ts-check
/**
 * The figures' way to the handwriting model (handwriting.js): the same methods, returning
 * promises, served by one Web Worker shared by the whole page (worker.js). futures() is the
 * one heavy request (50 continuations at every point of a line), so it fans out over up to four
 * workers, about one per core: the others start on the first futures request, each samples
 * every n-th point, and onPoint still sees the points in order from the start of the line.
 *
 *   import {getModel} from "../model-client.js";
 *   const model = await getModel();          // site/model/model.json; getModel({url}) for another
 *   model.info                               // {backend, layers, cells, mixtures}
 *   await model.sample(120, {temperature: 0.5, seed: 7})
 *   await model.generate / step / trace / zeroState / memory   (see handwriting.js)
 *   await model.futures(line, {steps, count, temperature, seed, signal}, (i, futures) => ...)
 *
 * Every request carries an id, so aborting one figure's `signal` cancels only its own futures.
 * The backend is wasm unless the page lacks WebAssembly or its URL says ?backend=cpu.
 *
 * The text model (writer-model.js, site/writer/) loads into the same first worker, so the page
 * fetches TensorFlow.js once:
 *
 *   const writer = await getWriter();       // writer.info as writer-model.js's
 *   const writing = writer.write(text, {bias, seed, prime}, (i, {point, phi}) => ...)   // prime: {points, text}
 *   await writing.done                       // {stopped}, or false once writing.cancel() stopped it
 */
/**
 * @typedef {import("./handwriting.js").FuturesOptions} FuturesOptions
 * @typedef {import("./handwriting.js").Generated} Generated
 * @typedef {import("./handwriting.js").LstmState} LstmState
 * @typedef {import("./handwriting.js").ModelInfo} ModelInfo
 * @typedef {import("./handwriting.js").OnFutures} OnFutures
 * @typedef {import("./handwriting.js").Point} Point
 * @typedef {import("./handwriting.js").SampleOptions} SampleOptions
 * @typedef {import("./handwriting.js").StepResult} StepResult
 * @typedef {import("./handwriting.js").Trace} Trace
 * @typedef {import("./writer-model.js").WriteOptions} WriteOptions
 * @typedef {object} ModelClient  the handwriting model as figures call it: handwriting.js's, returning promises
 * @property {ModelInfo} info
 * @property {(batch?: number) => Promise<LstmState>} zeroState
 * @property {(points: Point[], state?: LstmState) => Promise<StepResult>} step
 * @property {(points: Point[], options?: {state?: LstmState}) => Promise<Trace>} trace
 * @property {(steps: number, options?: SampleOptions) => Promise<Point[][]>} sample
 * @property {(steps: number, options?: SampleOptions) => Promise<Generated>} generate
 * @property {() => Promise<number>} memory
 * @property {(line: Point[], options?: FuturesOptions, onPoint?: OnFutures) => Promise<boolean>} futures
 * @typedef {{point: Point, phi: number[]}} WrittenPoint  one point the text model wrote, and its window then
 * @typedef {object} WriterClient  the text model as figures call it
 * @property {{backend: string, layers: number, cells: number, mixtures: number, windowMixtures: number,
 *   alphabet: string}} info
 * @property {(text: string, options: WriteOptions, onPoint: (index: number, written: WrittenPoint) => void)
 *   => {done: Promise<{stopped: boolean} | false>, cancel: () => void}} write
 * @property {(prime: import("./writer-model.js").Prime) => Promise<string | undefined>} readHand  the hand
 *   the writer reads in a prime (writer-model.js)
 * @typedef {object} WorkerHandle  a worker (newWorker's): requests by method name, answered as promises
 * @property {(method: string, args: unknown[], onPoint?: (...point: any[]) => void)
 *   => {id: number, done: Promise<any>}} call  the answer is structured-cloned data, typed by the caller
 * @property {(id: number) => void} cancel
 * @typedef {WorkerHandle & {info: any}} LoadedWorker  a worker with its model loaded, and that model's info
 */

const DEFAULT_MODEL_URL = new URL("../../model/model.json", import.meta.url).href;
const DEFAULT_WRITER_URL = new URL("../../writer/model.json", import.meta.url).href;
/** @type {Map<string, Promise<ModelClient | WriterClient>>} */
const clients = new Map();
const MAX_FUTURE_WORKERS = 4;
/** @type {WorkerHandle} */
let pageWorker = null;  // the worker the first model of each kind loads into
const pageWorkerHolds = new Set();  // "model", "writer": another model of a kind gets a worker of its own

function preferredBackend() {
  const asked = new URLSearchParams(globalThis.location.search).get("backend");
  return typeof WebAssembly === "object" && asked !== "cpu" ? "wasm" : "cpu";
}

/**
 * The shared model client for url (one per page and model), once its first worker has loaded.
 * @param {{url?: string}} [options]
 * @returns {Promise<ModelClient>}
 */
export function getModel({url = DEFAULT_MODEL_URL} = {}) {
  if (!clients.has(url)) clients.set(url, connect(new URL(url, globalThis.location.href).href));
  return /** @type {Promise<ModelClient>} */ (clients.get(url));
}

/**
 * Workers for futures(): one per core on one or two cores; with more, one core is left to the
 * page, and four at most (each holds its own copy of the model).
 */
function futureWorkerCount() {
  const cores = globalThis.navigator?.hardwareConcurrency || 1;
  return Math.min(MAX_FUTURE_WORKERS, cores <= 2 ? cores : cores - 1);
}

/**
 * The text model's client for url (one per page and model), once its worker has loaded it.
 * @param {{url?: string}} [options]
 * @returns {Promise<WriterClient>}
 */
export function getWriter({url = DEFAULT_WRITER_URL} = {}) {
  if (!clients.has(url)) {
    const loading = load(workerFor("writer"), new URL(url, globalThis.location.href).href, {text: true});
    clients.set(url, loading.then((worker) => ({
      info: worker.info,
      write(text, options, onPoint) {
        const {id, done} = worker.call("write", [text, options], onPoint);
        return {done, cancel: () => worker.cancel(id)};
      },
      readHand: (prime) => worker.call("readHand", [prime]).done,
    })));
  }
  return /** @type {Promise<WriterClient>} */ (clients.get(url));
}

/**
 * The page's worker for the first model of `kind`, a new one for any other.
 * @param {"model" | "writer"} kind
 */
function workerFor(kind) {
  if (pageWorkerHolds.has(kind)) return newWorker();
  pageWorkerHolds.add(kind);
  return pageWorker ??= newWorker();
}

/**
 * A worker with no model yet: {call(method, args, onPoint) -> {id, done}, cancel(id)}.
 * @returns {WorkerHandle}
 */
function newWorker() {
  const worker = new Worker(new URL("./worker.js", import.meta.url), {type: "module"});
  /** @type {Map<number, {resolve: (result: any) => void, reject: (error: Error) => void, onPoint?: Function}>} */
  const pending = new Map();
  let nextId = 0;

  worker.onmessage = ({data}) => {
    const request = pending.get(data.id);
    if (!request) return;
    if (data.point) {
      request.onPoint?.(...data.point);
      return;
    }
    pending.delete(data.id);
    if (data.error) request.reject(new Error(data.error));
    else request.resolve(data.result);
  };
  worker.onerror = (event) => {
    event.preventDefault();
    const error = new Error(`the model worker failed: ${event.message || "script did not load"}; reload the page`);
    for (const request of pending.values()) request.reject(error);
    pending.clear();
  };

  /** @type {WorkerHandle["call"]} */
  function call(method, args, onPoint) {
    const id = nextId++;
    return {id, done: new Promise((resolve, reject) => {
      pending.set(id, {resolve, reject, onPoint});
      worker.postMessage({id, method, args});
    })};
  }
  /** @param {number} id */
  function cancel(id) {
    const request = pending.get(id);
    if (request) request.onPoint = null;  // points already on their way are dropped
    worker.postMessage({method: "cancel", args: [id]});
  }

  return {call, cancel};
}

/**
 * `worker` with the model at url loaded (the text model with `text`), and its info.
 * @param {WorkerHandle} worker
 * @param {string} url
 * @param {{text?: boolean}} [options]
 * @returns {Promise<LoadedWorker>}
 */
async function load(worker, url, {text = false} = {}) {
  const info = await worker.call("load", [url, {backend: preferredBackend(), text}]).done;
  return {...worker, info};
}

/**
 * @param {string} url
 * @returns {Promise<ModelClient>}
 */
async function connect(url) {
  const first = await load(workerFor("model"), url);
  /** @type {(method: string) => (...args: unknown[]) => Promise<any>} */
  const ask = (method) => (...args) => first.call(method, args).done;
  /** @type {Promise<LoadedWorker>[]} */
  let futureWorkers = null;  // promises of workers, the first one included; made on first use

  return {
    info: first.info,
    zeroState: ask("zeroState"),
    step: ask("step"),
    trace: ask("trace"),
    sample: ask("sample"),
    generate: ask("generate"),
    memory: ask("memory"),
    /**
     * @param {Point[]} line
     * @param {FuturesOptions} [options]
     * @param {OnFutures} [onPoint]
     */
    futures(line, {signal, ...options} = {}, onPoint) {
      if (signal?.aborted) return Promise.resolve(false);
      futureWorkers ??= [Promise.resolve(first),
        ...Array.from({length: futureWorkerCount() - 1}, () => load(newWorker(), url))];
      // Workers answer their own points as they go; hand them on in line order.
      /** @type {Map<number, Point[][]>} */
      const arrived = new Map();
      let nextPoint = 0;
      let cancelled = false;
      /** @type {(() => void)[]} */
      const stops = [];
      /** @type {OnFutures} */
      const deliver = (index, futures) => {
        arrived.set(index, futures);
        while (!cancelled && arrived.has(nextPoint)) {
          const ready = arrived.get(nextPoint);
          arrived.delete(nextPoint);
          onPoint?.(nextPoint++, ready);
        }
      };
      const cancel = () => {
        cancelled = true;
        stops.forEach((stop) => stop());
      };
      const runs = futureWorkers.map(async (starting, index) => {
        const worker = await starting;
        if (cancelled) return false;
        const share = {index, count: futureWorkers.length};
        const {id, done} = worker.call("futures", [line, {...options, share}], deliver);
        stops.push(() => worker.cancel(id));
        return done;
      });
      signal?.addEventListener("abort", cancel, {once: true});
      return Promise.all(runs)
        .then((finished) => finished.every(Boolean), (error) => {
          cancel();
          throw error;
        })
        .finally(() => signal?.removeEventListener("abort", cancel));
    },
  };
}
