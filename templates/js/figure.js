// @ts-check
/**
 * What every figure of the page needs around its drawing: its settings from the build, the
 * observers that tell it when its width changes and when it comes near the screen, a way to
 * recompute from the latest input without queueing stale work, and a download; its root and parts.
 */

/**
 * The figure's settings from the build (generator/figures/*.py), inlined in the page.
 * @param {string} name
 * @returns {any}  the JSON the build wrote: each figure types its own settings
 */
export function figureData(name) {
  const script = document.getElementById(`figure-data-${name}`);
  return script ? JSON.parse(script.textContent) : {};
}

/**
 * The page's element with data-figure=name, or null where the article leaves the figure out (or
 * when a figure module is imported outside a page, as the tests do under Node.js).
 * @param {string} name
 * @returns {HTMLElement | null}
 */
export function figureRoot(name) {
  return globalThis.document?.querySelector(`[data-figure="${name}"]`) ?? null;
}

/**
 * The element of the figure matching selector, which the figure's partial (templates/partials)
 * guarantees, as the type the figure uses it as.
 * @template {Element} T
 * @param {ParentNode} root
 * @param {string} selector
 * @param {{new (): T, prototype: T}} type
 * @returns {T}
 */
export function part(root, selector, type) {
  const element = root.querySelector(selector);
  if (!(element instanceof type)) throw new Error(`the figure has no ${type.name} ${selector}; rebuild the site`);
  return element;
}

/**
 * Calls onChange(width) when the element's width changes (not on the first observation).
 * @param {HTMLElement} element
 * @param {(width: number) => void} onChange
 */
export function onWidthChange(element, onChange) {
  let width = element.clientWidth;
  new ResizeObserver(() => {
    if (element.clientWidth !== width) onChange((width = element.clientWidth));
  }).observe(element);
}

/**
 * Calls onVisible(isVisible) as the element comes within `margin` of the screen and leaves it.
 * @param {Element} element
 * @param {(isVisible: boolean) => void} onVisible
 * @param {string} [margin]
 */
export function onVisibility(element, onVisible, margin = "200px") {
  new IntersectionObserver((entries) => onVisible(entries.at(-1).isIntersecting), {rootMargin: `${margin} 0px`})
    .observe(element);
}

/**
 * Calls onNear() once, the first time the element comes within `margin` of the screen.
 * @param {Element} element
 * @param {() => void} onNear
 * @param {string} [margin]
 */
export function whenNear(element, onNear, margin = "200px") {
  const observer = new IntersectionObserver((entries) => {
    if (!entries.some((entry) => entry.isIntersecting)) return;
    observer.disconnect();
    onNear();
  }, {rootMargin: `${margin} 0px`});
  observer.observe(element);
}

/**
 * Wraps an async task so that calls while it runs collapse into one more run after it:
 * the figures recompute from the latest input, never queueing stale work.
 * @param {() => Promise<unknown>} task
 * @returns {() => Promise<void>}
 */
export function coalesce(task) {
  /** @type {Promise<void> | null} */
  let running = null;
  let again = false;
  const run = async () => {
    do {
      again = false;
      await task();
    } while (again);
    running = null;
  };
  return () => {
    if (running) again = true;
    else running = run().catch((error) => console.error(error));
    return running;
  };
}

/**
 * Saves text as a file the reader downloads.
 * @param {string} filename
 * @param {string} text
 * @param {string} type  its MIME type
 */
export function download(filename, text, type) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([text], {type}));
  link.download = filename;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}
