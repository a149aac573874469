/**
 * A model worker: runs handwriting.js off the main thread, so sampling never makes scrolling or
 * drawing stutter (Carter et al., Distill 2016, ran their model in workers too). The page has
 * one, plus up to three more that share futures requests where there are more cores
 * (model-client.js).
 *
 * Messages in: {id, method: "load", args: [url, {backend}]}, {id, method, args} for a model
 * method (zeroState, step, trace, sample, generate, futures, memory), {method: "cancel",
 * args: [id]} to stop a running futures request. Messages out: {id, result} or {id, error}
 * (one line), and {id, point: [i, futures]} while a futures request runs. model-client.js
 * is the other side of this conversation.
 */
import {loadModel} from "./handwriting.js";

let modelReady = null;
const running = new Map();

async function answer({id, method, args}) {
  if (method === "load") {
    modelReady = loadModel(...args);
    return (await modelReady).info;
  }
  const model = await modelReady;
  if (method !== "futures") return model[method](...args);
  const controller = new AbortController();
  running.set(id, controller);
  try {
    const [line, options] = args;
    return await model.futures(line, {...options, signal: controller.signal},
      (index, futures) => postMessage({id, point: [index, futures]}));
  } finally {
    running.delete(id);
  }
}

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
