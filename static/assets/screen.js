// The big screen: who is on stage, the QR code to join (with the hall
// code), turnout, the countdown, the presentation timer, and the live
// ranking (screen-board.js) or the final reveal (screen-reveal.js).
import { t, initI18n, onLangChange, toggleLang } from "./i18n.js";
import { live, liveState, probeEvent, bannerFor } from "./conn.js";
import { request, eventPath, takeFragment } from "./api.js";
import { $, $$, h, setText } from "./dom.js";
import { load, save } from "./storage.js";
import { fmtClock, timerView } from "./format.js";
import { contestantIndex } from "./event.js";
import { initBoards, renderBoards, tabCount, pinTab, unpin, rebuildBoards } from "./screen-board.js";
import { initReveal, renderReveal, rebuildReveal } from "./screen-reveal.js";
import { initSeason, renderSeason, rebuildSeason } from "./screen-season.js";
import { showReachWarning } from "./reach.js";
import { initSpotlight, renderSpotlight } from "./screen-spotlight.js";

const body = document.body;
const eventId = body.dataset.event;

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
initBoards(S, rankingVisible);
initReveal(S);
initSpotlight(S, () => screenKey);
initSeason(S, eventId);
const banner = bannerFor($("[data-banner]"), () => t("common.offline"));

function setMode(mode) {
  if (S.mode === mode) return;
  S.mode = mode;
  $$("[data-mode]").forEach((el) => { el.hidden = el.dataset.mode !== mode; });
  body.dataset.screenMode = mode;
}

// rankingVisible: the server sends the screen standings only while the
// audience may see them (voting.ViewOf); the screen does not decide it.
function rankingVisible() {
  return !!S.standings;
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
  else if ((st.phase === "reveal" || st.phase === "ended") && st.season) mode = "season";
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
  } else if (mode === "season") {
    renderSeason();
  } else {
    renderReveal(animate && !modeChanged);
  }
  renderSpotlight();
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
  $("[data-tabs]").hidden = !visible || tabCount() < 2;
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
  } else if (k >= "1" && k <= "9" && tabCount() > 1) {
    pinTab(Number(k) - 1);
  } else if (k === "0" && tabCount() > 1) {
    unpin();
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
  rebuildBoards();
  rebuildReveal();
  rebuildSeason();
  render(false);
});
conn.start();
refreshHallCode();
