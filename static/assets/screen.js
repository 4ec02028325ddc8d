// The big screen: who is on stage, the QR code to join, turnout, the
// countdown and the live ranking, whose rows glide to their new places
// (FLIP) while their scores count up. One DOM row per contestant, never
// redrawn wholesale. The reveal counts up from the last place to a podium.
import { t, initI18n, onLangChange, toggleLang } from "./i18n.js";
import { live, liveState, probeEvent, bannerFor } from "./conn.js";
import { request, eventPath, takeFragment } from "./api.js";
import { $, $$, h, setText, tween } from "./dom.js";
import { load, save } from "./storage.js";
import { fmtClock, timerView } from "./format.js";
import { contestantIndex, groupsOf } from "./event.js";
import { showReachWarning } from "./reach.js";

const body = document.body;
const eventId = body.dataset.event;
const ROTATE_MS = 12000; // each ranking tab stays this long
const MOVE_MS = 800;

const S = liveState({ mode: "loading" });

const conn = live(S, {
  event: eventId,
  query: () => ({ role: "screen" }),
  on: {
    snapshot: () => render(false),
    stage: () => render(true),
    event: () => render(false),
    standings: () => render(true),
    deleted: () => setMode("deleted"),
  },
  onState: (st) => {
    banner(st);
    if (st === "notfound") setMode("notfound");
  },
  probe: () => probeEvent(eventId),
});
const banner = bannerFor($("[data-banner]"), () => t("common.offline"));

function setMode(mode) {
  if (S.mode === mode) return;
  S.mode = mode;
  $$("[data-mode]").forEach((el) => { el.hidden = el.dataset.mode !== mode; });
  body.dataset.screenMode = mode;
}

function rankingVisible() {
  const st = S.stage || {};
  return !!st.rankingVisible || st.phase === "reveal" || st.phase === "ended";
}

// ---- render ----------------------------------------------------------------

function render(animate) {
  if (!S.ev) return;
  const st = S.stage || {};
  setText($("[data-title]"), S.ev.title);
  document.title = S.ev.title + " · " + t("screen.docTitle");
  setText($("[data-bar-phase]"), t("phase." + (st.phase || "lobby")));
  $("[data-bar-phase]").className = "bar-phase phase-" + (st.phase || "lobby");
  let mode = "live";
  if (st.phase === "lobby") mode = "lobby";
  else if (st.phase === "reveal" || st.phase === "ended") mode = "reveal";
  const modeChanged = S.mode !== mode;
  setMode(mode);
  renderTurnout();
  if (mode === "lobby") {
    setText($("[data-lobby-title]"), S.ev.title);
  } else if (mode === "live") {
    renderNow();
    renderStageCard();
    renderBoards(animate && !modeChanged);
  } else {
    renderReveal(animate && !modeChanged);
  }
  tick();
}

function renderTurnout() {
  const tu = S.turnout || { voters: 0, voted: 0 };
  $$("[data-voters]").forEach((el) => setText(el, String(tu.voters || 0)));
  const st = S.stage || {};
  const voted = tu.contestant && tu.contestant === st.current ? tu.voted || 0 : 0;
  setText($("[data-voted]"), String(voted));
  const pct = tu.voters ? Math.min(100, (voted / tu.voters) * 100) : 0;
  $("[data-meter]").style.width = pct + "%";
}

