/**
 * What every figure of the page needs around its drawing: its settings from the build, the
 * observers that tell it when its width changes and when it comes near the screen, a way to
 * recompute from the latest input without queueing stale work, and a download.
 */

/** The figure's settings from the build (generator/figures/*.py), inlined in the page. */
export function figureData(name) {
  const script = document.getElementById(`figure-data-${name}`);
  return script ? JSON.parse(script.textContent) : {};
}

/** Calls onChange(width) when the element's width changes (not on the first observation). */
export function onWidthChange(element, onChange) {
  let width = element.clientWidth;
  new ResizeObserver(() => {
    if (element.clientWidth !== width) onChange((width = element.clientWidth));
  }).observe(element);
}

/** Calls onVisible(isVisible) as the element comes within `margin` of the screen and leaves it. */
export function onVisibility(element, onVisible, margin = "200px") {
  new IntersectionObserver((entries) => onVisible(entries.at(-1).isIntersecting), {rootMargin: `${margin} 0px`})
    .observe(element);
}

/** Calls onNear() once, the first time the element comes within `margin` of the screen. */
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
 */
export function coalesce(task) {
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

/** Saves text as a file the reader downloads. */
export function download(filename, text, type) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([text], {type}));
  link.download = filename;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}
