// 亮分 on the big screen: once voting has closed for a contestant (the
// stage's spotlight), each judges' seat's score appears under its name,
// one after another; the dropped highest and lowest are struck out; then
// the panel's result and the contestant's final score. Other panels show
// their result and count. The host skips or ends it (亮分 on the control
// page). The server refuses the scores while voting is open, so nothing
// can show early.
import { t } from "./i18n.js";
import { request, eventPath } from "./api.js";
import { $, h } from "./dom.js";
import { fmtScore, fmtPoints } from "./format.js";

let S = null;
let keyOf = () => "";
let shown = ""; // "contestant@version" on screen
let wanted = "";

export function initSpotlight(state, screenKey) {
  S = state;
  keyOf = screenKey;
}

// renderSpotlight shows or hides the overlay after a stage change.
export function renderSpotlight() {
  const el = $("[data-spotlight]");
  const st = (S && S.stage) || {};
  const c = st.spotlight || "";
  if (!c) {
    el.hidden = true;
    shown = wanted = "";
    return;
  }
  const tag = c + "@" + (S.ev ? S.ev.revision : 0);
  if (tag === shown || tag === wanted) return;
  wanted = tag;
  const key = keyOf();
  request("GET", eventPath(S.ev.id) + "/spotlight?contestant=" + encodeURIComponent(c), undefined,
    { headers: key ? { "X-Leitai-Screen": key } : {} }).then((sp) => {
    if (wanted !== tag || !S.stage || S.stage.spotlight !== c) return;
    shown = tag;
    draw(el, sp);
  }, () => { if (wanted === tag) wanted = ""; });
}

const STEP = 0.7; // seconds between seats, slow enough for a hall to read

function draw(el, sp) {
  el.textContent = "";
  const dec = sp.decimals;
  let delay = 0.3;
  const at = (node, d) => { node.style.animationDelay = d.toFixed(2) + "s"; return node; };
  el.appendChild(h("div", { class: "spot-head" },
    h("span", { class: "spot-kicker" }, t("screen.spotlight")),
    h("span", { class: "spot-name" }, sp.name)));
  const panels = h("div", { class: "spot-panels" });
  const seatPanels = sp.panels.filter((p) => p.seats && p.seats.length);
  let strikeAt = delay;
  seatPanels.forEach((p) => {
    const row = h("div", { class: "spot-seats", "data-seats": p.panel });
    p.seats.forEach((s) => {
      const card = at(h("div", { class: "seat" + (s.scored ? "" : " seat-none"), "data-seat": String(s.seat) },
        h("div", { class: "seat-name" }, s.name),
        h("div", { class: "seat-score num" }, s.scored ? fmtPoints(s.score) : "—"),
        h("div", { class: "seat-note" }, s.scored ? "" : t("screen.notScored"))), delay);
      if (s.dropped) {
        card.dataset.dropped = s.dropped;
        card.dataset.delay = delay.toFixed(2);
        card.appendChild(h("div", { class: "seat-drop" }, t(s.dropped === "high" ? "screen.dropHigh" : "screen.dropLow")));
      }
      row.appendChild(card);
      delay += STEP;
    });
    strikeAt = Math.max(strikeAt, delay + 0.3);
    panels.appendChild(h("div", { class: "spot-panel" }, h("div", { class: "spot-panel-name" }, p.name), row));
  });
  el.style.setProperty("--strike-at", strikeAt.toFixed(2) + "s");
  // A dropped seat comes in with the others and dims at the strike.
  panels.querySelectorAll(".seat[data-dropped]").forEach((card) => {
    card.style.animationDelay = card.dataset.delay + "s, " + strikeAt.toFixed(2) + "s";
  });
  delay = strikeAt + (seatPanels.some((p) => p.seats.some((s) => s.dropped)) ? 1.2 : 0.3);
  const results = h("div", { class: "spot-results" });
  sp.panels.forEach((p) => {
    results.appendChild(at(h("div", { class: "spot-result", "data-result": p.panel },
      h("span", { class: "sr-name" }, p.name),
      h("span", { class: "sr-rule" }, t("screen.panelResult." + p.mode) + (p.seats ? "" : " · " + t("screen.spotCount", { n: p.count }))),
      h("span", { class: "sr-value num" }, p.count ? fmtScore(p.result, dec + 2 > 4 ? 4 : dec + 2) : "—")), delay));
    delay += 0.5;
  });
  panels.appendChild(results);
  el.appendChild(panels);
  el.appendChild(at(h("div", { class: "spot-final", "data-final": "" },
    h("span", { class: "sf-label" }, t("screen.final")),
    h("span", { class: "sf-value num" }, sp.ballots ? fmtScore(sp.final, dec) : "—")), delay + 0.3));
  el.hidden = false;
}