function renderNow() {
  const st = S.stage || {};
  const idx = contestantIndex(S.ev);
  const cur = st.current && idx[st.current];
  if (cur) {
    setText($("[data-now-label]"), t("screen.onStage"));
    setText($("[data-now-name]"), cur.c.name);
    const meta = [];
    if (cur.c.group) meta.push(cur.c.group);
    meta.push(t("common.nOfN", { n: cur.i + 1, total: S.ev.contestants.length }));
    setText($("[data-now-meta]"), meta.join(" · "));
  } else {
    setText($("[data-now-label]"), "");
    setText($("[data-now-name]"), t("phase." + st.phase));
    setText($("[data-now-meta]"), "");
  }
  const nameEl = $("[data-now-name]");
  const len = nameEl.textContent.length;
  nameEl.classList.toggle("long", len > 7);
  nameEl.classList.toggle("longer", len > 10);
  const open = st.phase === "voting" && !(st.endsAt && conn.now() >= st.endsAt);
  const phaseEl = $("[data-status-phase]");
  setText(phaseEl, open ? t("phase.voting") : st.phase === "voting" ? t("phase.closed") : t("phase." + st.phase));
  $("[data-status]").className = "panel status " + (open ? "is-open" : st.phase === "closed" || st.phase === "voting" ? "is-closed" : "is-idle");
  const visible = rankingVisible();
  $("[data-boards]").hidden = !visible;
  $("[data-tabs]").hidden = !visible || tabs.length < 2;
  $("[data-hidden-ranking]").hidden = visible;
  $("[data-qr-side]").hidden = !visible;
}

// ---- the stage card: theme, presenter and the presentation timer ----------

// renderStageCard shows what the contestant on stage presents (汇报主题,
// 汇报人) and the presentation timer. While the contestant presents, the
// card takes the place of the ranking (which does not move then) and shows
// both large; while voting, the card is a strip above the ranking, with
// the timer only if it runs.
function renderStageCard() {
  const st = S.stage || {};
  const cur = st.current && contestantIndex(S.ev)[st.current];
  const onStage = !!cur && (st.phase === "presenting" || st.phase === "voting" || st.phase === "closed");
  const tm = st.timer || { seconds: 0 };
  const showTimer = onStage && tm.seconds > 0 && (st.phase === "presenting" || !!tm.startedAt);
  const c = onStage ? cur.c : null;
  const card = $("[data-stage-card]");
  card.hidden = !(c && (c.theme || c.presenter)) && !showTimer;
  const full = !card.hidden && st.phase === "presenting";
  card.classList.toggle("full", full);
  $("[data-mode='live']").classList.toggle("stage-only", full);
  if (card.hidden) return;
  // Without a theme the card's headline is the contestant's name.
  setText($("[data-sc-label]"), c.theme ? t("screen.theme") : t("screen.onStage"));
  const theme = $("[data-sc-theme]");
  setText(theme, c.theme || c.name);
  theme.classList.toggle("long", theme.textContent.length > 24);
  setText($("[data-sc-presenter]"), c.presenter ? t("screen.presenter", { name: c.presenter }) : "");
  $("[data-timer]").hidden = !showTimer;
  renderTimer();
}

function renderTimer() {
  const box = $("[data-timer]");
  const st = S.stage;
  if (box.hidden || !st || !st.timer) return;
  const v = timerView(st.timer, conn.now());
  box.className = "sc-timer state-" + v.state + (v.running ? " running" : "") + (v.paused ? " paused" : "");
  const label = v.paused ? "screen.timerPaused" : v.state === "over" ? "screen.timerOver" : v.state === "warn" ? "screen.timerWarn" : "screen.timer";
  setText($("[data-timer-label]"), t(label));
  setText($("[data-timer-clock]"), v.text);
}
setInterval(renderTimer, 200);

// The countdown.
function tick() {
  const st = S.stage;
  const el = $("[data-clock]");
  if (!st || !st.endsAt || S.mode !== "live") {
    el.hidden = true;
    return;
  }
  const left = st.endsAt - conn.now();
  el.hidden = false;
  setText(el, fmtClock(left));
  el.classList.toggle("urgent", left <= 10000);
  if (left <= 0 && st.phase === "voting" && !el.__closed) {
    el.__closed = true;
    renderNow();
  } else if (left > 0) {
    el.__closed = false;
  }
}
setInterval(tick, 200);

// ---- ranking boards ----------------------------------------------------------

