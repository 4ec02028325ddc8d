// The big screen: who is on stage, the QR code to join, turnout, the
// countdown and the live ranking, whose rows glide to their new places
// (FLIP) while their scores count up. One DOM row per contestant, never
// redrawn wholesale. The reveal counts up from the last place to a podium.
import { t, initI18n, onLangChange, toggleLang } from "./i18n.js";
import { Connection, probeEvent, bannerFor } from "./conn.js";
import { $, $$, h, setText, tween, fmtClock, contestantIndex, groupsOf, timerView } from "./format.js";

const body = document.body;
const eventId = body.dataset.event;
const ROTATE_MS = 12000; // each ranking tab stays this long
const MOVE_MS = 800;

const S = { ev: null, stage: null, standings: null, turnout: null, mode: "loading" };

const conn = new Connection({
  event: eventId,
  query: () => ({ role: "screen" }),
  onMessage: receive,
  onState: (st) => {
    banner(st);
    if (st === "notfound") setMode("notfound");
  },
  probe: () => probeEvent(eventId),
});
const banner = bannerFor($("[data-banner]"), () => t("common.offline"));

function receive(m) {
  switch (m.type) {
    case "snapshot":
      S.ev = m.event;
      S.stage = m.stage;
      S.turnout = m.turnout || null;
      if (m.standings) S.standings = m.standings;
      render(false);
      break;
    case "stage":
      S.stage = m.stage;
      render(true);
      break;
    case "event":
      S.ev = m.event;
      render(false);
      break;
    case "standings":
      S.turnout = m.turnout || S.turnout;
      if (m.standings) S.standings = m.standings;
      render(true);
      break;
    case "deleted":
      conn.stop();
      setMode("deleted");
      break;
  }
}

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
    setText(li.querySelector(".rank"), ranked ? String(rank) : "–");
    setText(li.querySelector(".name"), c.name);
    const sub = [];
    if (!this.group && c.group) sub.push(c.group);
    sub.push(t("screen.ballots", { n: r.ballots }));
    setText(li.querySelector(".sub"), sub.join(" · "));
    const score = li.querySelector(".score");
    if (ranked) tween(score, r.final, S.ev.rules.decimals, 900);
    else {
      score.__value = null;
      setText(score, "—");
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

let revealKey = "";
let revealItems = []; // position → {li, podium}
let podiumSteps = [];
let lastRevealed = -1;

function renderReveal(animate) {
  const st = S.stage || {};
  const ev = S.ev;
  const idx = contestantIndex(ev);
  const ended = st.phase === "ended";
  setText($("[data-reveal-title]"), ended ? t("screen.endedTitle") : t("screen.revealTitle"));
  setText($("[data-reveal-sub]"), ended ? t("screen.thanks") : "");
  // Every contestant has a place. The standings may hold every row (the
  // screen hides the unrevealed ones) or only the revealed bottom rows.
  const rows = ((S.standings && S.standings.rows) || []).filter((r) => idx[r.contestant]);
  const n = Math.max(rows.length, ev.contestants.length);
  const offset = n - rows.length;
  const revealed = ended ? n : Math.min(n, st.revealed || 0);
  const key = String(n);
  const list = $("[data-reveal-list]");
  const podium = $("[data-podium]");
  if (key !== revealKey) {
    revealKey = key;
    list.textContent = "";
    podium.textContent = "";
    revealItems = [];
    podiumSteps = [];
    const rest = Math.max(0, n - 3);
    const cols = rest > 7 ? 2 : 1;
    const per = Math.max(1, Math.ceil(rest / cols));
    const slots = Math.max(7, per);
    list.style.gridTemplateRows = "repeat(" + per + ", calc((100% - " + (slots - 1) + " * var(--gap)) / " + slots + "))";
    list.style.gridTemplateColumns = "repeat(" + cols + ", minmax(0, 1fr))";
    for (let pos = 3; pos < n; pos++) {
      const li = h("li", { class: "rrow" });
      li.innerHTML = '<span class="rank num"></span><span class="who"><span class="name"></span><span class="sub"></span></span><span class="score num"></span>';
      list.appendChild(li);
      revealItems[pos] = li;
    }
    [1, 0, 2].forEach((pos) => {
      if (pos >= n) return;
      const step = h("div", { class: "step p" + (pos + 1) });
      step.innerHTML = '<div class="step-who"><div class="medal num"></div><div class="step-title"></div>' +
        '<div class="name"></div><div class="sub"></div><div class="score num"></div></div><div class="block num"></div>';
      podium.appendChild(step);
      podiumSteps[pos] = step;
    });
    lastRevealed = -1;
    animate = false;
  }
  podium.hidden = n === 0;
  const rules = ev.rules;
  for (let pos = 0; pos < n; pos++) {
    const r = pos >= offset ? rows[pos - offset] : { contestant: "", rank: 0, groupRank: 0, ballots: 0, final: 0 };
    const c = r.contestant ? idx[r.contestant].c : { name: "", group: "" };
    const isRevealed = !!r.contestant && pos >= n - revealed;
    const fresh = animate && isRevealed && lastRevealed >= 0 && pos < n - lastRevealed;
    const el = pos < 3 ? podiumSteps[pos] : revealItems[pos];
    if (!el) continue;
    el.classList.toggle("revealed", isRevealed);
    if (fresh) {
      el.classList.remove("fresh");
      void el.offsetWidth;
      el.classList.add("fresh");
    }
    const rankText = r.rank > 0 ? String(r.rank) : String(pos + 1);
    if (pos < 3) {
      setText(el.querySelector(".medal"), isRevealed ? rankText : "?");
      setText(el.querySelector(".block"), String(pos + 1));
      setText(el.querySelector(".step-title"), isRevealed ? [t("screen.champion"), t("screen.second"), t("screen.third")][pos] : "");
    } else {
      setText(el.querySelector(".rank"), rankText);
    }
    setText(el.querySelector(".name"), isRevealed ? c.name : "？？？");
    const sub = [];
    if (isRevealed && c.group) {
      sub.push(c.group);
      if (r.groupRank) sub.push(t("screen.groupRank", { n: r.groupRank }));
    }
    setText(el.querySelector(".sub"), sub.join(" · "));
    const score = el.querySelector(".score");
    if (isRevealed && r.ballots > 0) {
      if (fresh) {
        if (score.__raf) cancelAnimationFrame(score.__raf);
        score.__raf = 0;
        score.__value = score.__shown = rules.min;
        tween(score, r.final, rules.decimals, pos < 3 ? 2200 : 1200);
      } else {
        tween(score, r.final, rules.decimals, 600);
      }
    } else {
      score.__value = null;
      setText(score, isRevealed ? "—" : "");
    }
  }
  body.classList.toggle("champion", revealed >= n && n > 0);
  lastRevealed = revealed;
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

// The short link without the scheme reads better from afar.
// A break may come only after a slash.
$$("[data-short-link]").forEach((el) => {
  const parts = (body.dataset.voteUrl || "").replace(/^https?:\/\//, "").split("/");
  el.textContent = "";
  parts.forEach((p, i) => {
    el.appendChild(document.createTextNode(p + (i < parts.length - 1 ? "/" : "")));
    if (i < parts.length - 1) el.appendChild(document.createElement("wbr"));
  });
});

initI18n();
onLangChange(() => {
  boardsKey = "";
  revealKey = "";
  render(false);
});
conn.start();
