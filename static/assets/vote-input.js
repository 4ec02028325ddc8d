// The score inputs of a ballot card, one per criterion (or one for the
// score): a short scale (at most SHORT_SCALE scores, e.g. 1–10) is one big
// button per score, a long one (60–100 in 0.5 steps) a number to type with
// quick picks, −/+ and a slider. Each input reads and writes its draft
// through k: rules; draft() the card's draft {criterion or "": score}
// (made if none), peek() the same or {}; counted() whether the card's
// ballot has been counted; submit(); changed() to render the card again.
import { t } from "./i18n.js";
import { h, setText } from "./dom.js";
import { fmtPoints, fmtScore, decimalsOf } from "./format.js";

const SHORT_SCALE = 21; // at most this many choices: one button each

// isShort says whether the rules' scale gets one button per score.
export function isShort(rules) {
  return Math.round((rules.max - rules.min) / rules.step) + 1 <= SHORT_SCALE;
}

// snap puts x on the grid min + k·step within [min, max].
function snap(x, min, max, step) {
  const k = Math.round((x - min) / step);
  const v = min + k * step;
  const d = decimalsOf(step) + decimalsOf(min);
  return Math.min(max, Math.max(min, Number(v.toFixed(d))));
}

// scaleValues lists every score of the rules' scale.
function scaleValues(rules) {
  const n = Math.round((rules.max - rules.min) / rules.step);
  const d = decimalsOf(rules.step) + decimalsOf(rules.min);
  const out = [];
  for (let i = 0; i <= n; i++) out.push(Number((rules.min + i * rules.step).toFixed(d)));
  return out;
}

// shortInput: one big button per score; with oneTap the tap submits.
export function shortInput(k, slot, oneTap) {
  const rules = k.rules;
  const values = scaleValues(rules);
  const n = values.length;
  const cols = n <= 6 ? n : n <= 10 ? 5 : n <= 12 ? 6 : 7;
  const grid = h("div", { class: "scale", role: "group", "aria-label": slot.name || t("vote.yourScore"), style: "--cols:" + cols });
  const btns = values.map((v) => {
    const b = h("button", { type: "button", class: "score-btn num", "data-score": String(v), "aria-pressed": "false" }, fmtPoints(v));
    b.addEventListener("click", () => {
      k.draft()[slot.id] = v;
      if (oneTap) k.submit();
      k.changed();
    });
    grid.appendChild(b);
    return b;
  });
  return {
    el: grid,
    update: (open) => {
      const d = k.peek();
      const counted = k.counted();
      btns.forEach((b, i) => {
        const sel = d[slot.id] === values[i];
        b.setAttribute("aria-pressed", sel ? "true" : "false");
        b.classList.toggle("counted", !!(sel && counted && oneTap));
        b.disabled = !open;
      });
    },
  };
}