// A Board is one ranked list (overall or one group) with one <li> per
// contestant, kept across updates and moved with FLIP.
class Board {
  constructor(group) {
    this.group = group;
    this.el = h("ol", { class: "board", "data-board": group || "*" });
    this.rows = new Map();
    this.prevRank = new Map();
  }

  update(animate) {
    const ev = S.ev;
    const idx = contestantIndex(ev);
    const sd = S.standings;
    let rows = sd && sd.rows ? sd.rows : ev.contestants.map((c) => ({ contestant: c.id, group: c.group, ballots: 0, final: 0, rank: 0, groupRank: 0 }));
    rows = rows.filter((r) => idx[r.contestant] && (!this.group || idx[r.contestant].c.group === this.group));
    const n = rows.length;
    const cols = n > 24 ? 3 : n > 8 ? 2 : 1;
    const per = Math.max(1, Math.ceil(n / cols));
    const slots = Math.max(8, per);
    this.el.style.gridTemplateRows = "repeat(" + per + ", calc((100% - " + (slots - 1) + " * var(--gap)) / " + slots + "))";
    this.el.style.gridTemplateColumns = "repeat(" + cols + ", minmax(0, 1fr))";
    this.el.classList.toggle("cols-1", cols === 1);

    const first = new Map();
    const shown = animate && this.el.offsetParent !== null && !document.hidden;
    if (shown) this.rows.forEach((li, id) => first.set(id, li.getBoundingClientRect()));

    const seen = {};
    const rules = ev.rules;
    rows.forEach((r) => {
      let li = this.rows.get(r.contestant);
      if (!li) {
        li = this.makeRow();
        this.rows.set(r.contestant, li);
      }
      seen[r.contestant] = true;
      this.fill(li, r, idx[r.contestant].c, rules);
    });
    this.rows.forEach((li, id) => {
      if (!seen[id]) {
        li.remove();
        this.rows.delete(id);
      }
    });
    rows.forEach((r, i) => {
      const li = this.rows.get(r.contestant);
      if (this.el.children[i] !== li) this.el.insertBefore(li, this.el.children[i] || null);
    });

    if (!first.size) return;
    const moved = [];
    this.rows.forEach((li, id) => {
      const a = first.get(id);
      if (!a) return;
      const b = li.getBoundingClientRect();
      const dx = a.left - b.left;
      const dy = a.top - b.top;
      if (Math.abs(dx) < 1 && Math.abs(dy) < 1) return;
      li.style.transition = "none";
      li.style.transform = "translate(" + dx + "px," + dy + "px)";
      li.classList.add("moving");
      moved.push(li);
    });
    if (!moved.length) return;
    void this.el.offsetWidth; // apply the inverted positions before playing
    moved.forEach((li) => {
      li.style.transition = "transform " + MOVE_MS + "ms cubic-bezier(.2,.75,.25,1)";
      li.style.transform = "";
      const done = () => {
        li.classList.remove("moving");
        li.style.transition = "";
        li.removeEventListener("transitionend", done);
      };
      li.addEventListener("transitionend", done);
      setTimeout(done, MOVE_MS + 100);
    });
  }

  makeRow() {
    const li = h("li", { class: "row" });
    li.innerHTML = '<span class="gauge"></span><span class="rank num"></span>' +
      '<span class="who"><span class="name"></span><span class="sub"></span></span>' +
      '<span class="score num"></span>';
    return li;
  }

