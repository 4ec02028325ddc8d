// Judges' seats (评委席) and 亮分: the seats' tickets, which seats have
// scored the contestant on stage (not their scores), releasing a seat to
// another device, and the 亮分 button that shows (or ends) the seats'
// scores on the big screen once voting has closed.
import { t } from "./i18n.js";
import { $, h, setText } from "./dom.js";
import { S, api, evPath, toast, showError, confirmBox, command } from "./control-page.js";

let seats = [];
let loading = false;
let again = false;

function seatPanels() {
  return ((S.ev && S.ev.panels) || []).filter((p) => p.seats && p.seats.length);
}

// loadSeats reads the seats' status (after a stage change or new ballots).
export function loadSeats() {
  if (!S.exists || !seatPanels().length) { renderSeats(); return; }
  if (loading) { again = true; return; }
  loading = true;
  api("GET", evPath() + "/seats").then((b) => { seats = b.seats || []; renderSeats(); }, () => {})
    .finally(() => {
      loading = false;
      if (again) { again = false; loadSeats(); }
    });
}

export function renderSeats() {
  const card = $("[data-seats-card]");
  const panels = seatPanels();
  card.hidden = !panels.length;
  const st = S.stage || {};
  const btn = $("[data-cmd='spotlight']");
  btn.hidden = !panels.length;
  setText(btn, st.spotlight ? t("control.spotlightOff") : t("control.spotlight"));
  btn.disabled = st.phase === "ended" || (!st.spotlight && (st.phase !== "closed" || !st.current));
  if (!panels.length) return;
  const list = $("[data-seats-list]");
  list.textContent = "";
  const onStage = st.current && (st.phase === "presenting" || st.phase === "voting" || st.phase === "closed") ? st.current : "";
  seats.forEach((s) => {
    let state = "free";
    if (s.claimed) state = onStage && s.scored.indexOf(onStage) >= 0 ? "scored" : "waiting";
    const label = { free: "control.seatFree", scored: "control.seatScored", waiting: "control.seatWaiting" }[state];
    const li = h("li", { class: "seat-row seat-" + state, "data-seat": s.panel + ":" + s.seat },
      h("span", { class: "seat-name" }, s.name),
      h("span", { class: "seat-state" }, (state === "scored" ? "✓ " : "") + t(label)));
    if (s.claimed) {
      li.appendChild(h("button", { type: "button", class: "btn small subtle", onclick: () => release(s) }, t("control.seatRelease")));
    }
    list.appendChild(li);
  });
  $("[data-seats-issue]").hidden = seats.length > 0 && seats.every((s) => s.code);
}

function release(s) {
  confirmBox(t("control.seatReleaseAsk", { seat: s.name })).then((ok) => {
    if (!ok) return;
    api("POST", evPath() + "/tickets/" + encodeURIComponent(s.code) + "/release").then(() => loadSeats(), showError);
  });
}

export function issueSeats() {
  Promise.all(seatPanels().map((p) => api("POST", evPath() + "/seats", { panel: p.id })))
    .then((rs) => {
      const n = rs.reduce((a, r) => a + ((r && r.tickets) || []).length, 0);
      toast(t("control.issued", { n: n }));
      loadSeats();
    }, showError);
}

export function toggleSpotlight() {
  const st = S.stage || {};
  if (st.spotlight) return command({ action: "spotlight", visible: false }, true);
  return command({ action: "spotlight" }, true);
}
