// Keeping small things on the device: JSON in localStorage that never
// throws (private mode, WeChat, a full store), so that a page still works
// for this visit when the device will not keep anything.

// load returns what was kept under key, or fallback.
export function load(key, fallback) {
  try {
    const v = window.localStorage.getItem(key);
    return v == null ? fallback : JSON.parse(v);
  } catch (e) {
    return fallback;
  }
}

// save keeps value under key (null removes it).
export function save(key, value) {
  try {
    if (value == null) window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, JSON.stringify(value));
  } catch (e) {
    // Storage full or forbidden: the page still works for this visit.
  }
}