// fineInput: the score as a big number that can be typed on the numeric
// keypad (tap it), quick picks, −/+ by one step and a slider, for long
// scales. Until a score is chosen the slider sits empty at the lowest.
export function fineInput(k, slot) {
  const rules = k.rules;
  const d = decimalsOf(rules.step);
  const mid = snap((rules.min + rules.max) / 2, rules.min, rules.max, rules.step);
  const label = (slot.name || t("vote.yourScore")) + " " + t("vote.range", { min: fmtPoints(rules.min), max: fmtPoints(rules.max) });
  const value = h("input", {
    type: "text", inputmode: "decimal", enterkeyhint: "done", autocomplete: "off", spellcheck: "false",
    class: "fine-value num", "aria-label": label, "data-typed": "",
  });
  const note = h("div", { class: "fine-note", role: "status", "aria-live": "polite" });
  const range = h("input", {
    type: "range", class: "fine-range", min: String(rules.min), max: String(rules.max), step: String(rules.step),
    value: String(rules.min), "aria-label": slot.name || t("vote.yourScore"),
  });
  let typedError = ""; // what is wrong with the typed text, shown under it
  const setDraft = (v) => {
    const dd = k.draft();
    if (v == null) delete dd[slot.id];
    else dd[slot.id] = v;
  };
  const set = (v) => {
    typedError = "";
    setDraft(snap(v, rules.min, rules.max, rules.step));
    k.changed();
  };
  const current = () => {
    const dd = k.peek();
    return typeof dd[slot.id] === "number" ? dd[slot.id] : null;
  };
  // Typing: the draft is the typed score while it is a valid one, none
  // otherwise (so that nothing wrong can be submitted); the note says why.
  value.addEventListener("focus", () => {
    // Typing replaces the number shown (after the browser placed the caret).
    setTimeout(() => { try { value.setSelectionRange(0, value.value.length); } catch (e) { /* not a text field */ } }, 0);
    k.changed();
  });
  value.addEventListener("input", () => {
    const r = checkTyped(value.value, rules, false);
    typedError = r.error;
    setDraft(r.value);
    k.changed();
  });
  value.addEventListener("blur", () => {
    const r = checkTyped(value.value, rules, true);
    typedError = r.error;
    k.changed();
  });
  value.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); value.blur(); } });
  const minus = h("button", { type: "button", class: "step-btn", "aria-label": t("vote.minus", { step: fmtPoints(rules.step) }) }, "−");
  const plus = h("button", { type: "button", class: "step-btn", "aria-label": t("vote.plus", { step: fmtPoints(rules.step) }) }, "+");
  minus.addEventListener("click", () => { const v = current(); set(v == null ? mid : v - rules.step); });
  plus.addEventListener("click", () => { const v = current(); set(v == null ? mid : v + rules.step); });
  range.addEventListener("input", () => set(Number(range.value)));
  const picks = h("div", { class: "picks", role: "group", "aria-label": t("vote.quickPicks") });
  const pickBtns = quickPicks(rules).map((v) => {
    const b = h("button", { type: "button", class: "pick num", "data-pick": String(v), "aria-pressed": "false" }, fmtPoints(v));
    b.addEventListener("click", () => set(v));
    picks.appendChild(b);
    return b;
  });
  const el = h("div", { class: "fine" }, value, note, h("div", { class: "fine-row" }, minus, range, plus), picks);
  return {
    el: el,
    update: (open) => {
      if (!open) typedError = "";
      const v = current();
      const typing = document.activeElement === value;
      if (!typing && !typedError) value.value = v == null ? "" : fmtScore(v, d);
      value.placeholder = open ? t("vote.pick") : "—";
      value.classList.toggle("unset", v == null && !typing);
      value.classList.toggle("invalid", !!typedError);
      value.setAttribute("aria-invalid", typedError ? "true" : "false");
      value.disabled = !open;
      note.className = "fine-note" + (typedError ? " error" : "");
      setText(note, typedError || (typing && v == null ? t("vote.typeRange", { min: fmtPoints(rules.min), max: fmtPoints(rules.max), step: fmtPoints(rules.step) }) : ""));
      range.classList.toggle("unset", v == null);
      const rv = String(v == null ? rules.min : v);
      if (range.value !== rv) range.value = rv;
      [minus, plus, range].concat(pickBtns).forEach((b) => { b.disabled = !open; });
      if (v != null) {
        minus.disabled = !open || v <= rules.min;
        plus.disabled = !open || v >= rules.max;
      }
      pickBtns.forEach((b) => b.setAttribute("aria-pressed", Number(b.dataset.pick) === v ? "true" : "false"));
    },
  };
}

// checkTyped reads a typed score against the rules: {value} when it is a
// score of the scale, else {error} saying why. While typing (final false)
// a number below the lowest is no error yet: more digits may follow.
function checkTyped(text, rules, final) {
  const s = String(text || "").trim().replace(/[，,。]/g, ".").replace(/[０-９]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) - 0xfee0));
  if (s === "") return { value: null, error: "" };
  if (!/^(\d+\.?\d*|\.\d+)$/.test(s)) return { value: null, error: t("vote.typeNumber") };
  const v = Number(s);
  if (v > rules.max) return { value: null, error: t("vote.typeMax", { max: fmtPoints(rules.max) }) };
  if (v < rules.min) return { value: null, error: final || s.indexOf(".") >= 0 ? t("vote.typeMin", { min: fmtPoints(rules.min) }) : "" };
  const k = (v - rules.min) / rules.step;
  if (Math.abs(k - Math.round(k)) > 1e-6) return { value: null, error: t("vote.typeStep", { step: fmtPoints(rules.step) }) };
  return { value: snap(v, rules.min, rules.max, rules.step), error: "" };
}

// quickPicks: the lowest score, then five evenly spread from the middle
// of the range to the top (60–100 → 60, 80, 85, 90, 95, 100), on the grid.
function quickPicks(rules) {
  const mid = (rules.min + rules.max) / 2;
  const out = [rules.min];
  for (let k = 0; k <= 4; k++) {
    let v = mid + (k * (rules.max - mid)) / 4;
    if (rules.max - rules.min >= 20) v = Math.round(v / 5) * 5;
    v = snap(v, rules.min, rules.max, rules.step);
    if (out.indexOf(v) < 0) out.push(v);
  }
  return out;
}
