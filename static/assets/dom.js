// DOM shortcuts shared by the pages: finding elements, making them, and
// changing text (and animated numbers) only where it changed.
import { fmtScore } from "./format.js";

// $ and $$ find the first and every element matching sel in root (the document).
export function $(sel, root) { return (root || document).querySelector(sel); }
export function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

// h makes an element: h("li", {class: "row", "data-id": id}, child, "text").
export function h(tag, attrs) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const k in attrs) {
      const v = attrs[k];
      if (v == null || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "text") el.textContent = v;
      else if (k.slice(0, 2) === "on" && typeof v === "function") el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : v);
    }
  }
  for (let i = 2; i < arguments.length; i++) {
    const c = arguments[i];
    if (c == null || c === false) continue;
    el.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
  return el;
}

// setText changes an element's text only when it differs, so that
// unchanged parts of the page are not touched.
export function setText(el, s) {
  if (el && el.textContent !== s) el.textContent = s;
}

// tween animates a number shown in el from what it shows now to `to`
// (requestAnimationFrame, ease-out), writing it with the decimals given.
// Setting el.__value = null makes the next tween start from `to` at once.
export function tween(el, to, decimals, ms) {
  if (el.__raf && el.__value === to) return; // already on its way there
  const from = el.__value == null ? to : (el.__shown == null ? el.__value : el.__shown);
  el.__value = to;
  if (el.__raf) cancelAnimationFrame(el.__raf);
  el.__raf = 0;
  if (from === to || !isFinite(from) || document.hidden) {
    el.__shown = to;
    setText(el, fmtScore(to, decimals));
    return;
  }
  const dur = ms || 900;
  const start = performance.now();
  const step = (now) => {
    const p = Math.min(1, (now - start) / dur);
    const e = 1 - Math.pow(1 - p, 3);
    el.__shown = from + (to - from) * e;
    setText(el, fmtScore(el.__shown, decimals));
    el.__raf = p < 1 ? requestAnimationFrame(step) : 0;
  };
  el.__raf = requestAnimationFrame(step);
}
