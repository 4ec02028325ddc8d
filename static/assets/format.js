// Formatting and small helpers shared by the pages: numbers, clocks,
// storage that never throws (private mode, WeChat), ids, DOM shortcuts.

// decimalsOf returns how many decimals a step needs (0.5 → 1, 0.25 → 2).
export function decimalsOf(step) {
  const s = String(step);
  if (s.indexOf("e-") >= 0) return Math.min(4, Number(s.split("e-")[1]) || 0);
  const i = s.indexOf(".");
  return i < 0 ? 0 : Math.min(4, s.length - i - 1);
}

// fmtScore formats a score with a fixed number of decimals, rounded half
// up as the server rounds (voting.RoundScore: floor(x·10^d + 0.5 + 1e-9));
// toFixed alone would turn 91.14065 (stored as 91.140649…) into 91.1406.
export function fmtScore(x, decimals) {
  if (typeof x !== "number" || !isFinite(x)) return "—";
  const d = Math.max(0, Math.min(4, decimals || 0));
  const p = Math.pow(10, d);
  return (Math.floor(x * p + 0.5 + 1e-9) / p).toFixed(d);
}

// fmtPoints formats a score as short as it goes (88.5, 90, 87.25).
export function fmtPoints(x) {
  if (typeof x !== "number" || !isFinite(x)) return "—";
  return String(Math.round(x * 10000) / 10000);
}

// fmtTicket prints a ticket code in two groups, as on the paper
// (voting.FormatTicketCode).
export function fmtTicket(code) {
  return code && code.length === 10 ? code.slice(0, 5) + "-" + code.slice(5) : code || "";
}

// fmtClock formats milliseconds as m:ss (or h:mm:ss), rounding up so that
// the display reaches 0:00 exactly when the time is up.
export function fmtClock(ms) {
  let s = Math.max(0, Math.ceil(ms / 1000));
  const hours = Math.floor(s / 3600);
  s -= hours * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const ss = (s < 10 ? "0" : "") + s;
  if (hours > 0) return hours + ":" + (m < 10 ? "0" : "") + m + ":" + ss;
  return m + ":" + ss;
}

// snap puts x on the grid min + k·step within [min, max].
export function snap(x, min, max, step) {
  const k = Math.round((x - min) / step);
  const v = min + k * step;
  const d = decimalsOf(step) + decimalsOf(min);
  return Math.min(max, Math.max(min, Number(v.toFixed(d))));
}

// scaleValues lists every score of the rules' scale.
export function scaleValues(rules) {
  const n = Math.round((rules.max - rules.min) / rules.step);
  const d = decimalsOf(rules.step) + decimalsOf(rules.min);
  const out = [];
  for (let i = 0; i <= n; i++) out.push(Number((rules.min + i * rules.step).toFixed(d)));
  return out;
}

// load and save keep JSON in localStorage and never throw.
export function load(key, fallback) {
  try {
    const v = window.localStorage.getItem(key);
    return v == null ? fallback : JSON.parse(v);
  } catch (e) {
    return fallback;
  }
}

export function save(key, value) {
  try {
    if (value == null) window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, JSON.stringify(value));
  } catch (e) {
    // Storage full or forbidden: the page still works for this visit.
  }
}

// uuid returns a random RFC 4122 version 4 UUID. crypto.randomUUID exists
// only on secure (https) pages; halls often serve plain http on the LAN.
export function uuid() {
  const c = window.crypto || window.msCrypto;
  if (c && typeof c.randomUUID === "function") {
    try { return c.randomUUID(); } catch (e) { /* not a secure context */ }
  }
  const b = new Uint8Array(16);
  if (c && c.getRandomValues) c.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [];
  for (let i = 0; i < 16; i++) hex.push((b[i] + 0x100).toString(16).slice(1));
  return hex.slice(0, 4).join("") + "-" + hex.slice(4, 6).join("") + "-" + hex.slice(6, 8).join("") + "-" +
    hex.slice(8, 10).join("") + "-" + hex.slice(10).join("");
}

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

// contestantIndex returns a map id → {c, i} for an event.
export function contestantIndex(ev) {
  const m = {};
  const cs = (ev && ev.contestants) || [];
  for (let i = 0; i < cs.length; i++) m[cs[i].id] = { c: cs[i], i: i };
  return m;
}

// groupsOf lists the groups of an event in order of first appearance.
export function groupsOf(ev) {
  const seen = {};
  const out = [];
  const cs = (ev && ev.contestants) || [];
  for (let i = 0; i < cs.length; i++) {
    const g = cs[i].group;
    if (g && !seen[g]) { seen[g] = true; out.push(g); }
  }
  return out;
}

// timerView says how the presentation timer (a stage's `timer`) reads at
// now (the server's clock): the clock text, counting down (m:ss) and then
// up in overtime (+m:ss), and its state: "ready" (not started), "normal",
// "warn" (the last minute) or "over" (overtime); paused when stopped after
// it ran.
export function timerView(tm, now) {
  const running = !!tm.startedAt;
  const used = (tm.elapsed || 0) + (running ? Math.max(0, now - tm.startedAt) : 0);
  const left = (tm.seconds || 0) * 1000 - used;
  let text;
  if (left > 0) text = fmtClock(left);
  else {
    const over = Math.floor(-left / 1000); // counts up whole seconds
    text = over > 0 ? "+" + fmtClock(over * 1000) : fmtClock(0);
  }
  let state = "normal";
  if (!running && used === 0) state = "ready";
  else if (left <= 0) state = "over";
  else if (left <= 60000) state = "warn";
  return { text: text, left: left, running: running, paused: !running && used > 0, state: state };
}

// parseMinSec reads a duration as a host types it: "5:00", "0:02", "90s"
// or minutes ("5", "1.5"). It returns whole seconds, 0 for "", or NaN.
export function parseMinSec(text) {
  const s = String(text || "").trim().replace(/：/g, ":");
  if (s === "") return 0;
  let m = /^(\d{1,4}):([0-5]?\d)$/.exec(s);
  if (m) return Number(m[1]) * 60 + Number(m[2]);
  m = /^(\d{1,5})\s*(s|秒)$/i.exec(s);
  if (m) return Number(m[1]);
  m = /^(\d{1,4}(?:\.\d+)?)\s*(m|min|分|分钟)?$/i.exec(s);
  if (m) return Math.round(Number(m[1]) * 60);
  return NaN;
}

// fmtMinSec writes whole seconds as m:ss ("" for 0).
export function fmtMinSec(seconds) {
  return seconds > 0 ? fmtClock(seconds * 1000) : "";
}