  fill(li, r, c, rules) {
    li.dataset.id = r.contestant;
    const ranked = r.ballots > 0 && r.rank > 0;
    const rank = this.group ? r.groupRank : r.rank;
    li.className = "row" + (ranked && rank <= 3 ? " top top" + rank : "") + (ranked ? "" : " unranked") +
      (S.stage && S.stage.current === r.contestant && S.stage.phase !== "lobby" ? " current" : "") +
      (li.classList.contains("moving") ? " moving" : "");
    const prev = this.prevRank.get(r.contestant);
    if (ranked && prev && rank < prev) {
      li.classList.add("rose");
      clearTimeout(li.__rose);
      li.__rose = setTimeout(() => li.classList.remove("rose"), 2200);
    }
    this.prevRank.set(r.contestant, ranked ? rank : 0);
    // Without ballots there is no place (没有选票的参赛单位不排名): no
    // number, no score, "未评分" instead.
    setText(li.querySelector(".rank"), ranked ? String(rank) : "");
    setText(li.querySelector(".name"), c.name);
    const sub = [];
    if (!this.group && c.group) sub.push(c.group);
    if (ranked) sub.push(t("screen.ballots", { n: r.ballots }));
    setText(li.querySelector(".sub"), sub.join(" · "));
    const score = li.querySelector(".score");
    if (ranked) tween(score, r.final, S.ev.rules.decimals, 900);
    else {
      if (score.__raf) cancelAnimationFrame(score.__raf);
      score.__raf = 0;
      score.__value = null;
      setText(score, t("screen.notScored"));
    }
    const span = rules.max - rules.min;
    const pct = ranked && span > 0 ? Math.max(2, Math.min(100, ((r.final - rules.min) / span) * 100)) : 0;
    li.querySelector(".gauge").style.width = pct + "%";
  }
}

let boardsKey = "";
let boards = [];
let tabs = [];
let activeTab = 0;
let pinned = false;
let rotateTimer = 0;

function renderBoards(animate) {
  const groups = groupsOf(S.ev);
  const key = JSON.stringify(groups) + "|" + S.ev.contestants.length;
  if (key !== boardsKey) {
    boardsKey = key;
    const box = $("[data-boards]");
    box.textContent = "";
    boards = [new Board("")];
    if (groups.length >= 2) groups.forEach((g) => boards.push(new Board(g)));
    boards.forEach((b) => box.appendChild(b.el));
    const nav = $("[data-tabs]");
    nav.textContent = "";
    tabs = boards.map((b, i) => {
      const btn = h("button", { type: "button", class: "tab", "data-tab": String(i) }, b.group || t("screen.overall"));
      btn.appendChild(h("i", { class: "tab-progress" }));
      btn.addEventListener("click", () => { pinned = false; showTab(i); });
      nav.appendChild(btn);
      return btn;
    });
    activeTab = Math.min(activeTab, boards.length - 1);
    showTab(activeTab);
    animate = false;
  }
  boards.forEach((b, i) => b.update(animate && i === activeTab));
  $("[data-tabs]").hidden = tabs.length < 2 || !rankingVisible();
}

function showTab(i) {
  activeTab = i;
  boards.forEach((b, j) => { b.el.hidden = j !== i; });
  tabs.forEach((btn, j) => {
    btn.classList.toggle("active", j === i);
    btn.setAttribute("aria-pressed", j === i ? "true" : "false");
    const p = btn.querySelector(".tab-progress");
    p.style.animation = "none";
    if (j === i && !pinned && tabs.length > 1) {
      void p.offsetWidth;
      p.style.animation = "tabprogress " + ROTATE_MS + "ms linear forwards";
    }
  });
  if (S.ev && S.mode === "live") boards[i].update(false);
  clearTimeout(rotateTimer);
  if (!pinned && tabs.length > 1) rotateTimer = setTimeout(() => showTab((activeTab + 1) % tabs.length), ROTATE_MS);
}

// ---- reveal ------------------------------------------------------------------

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

