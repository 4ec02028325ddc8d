// The final reveal on the big screen (最终排名揭晓): the places below 3 in
// a list and a podium for 1–3, one place per step from the last up.
import { t } from "./i18n.js";
import { $, h, setText, tween } from "./dom.js";
import { contestantIndex } from "./event.js";

const body = document.body;
let S = null; // the screen's state

export function initReveal(state) { S = state; }

// rebuildReveal makes the next render lay the reveal out anew.
export function rebuildReveal() { revealKey = ""; }

// The server decides what the screen may see during the reveal
// (voting.RevealedRows): the places revealed so far, a tie as one place,
// never a contestant without ballots. The screen only lays them out: the
// podium by place (ties side by side, a place nobody holds left out), the
// rest in a list, and "?" slots for what is still hidden. With competition
// ranking (1, 2, 2, 4) the best place shown is one more than the number of
// ranked contestants still hidden.

const PLACE_TITLES = ["screen.champion", "screen.second", "screen.third"];
let revealKey = "";
let revealShown = new Set(); // contestants shown by the last render
const revealNodes = new Map(); // contestant → its list row or podium card

function revealView() {
  const idx = contestantIndex(S.ev);
  const rows = ((S.standings && S.standings.rows) || []).filter((r) => idx[r.contestant] && r.rank > 0);
  // null: nothing shown yet (after the end: nobody to show).
  let hidden = rows.length ? Math.max(0, rows[0].rank - 1) : null;
  if (hidden == null && S.stage && S.stage.phase === "ended") hidden = 0;
  return { idx: idx, rows: rows, hidden: hidden, ranked: hidden == null ? null : hidden + rows.length };
}

export function renderReveal(animate) {
  const st = S.stage || {};
  const ended = st.phase === "ended";
  setText($("[data-reveal-title]"), ended ? t("screen.endedTitle") : t("screen.revealTitle"));
  setText($("[data-reveal-sub]"), ended ? t("screen.thanks") : "");
  // Standings older than the last reveal step are not what this step
  // shows: keep the picture until the step's own standings arrive.
  if (S.standingsSeq < S.revealSeq) return;
  const v = revealView();
  const unscored = v.ranked == null ? 0 : S.ev.contestants.length - v.ranked;
  const note = $("[data-reveal-note]");
  note.hidden = unscored <= 0;
  setText(note, unscored > 0 ? t("screen.unscored", { n: unscored }) : "");
  const key = String(v.ranked) + "|" + S.ev.contestants.length;
  if (key !== revealKey) {
    revealKey = key;
    sizeRevealList(v.ranked == null ? S.ev.contestants.length : v.ranked);
  }
  const fresh = (id) => animate && !revealShown.has(id);
  renderRevealList(v, fresh);
  renderPodium(v, fresh);
  revealShown = new Set(v.rows.map((r) => r.contestant));
  body.classList.toggle("champion", v.hidden === 0 && v.rows.length > 0);
}

// sizeRevealList sets the list's grid for the places below the podium, so
// that rows keep their size from the first step to the last.
function sizeRevealList(ranked) {
  const list = $("[data-reveal-list]");
  const rest = Math.max(0, ranked - 3);
  const cols = rest > 7 ? 2 : 1;
  // A short list leaves the podium the room for shared places.
  const box = $("[data-reveal-body]");
  box.classList.toggle("no-list", rest === 0);
  box.classList.toggle("two-cols", cols === 2);
  const per = Math.max(1, Math.ceil(rest / cols));
  const slots = Math.max(7, per);
  list.style.gridTemplateRows = "repeat(" + per + ", calc((100% - " + (slots - 1) + " * var(--gap)) / " + slots + "))";
  list.style.gridTemplateColumns = "repeat(" + cols + ", minmax(0, 1fr))";
}

// revealNode returns the kept node of a contestant (so that its entry
// animation and count-up run once), made by make when there is none.
function revealNode(id, cls, make) {
  let el = revealNodes.get(id);
  if (!el || !el.classList.contains(cls)) {
    el = make();
    revealNodes.set(id, el);
  }
  return el;
}

