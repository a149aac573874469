/**
 * The article's own page script: renders every figure's Vega-Lite spec with vega-embed.
 *
 * The build inlines a figure's spec as <script type="application/json" id="figure-spec-NAME">.
 * It is drawn into the figure's element marked [data-vega-chart] (or a new one at the end of
 * the figure), once, when the figure first comes near the screen. The vega libraries are
 * loaded once by the page (classic scripts, globals vega, vegaLite, vegaEmbed) and shared.
 * When drawn, the chart element gets data-rendered="true", and the figure's root element
 * receives a "vega-ready" event whose detail is the Vega view (for figures that listen to
 * signals or selections).
 */
const SPEC_PREFIX = "figure-spec-";

function embed(root, spec) {
  let target = root.querySelector("[data-vega-chart]");
  if (!target) {
    target = document.createElement("div");
    target.dataset.vegaChart = "";
    root.append(target);
  }
  return globalThis.vegaEmbed(target, spec, {actions: false, renderer: "svg"}).then((result) => {
    target.dataset.rendered = "true";
    root.dispatchEvent(new CustomEvent("vega-ready", {detail: result.view}));
  });
}

const pending = new Map();
for (const script of document.querySelectorAll(`script[id^="${SPEC_PREFIX}"]`)) {
  const name = script.id.slice(SPEC_PREFIX.length);
  const root = document.querySelector(`[data-figure="${name}"]`);
  if (root) pending.set(root, JSON.parse(script.textContent));
}

const observer = new IntersectionObserver((entries) => {
  for (const entry of entries) {
    if (!entry.isIntersecting) continue;
    observer.unobserve(entry.target);
    embed(entry.target, pending.get(entry.target)).catch((error) => console.error(error));
  }
}, {rootMargin: "600px 0px"});
for (const root of pending.keys()) observer.observe(root);