function renderReveal(animate) {
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

// ---- keys and start ---------------------------------------------------------

document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const k = e.key.toLowerCase();
  if (k === "f") {
    const d = document;
    if (d.fullscreenElement || d.webkitFullscreenElement) {
      (d.exitFullscreen || d.webkitExitFullscreen).call(d);
    } else {
      const el = d.documentElement;
      const req = el.requestFullscreen || el.webkitRequestFullscreen;
      if (req) {
        const p = req.call(el);
        if (p && p.catch) p.catch(() => { /* refused: no user gesture */ });
      }
    }
  } else if (k === "l") {
    toggleLang();
  } else if (k >= "1" && k <= "9" && tabs.length > 1) {
    const i = Number(k) - 1;
    if (i < tabs.length) { pinned = true; showTab(i); }
  } else if (k === "0" && tabs.length > 1) {
    pinned = false;
    showTab(activeTab);
  }
});

// The hint fades after a few seconds and never shows in full screen.
setTimeout(() => { const hint = $("[data-fs-hint]"); if (hint) hint.classList.add("gone"); }, 6000);

// The short link without the scheme reads better from afar. A break may
// come only after a slash or before the hall code's "?": each part never
// breaks (not at a hyphen either), with a <wbr> between parts.
function drawShortLinks(link) {
  $$("[data-short-link]").forEach((el) => {
    const parts = link.replace(/^https?:\/\//, "").replace("?", "/?").split("/");
    el.textContent = "";
    parts.forEach((p, i) => {
      const last = i === parts.length - 1;
      const slash = !last && parts[i + 1][0] !== "?" ? "/" : "";
      el.appendChild(h("span", { class: "seg" }, p + slash));
      if (!last) el.appendChild(document.createElement("wbr"));
    });
  });
}
drawShortLinks(body.dataset.voteUrl || "");

// ---- the hall code (现场码) ------------------------------------------------
// The QR code carries the event's hall code, which the server changes every
// half minute; a new phone joins only with a current one. The screen reads
// it with its screen key, which the control page's link to the screen
// carries in the fragment (#s=…) and this screen then remembers. A copied
// vote link names the event but not the screen key, so it cannot be used
// to read the next code. Without the key (or while the server cannot be
// reached) the screen keeps drawing what it has, and says so.
const SCREEN_KEY_STORE = "leitai.screenKey." + eventId;
let screenKey = takeFragment("s");
if (screenKey) save(SCREEN_KEY_STORE, screenKey);
else screenKey = load(SCREEN_KEY_STORE, "") || "";

let hallTimer = 0;
let hallShown = null; // the code the QR codes show ("" for none)
function showHallCode(code) {
  if (code === hallShown) return;
  hallShown = code;
  const src = "/e/" + encodeURIComponent(eventId) + "/qr.svg" + (code ? "?j=" + encodeURIComponent(code) : "");
  // Swap once the new image is in, so that the old one never blinks out.
  const img = new Image();
  img.onload = () => $$("img[data-qr]").forEach((el) => { el.src = src; });
  img.src = src;
  drawShortLinks((body.dataset.voteUrl || "") + (code ? "?j=" + code : ""));
}

function refreshHallCode() {
  clearTimeout(hallTimer);
  const headers = screenKey ? { "X-Leitai-Screen": screenKey } : {};
  const warn = $("[data-hall-warning]");
  request("GET", eventPath(eventId) + "/hall-code", undefined, { headers: headers }).then((b) => {
    if (b && b.on) {
      warn.hidden = true;
      showHallCode(b.code);
      hallTimer = setTimeout(refreshHallCode, Math.max(200, b.expiresIn + 250));
      return;
    }
    warn.hidden = true; // off for this event
    showHallCode("");
    hallTimer = setTimeout(refreshHallCode, 15000);
  }, (e) => {
    if (!e.status) { hallTimer = setTimeout(refreshHallCode, 3000); return; }
    warn.hidden = false; // this screen lacks its key: say so
    showHallCode("");
    hallTimer = setTimeout(refreshHallCode, 15000);
  });
}

initI18n();
showReachWarning(true); // phones cannot open the link: say so by the QR code
onLangChange(() => {
  showReachWarning(true);
  boardsKey = "";
  revealKey = "";
  render(false);
});
conn.start();
refreshHallCode();