function fillRevealed(el, r, c, isFresh, ms) {
  el.dataset.id = r.contestant;
  setText(el.querySelector(".name"), c.name);
  setText(el.querySelector(".sub"), c.group || "");
  setText(el.querySelector(".grank"), c.group && r.groupRank ? t("screen.groupRank", { n: r.groupRank }) : "");
  const score = el.querySelector(".score");
  const rules = S.ev.rules;
  if (isFresh) {
    el.classList.remove("fresh");
    void el.offsetWidth;
    el.classList.add("fresh");
    score.__value = score.__shown = rules.min;
  } else if (score.__value == null) {
    score.__value = r.final; // shown at once, no count-up
  }
  tween(score, r.final, rules.decimals, ms);
}

function renderRevealList(v, fresh) {
  const list = $("[data-reveal-list]");
  const want = [];
  const slots = v.hidden == null ? 0 : Math.max(0, v.hidden - 3);
  for (let i = 0; i < slots; i++) {
    let el = list.querySelectorAll(".rrow.slot")[i];
    if (!el) {
      el = h("li", { class: "rrow slot" });
      el.innerHTML = '<span class="rank num">?</span><span class="who"><span class="name">？？？</span></span>';
    }
    want.push(el);
  }
  v.rows.filter((r) => r.rank > 3).forEach((r) => {
    const el = revealNode(r.contestant, "rrow", () => {
      const li = h("li", { class: "rrow revealed" });
      li.innerHTML = '<span class="rank num"></span><span class="who"><span class="name"></span><span class="sub"></span></span>' +
        '<span class="tail"><span class="score num"></span><span class="grank"></span></span>';
      return li;
    });
    setText(el.querySelector(".rank"), String(r.rank));
    fillRevealed(el, r, v.idx[r.contestant].c, fresh(r.contestant), 1200);
    want.push(el);
  });
  placeChildren(list, want);
}

// placeChildren makes parent's children exactly want, in order, moving
// (not re-creating) the ones it has.
function placeChildren(parent, want) {
  want.forEach((el, i) => {
    if (parent.children[i] !== el) parent.insertBefore(el, parent.children[i] || null);
  });
  while (parent.children.length > want.length) parent.lastChild.remove();
}

function renderPodium(v, fresh) {
  const podium = $("[data-podium]");
  const steps = [];
  [2, 1, 3].forEach((place) => {
    const at = v.rows.filter((r) => r.rank === place);
    const open = v.hidden == null ? true : place <= v.hidden;
    if (!at.length && !open) return; // nobody holds this place
    let step = podium.querySelector('.step[data-place="' + place + '"]');
    if (!step) {
      step = h("div", { class: "step p" + place, "data-place": String(place) });
      step.innerHTML = '<div class="step-who"><div class="medal num"></div><div class="step-title"></div><div class="step-names"></div></div><div class="block num"></div>';
    }
    const revealed = at.length > 0;
    step.classList.toggle("revealed", revealed);
    step.classList.toggle("tie", at.length > 1);
    step.style.setProperty("--n", String(Math.max(1, at.length)));
    setText(step.querySelector(".medal"), revealed ? String(place) : "?");
    setText(step.querySelector(".step-title"), revealed ? t(PLACE_TITLES[place - 1]) : "");
    // A hidden place carries no number: it may turn out to be shared.
    setText(step.querySelector(".block"), revealed ? String(place) : "");
    const names = step.querySelector(".step-names");
    if (!revealed) {
      let slot = names.querySelector(".podium-who.slot");
      if (!slot) {
        slot = h("div", { class: "podium-who slot" });
        slot.innerHTML = '<div class="name">？？？</div>';
      }
      placeChildren(names, [slot]);
    } else {
      placeChildren(names, at.map((r) => {
        const el = revealNode(r.contestant, "podium-who", () => {
          const d = h("div", { class: "podium-who" });
          d.innerHTML = '<div class="name"></div><div class="sub"></div><div class="grank"></div><div class="score num"></div>';
          return d;
        });
        fillRevealed(el, r, v.idx[r.contestant].c, fresh(r.contestant), 2200);
        return el;
      }));
    }
    steps.push(step);
  });
  placeChildren(podium, steps);
  podium.hidden = steps.length === 0;
  // Each place is as wide as the contestants it holds; the winner's a
  // little wider.
  podium.style.gridTemplateColumns = steps.map((st) => {
    const n = Number(st.style.getPropertyValue("--n")) || 1;
    return "minmax(0, " + (n * (st.dataset.place === "1" ? 1.18 : 1)) + "fr)";
  }).join(" ");
}
