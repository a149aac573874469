/**
 * The vendored libraries as the page's JavaScript uses them (templates/js; `npm run typecheck`):
 * TensorFlow.js, a global once site/assets/vendor/tf-core.min.js has run, and Vega, the global
 * that charts.js loads from vendor/vega.min.js. Only what the page calls is declared: the
 * packages' own types (node_modules/@tensorflow/tfjs-core, vega) describe other module layouts
 * than these browser bundles, and would make the page's check as slow as theirs.
 */

/** A TensorFlow.js tensor: the page reads it out as float32 and disposes it. */
interface Tensor {
  readonly shape: number[];
  dataSync(): Float32Array;
  dispose(): void;
}

/** One file group of a LayersModel export's weightsManifest. */
interface WeightsGroup {
  paths: string[];
  weights: {name: string; shape: number[]; dtype: string; quantization?: object}[];
}

/** The part of TensorFlow.js's API the handwriting and text models use. */
interface TensorFlow {
  enableProdMode(): void;
  setBackend(name: "wasm" | "cpu"): Promise<boolean>;
  wasm: {setWasmPaths(prefix: string): void};
  io: {loadWeights(manifest: WeightsGroup[], base: string): Promise<Record<string, Tensor>>};
  memory(): {numTensors: number};
  tidy<T extends Tensor | Record<string, Tensor>>(compute: () => T): T;
  dispose(tensors: Tensor | Tensor[]): void;
  tensor2d(values: Float32Array, shape: [number, number]): Tensor;
  ones(shape: number[]): Tensor;
  fill(shape: number[], value: number): Tensor;
  concat(tensors: Tensor[], axis?: number): Tensor;
  slice(x: Tensor, begin: number[], size: number[]): Tensor;
  add(a: Tensor, b: Tensor): Tensor;
  mul(a: Tensor, b: Tensor): Tensor;
  sigmoid(x: Tensor): Tensor;
  fused: {matMul(args: {a: Tensor; b: Tensor; bias?: Tensor; activation?: "sigmoid"}): Tensor};
}

/** Vega's tooltip handler: called with the hovered item's tooltip value (null when none). */
type VegaTooltip = (handler: unknown, event: MouseEvent, item: unknown, value: unknown) => void;

/** A live Vega view of a parsed spec: the calls charts.js makes. */
interface VegaView {
  tooltip(handler: VegaTooltip): VegaView;
  width(): number;
  width(pixels: number): VegaView;
  runAsync(): Promise<VegaView>;
}

/** The vega global of vendor/vega.min.js. */
interface Vega {
  parse(spec: object): object;
  View: new (runtime: object, options: {renderer: "svg"; container: Element; hover: boolean}) => VegaView;
}

declare var tf: TensorFlow;
declare var vega: Vega;

/** The CPU backend, imported only where WebAssembly is missing: it registers itself with tf. */
declare module "*/vendor/tf-backend-cpu.min.js" {}
