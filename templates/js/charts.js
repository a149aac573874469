// @ts-check
// The article's charts come alive: every `[data-chart]` element holds an SVG drawn at build
// time (shown at once) and the compiled Vega spec it was drawn from. When a chart comes near
// the viewport, Vega's runtime is loaded (once, for every chart) and the SVG is replaced by a
// live vega.View of the same spec, fitted to the column, with hover and a tooltip. The specs
// were compiled from Vega-Lite at build time (generator/assets.py), so the page needs neither
// Vega-Lite nor vega-embed. Sets `data-live` on the chart once its view is drawn.

const VEGA_URL = new URL("../vendor/vega.min.js", import.meta.url);

/** @type {Promise<Vega> | null} */
let vegaLoading = null;

function loadVega() {
  vegaLoading ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = VEGA_URL.href;
    script.onload = () => resolve(window.vega);
    script.onerror = () => reject(new Error(`charts: could not load ${VEGA_URL.pathname}; rebuild the site`));
    document.head.append(script);
  });
  return vegaLoading;
}

/**
 * The tooltip handler of chart's view: Vega calls it with the hovered item's tooltip value (an
 * object of field: text, or null).
 * @param {HTMLElement} chart
 * @returns {VegaTooltip}
 */
function tooltipIn(chart) {
  const box = document.createElement("div");
  box.className = "chart-tooltip";
  Object.assign(box.style, {
    position: "absolute", pointerEvents: "none", display: "none", font: "0.8rem/1.4 system-ui, sans-serif",
    background: "rgba(255, 255, 255, 0.95)", border: "1px solid #bbb", borderRadius: "3px", padding: "0.25rem 0.5rem",
    whiteSpace: "nowrap", zIndex: 1,
  });
  chart.style.position = "relative";
  chart.append(box);
  return (handler, event, item, value) => {
    if (value == null || value === "") {
      box.style.display = "none";
      return;
    }
    const entries = typeof value === "object" ? Object.entries(value) : [[null, value]];
    box.replaceChildren(...entries.map(([key, text]) => {
      const row = document.createElement("div");
      row.textContent = key === null ? String(text) : `${key}: ${text}`;
      return row;
    }));
    const area = chart.getBoundingClientRect();
    box.style.display = "block";
    // beside the pointer, flipped to its left near the chart's right edge
    const x = event.clientX - area.left, y = event.clientY - area.top;
    box.style.left = `${x + 12 + box.offsetWidth > area.width ? x - 12 - box.offsetWidth : x + 12}px`;
    box.style.top = `${Math.max(0, y - box.offsetHeight - 8)}px`;
  };
}

/** @param {HTMLElement} chart */
async function hydrate(chart) {
  const drawn = chart.querySelector(":scope > svg");
  const spec = JSON.parse(chart.querySelector(':scope > script[type="application/json"]').textContent);
  // the static chart's CSS size is the column's: the live one keeps it
  const maxWidth = parseFloat(getComputedStyle(drawn).maxWidth) || Infinity;
  const fitWidth = () => Math.round(Math.min(chart.clientWidth, maxWidth));
  const vega = await loadVega();
  const holder = document.createElement("div");
  const view = new vega.View(vega.parse(spec), {renderer: "svg", container: holder, hover: true});
  view.tooltip(tooltipIn(chart));
  view.width(fitWidth());
  await view.runAsync();
  holder.querySelector("svg").style.touchAction = "pan-y"; // a chart must not stop a phone scrolling
  drawn.replaceWith(holder);
  new ResizeObserver(() => {
    if (fitWidth() !== view.width()) view.width(fitWidth()).runAsync();
  }).observe(chart);
  chart.dataset.live = "true";
}

const nearby = new IntersectionObserver((entries) => {
  for (const entry of entries.filter((entry) => entry.isIntersecting)) {
    nearby.unobserve(entry.target);
    const chart = /** @type {HTMLElement} */ (entry.target);
    hydrate(chart).catch((error) => {
      console.error(error);
      chart.dataset.live = "failed"; // the static chart stays
    });
  }
}, {rootMargin: "300px 0px"});

for (const chart of document.querySelectorAll("[data-chart]")) nearby.observe(chart);
