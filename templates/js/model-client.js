/**
 * The figures' way to the handwriting model (handwriting.js): the same methods, returning
 * promises, served by one Web Worker shared by the whole page (worker.js).
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
 */
const DEFAULT_MODEL_URL = new URL("../../model/model.json", import.meta.url).href;
const clients = new Map();

function preferredBackend() {
  const asked = new URLSearchParams(globalThis.location.search).get("backend");
  return typeof WebAssembly === "object" && asked !== "cpu" ? "wasm" : "cpu";
}

/** The shared model client for url (one worker per page and model), once it has loaded. */
export function getModel({url = DEFAULT_MODEL_URL} = {}) {
  if (!clients.has(url)) clients.set(url, connect(new URL(url, globalThis.location.href).href));
  return clients.get(url);
}

async function connect(url) {
  const worker = new Worker(new URL("./worker.js", import.meta.url), {type: "module"});
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

  function call(method, args, onPoint) {
    const id = nextId++;
    return {id, done: new Promise((resolve, reject) => {
      pending.set(id, {resolve, reject, onPoint});
      worker.postMessage({id, method, args});
    })};
  }
  const ask = (method) => (...args) => call(method, args).done;

  const info = await ask("load")(url, {backend: preferredBackend()});
  return {
    info,
    zeroState: ask("zeroState"),
    step: ask("step"),
    trace: ask("trace"),
    sample: ask("sample"),
    generate: ask("generate"),
    memory: ask("memory"),
    futures(line, {signal, ...options} = {}, onPoint) {
      if (signal?.aborted) return Promise.resolve(false);
      const {id, done} = call("futures", [line, options], onPoint);
      const cancel = () => {
        const request = pending.get(id);
        if (request) request.onPoint = null;  // points already on their way are dropped
        worker.postMessage({method: "cancel", args: [id]});
      };
      signal?.addEventListener("abort", cancel, {once: true});
      return done.finally(() => signal?.removeEventListener("abort", cancel));
    },
  };
}
