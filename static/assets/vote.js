// The vote page: a phone joins the event from the QR code, sees who is on
// stage and scores them. This module keeps the page's state and connection
// and renders the stage, the ticket form, the ranking and the foot;
// vote-join.js is who the phone is (credential, hall code, panel, ticket),
// vote-ballots.js its ballots (kept until acknowledged, resent with their
// id, so that each counts exactly once) and their cards, vote-input.js the
// score inputs. When the phone's network blocks WebSockets, the page goes
// on over HTTP (see "the HTTP fallback" below).
import { t, initI18n, onLangChange } from "./i18n.js";
import { live, liveState, bannerFor, secretProtocols, newerStage } from "./conn.js";
import { request, eventPath } from "./api.js";
import { $, $$, h, setText } from "./dom.js";
import { load, save } from "./storage.js";
import { fmtScore, fmtClock, fmtTicket } from "./format.js";
import { contestantIndex } from "./event.js";
import { initBallots, rebuildCards, mergeServerBallots, resendPending, onAck, scopeAll, renderBallots } from "./vote-ballots.js";
import { me, panelStore, ticketStore, ensureCredential, join, claimTicket, mineTickets } from "./vote-join.js";

const body = document.body;
const eventId = body.dataset.event;
// Failed socket opens after which the page goes on over HTTP, if the
// server answers it (about 2–4 s after the page opened).
const FALLBACK_AFTER = 4;

// showHallCode says, in the page's language, that this phone must scan
// the big screen's QR code (again, when its code expired on the way).
function showHallCode() {
  setText($("[data-hall-title]"), t(me.joinRefused === "expired" ? "vote.hallExpired" : "vote.hallScan"));
  setText($("[data-hall-hint]"), t(me.joinRefused === "expired" ? "vote.hallExpiredHint" : "vote.hallScanHint"));
  setView("hallcode");
}

function adoptTicketPanel(panel) {
  const first = S.ev && S.ev.panels && S.ev.panels[0] ? S.ev.panels[0].id : "";
  if (panel === (me.panelSel ? me.panelSel.panel : first)) return;
  me.panelSel = { panel: panel, key: me.panelSel && me.panelSel.panel === panel ? me.panelSel.key : "" };
  save(panelStore, me.panelSel);
  S.mine = load(ballotStoreKey(), {}) || {};
  if (started) conn.restart();
}

function ticketNeeded() {
  if (!S.ev) return false;
  const p = (S.ev.panels || []).filter((x) => x.id === S.panel)[0];
  return !!(p && p.tickets);
}

function renderTicket() {
  const box = $("[data-ticket]");
  if (!box) return;
  const need = ticketNeeded() && !(me.ticket.held && !me.ticket.held.revoked && me.ticket.held.panel === S.panel);
  box.hidden = !need;
  $("[data-ballots]").hidden = need; // nothing to score without a ticket
  const err = $("[data-ticket-error]");
  const msg = me.ticket.busy ? t("vote.ticketChecking") : me.ticket.error;
  err.hidden = !msg;
  setText(err, msg);
  renderFoot();
}

me.on = { hallCode: showHallCode, ticket: renderTicket, ticketPanel: adoptTicketPanel };

function ballotStoreKey() { return "leitai.ballots." + eventId + "." + (me.panelSel ? me.panelSel.panel : ""); }

const S = liveState({
  mine: load(ballotStoreKey(), {}) || {}, // contestant → ballot entry (pending ones survive a reload)
  notes: {}, // contestant → a refusal to show
  drafts: {}, // contestant → {criterion or "": value}
  view: "loading",
  panelProblem: false,
});

function persist() { save(ballotStoreKey(), S.mine); }

// The last state seen is kept too, so that a page reloaded while the
// network is down shows the event (and its pending ballots) at once.
const lastStore = "leitai.last." + eventId;
function remember() { save(lastStore, { ev: S.ev, stage: S.stage, panel: S.panel, at: Date.now() }); }

const conn = live(S, {
  event: eventId,
  query: () => {
    const q = { role: "voter" };
    if (me.panelSel) { q.panel = me.panelSel.panel; q.panelKey = me.panelSel.key; }
    return q;
  },
  protocols: () => secretProtocols("cred", me.credential),
  on: {
    snapshot: (m) => {
      if (Array.isArray(m.ballots)) mergeServerBallots(m.ballots);
      remember();
      setView("event");
      renderAll();
      if (ticketNeeded() && !me.ticket.held && !me.ticket.busy) {
        if (me.ticket.code) claimTicket();
        else mineTickets();
      }
      if (m.first) resendPending();
    },
    stage: () => { remember(); renderAll(); },
    event: () => { remember(); renderAll(); },
    standings: () => { renderRanking(); renderFoot(); },
    reset: (m) => {
      delete S.mine[m.contestant];
      delete S.drafts[m.contestant];
      delete S.notes[m.contestant];
      persist();
      renderBallots();
    },
    deleted: () => {
      save(lastStore, null);
      setView("deleted");
    },
    ack: onAck,
    // error: a frame the server could not use; nothing changed. Keep going.
  },
  fallbackAfter: FALLBACK_AFTER,
  onState: (st) => {
    banner(st);
    if (st === "fallback") poll();
    if (st === "notfound") setView("notfound");
    else if (st === "forbidden" && me.joinRefused) showHallCode();
    else if (st === "forbidden" && S.panelProblem) setView("panelproblem");
    else if (st === "online" && S.ev) setView("event");
    renderBallots();
  },
  probe: probe,
});
initBallots(S, conn, { persist: persist, ticketNeeded: ticketNeeded, renderTicket: renderTicket });
const banner = bannerFor($("[data-banner]"), (st) => t(st === "fallback" ? "vote.fallback" : "common.offline"));

function probe() {
  // A refused handshake may be a credential the server no longer takes,
  // or none that admits this phone (no hall code: the page says so and
  // keeps trying).
  return ensureCredential().then(() => {
    if (me.joinRefused) return "ok";
    return request("GET", eventPath(eventId)).then((ev) => {
      if (!me.panelSel) return "ok";
      // A wrong panel key is not a refused handshake: the key is checked
      // with each ballot, which says so.
      const p = (ev.panels || []).filter((x) => x.id === me.panelSel.panel)[0];
      if (!p) {
        S.panelProblem = true;
        return "forbidden";
      }
      return "ok";
    }, (e) => {
      if (e.status === 404) return "notfound";
      if (e.status) return "ok";
      throw e;
    });
  });
}

// ---- the HTTP fallback ------------------------------------------------------

// After FALLBACK_AFTER failed socket opens, if the server answers HTTP, the
// connection's state is "fallback": the page polls the event and the stage
// every POLL_EVERY ms, and vote-ballots.js casts over HTTP with the same
// ballot ids. The socket keeps trying; its first snapshot ends the
// fallback. The banner says which it is.
const POLL_EVERY = 3000;
let pollTimer = 0;
let polledBallots = false; // this fallback has merged the server's list

function poll() {
  clearTimeout(pollTimer);
  pollTimer = 0;
  if (conn.live || conn.stopped || conn.state !== "fallback") {
    polledBallots = false;
    return;
  }
  const path = eventPath(eventId);
  const opts = me.credential ? { headers: { "X-Leitai-Credential": me.credential } } : undefined;
  Promise.all([
    request("GET", path),
    request("GET", path + "/stage"),
    polledBallots ? null : request("GET", path + "/ballots", undefined, opts).catch(() => null),
  ]).then(([ev, st, mine]) => {
    if (conn.live || conn.state !== "fallback") return;
    S.ev = ev;
    if (newerStage(S.stage, st)) S.stage = st;
    const first = ev.panels && ev.panels[0] ? ev.panels[0].id : "";
    S.panel = me.panelSel ? me.panelSel.panel : first;
    if (mine && Array.isArray(mine.ballots)) {
      mergeServerBallots(mine.ballots);
      polledBallots = true;
    }
    remember();
    setView("event");
    renderAll();
    resendPending();
  }, (e) => {
    if (conn.live) return;
    if (e.status === 404) { conn.setState("notfound"); return; }
    if (!e.status) conn.setState("offline"); // HTTP fails too: plainly offline
  }).then(() => {
    if (conn.state === "fallback" && !conn.live) pollTimer = setTimeout(poll, POLL_EVERY);
  });
}

function setView(v) {
  S.view = v;
  $$("[data-view]").forEach((el) => { el.hidden = el.dataset.view !== v; });
}

// ---- rendering -------------------------------------------------------------

function renderAll() {
  if (!S.ev) return;
  document.title = S.ev.title + " · " + t("vote.docTitle");
  setText($("[data-title]"), S.ev.title);
  renderPanelBadge();
  renderTicket();
  renderStage();
  renderBallots();
  renderRanking();
  renderFoot();
}

function renderPanelBadge() {
  const el = $("[data-panel-badge]");
  const p = (S.ev.panels || []).filter((x) => x.id === S.panel)[0];
  const show = p && S.ev.panels.length > 1;
  el.hidden = !show;
  if (show) setText(el, t("vote.panelAs", { panel: p.name }));
}

function renderStage() {
  const st = S.stage || {};
  const idx = contestantIndex(S.ev);
  const cur = st.current && idx[st.current];
  const onStage = cur && st.phase !== "lobby" && st.phase !== "reveal" && st.phase !== "ended";
  setText($("[data-stage-label]"), onStage ? t("vote.onStage") : t("vote.event"));
  setText($("[data-stage-name]"), onStage ? cur.c.name : phaseHeadline(st.phase));
  // What the contestant presents (汇报主题), under its name.
  const theme = $("[data-stage-theme]");
  theme.hidden = !(onStage && cur.c.theme);
  setText(theme, onStage && cur.c.theme ? cur.c.theme : "");
  const meta = [];
  if (onStage) {
    if (cur.c.group) meta.push(cur.c.group);
    if (cur.c.presenter) meta.push(t("vote.presenter", { name: cur.c.presenter }));
    meta.push(t("common.nOfN", { n: cur.i + 1, total: S.ev.contestants.length }));
  }
  setText($("[data-stage-meta]"), meta.join(" · "));
  const pill = $("[data-phase-pill]");
  const open = st.phase === "voting" && !(st.endsAt && conn.now() >= st.endsAt);
  pill.className = "pill " + (open ? "open" : st.phase === "closed" || (st.phase === "voting" && !open) ? "closed" : "idle");
  setText(pill, open ? t("phase.voting") : st.phase === "voting" ? t("phase.closed") : t("phase." + (st.phase || "lobby")));
  tick();
}

function phaseHeadline(phase) {
  if (phase === "reveal") return t("vote.revealHeadline");
  if (phase === "ended") return t("vote.endedHeadline");
  if (scopeAll() && phase !== "lobby") return t("vote.allHeadline");
  return t("vote.lobbyHeadline");
}

// The countdown, and voting closing by itself when it reaches zero.
let wasOpen = null;
function tick() {
  const st = S.stage;
  const el = $("[data-countdown]");
  if (!st || !st.endsAt || (st.phase !== "voting" && st.phase !== "presenting" && st.phase !== "closed")) {
    el.hidden = true;
  } else {
    const left = st.endsAt - conn.now();
    el.hidden = false;
    setText(el, fmtClock(left));
    el.classList.toggle("urgent", left <= 10000);
  }
  const open = !!(st && st.phase === "voting" && !(st.endsAt && conn.now() >= st.endsAt));
  if (wasOpen !== null && open !== wasOpen) {
    wasOpen = open;
    renderStage();
    renderBallots();
    return;
  }
  wasOpen = open;
}
setInterval(tick, 250);

function renderRanking() {
  const box = $("[data-ranking]");
  if (!S.ev) return;
  // Only ranked contestants have a place (the server sends no others);
  // never show a place 0.
  const rows = (S.ranking || []).filter((r) => r.rank > 0);
  const st = S.stage || {};
  if (!rows.length) { box.hidden = true; return; }
  box.hidden = false;
  setText($("[data-ranking-title]"), st.phase === "reveal" ? t("vote.rankingReveal") : st.phase === "ended" ? t("vote.rankingFinal") : t("vote.rankingLive"));
  const idx = contestantIndex(S.ev);
  const list = $("[data-ranking-list]");
  const dec = S.ev.rules.decimals;
  list.textContent = "";
  rows.forEach((r) => {
    const c = idx[r.contestant];
    list.appendChild(h("li", { class: "rk" + (r.rank <= 3 ? " top top" + r.rank : "") + (r.contestant === st.current ? " current" : "") },
      h("span", { class: "rk-rank num" }, String(r.rank)),
      h("span", { class: "rk-name" }, c ? c.c.name : r.contestant),
      h("span", { class: "rk-score num" }, fmtScore(r.final, dec))));
  });
}

function renderFoot() {
  const parts = [];
  const tu = S.turnout;
  if (tu && tu.voters) parts.push(t("vote.online", { n: tu.voters }));
  if (tu && tu.contestant && S.stage && S.stage.current === tu.contestant && S.stage.phase !== "lobby") parts.push(t("vote.votedForCurrent", { n: tu.voted }));
  parts.push(t("vote.device", { id: me.voter.slice(0, 4) }));
  if (me.ticket.held && !me.ticket.held.revoked) parts.push(t("vote.ticketHeld", { code: fmtTicket(me.ticket.held.code) }));
  setText($("[data-foot]"), parts.join(" · "));
}

// ---- wiring ----------------------------------------------------------------

document.addEventListener("click", (e) => {
  const a = e.target.closest && e.target.closest("[data-action]");
  if (!a) return;
  if (a.dataset.action === "leave-panel") {
    me.panelSel = null;
    save(panelStore, null);
    S.panelProblem = false;
    S.mine = load(ballotStoreKey(), {}) || {};
    setView("loading");
    conn.restart();
  }
});

$("[data-ticket-form]").addEventListener("submit", (e) => {
  e.preventDefault();
  const v = $("[data-ticket-input]").value.trim();
  if (!v) return;
  me.ticket.code = v;
  me.ticket.error = "";
  save(ticketStore, v);
  ensureCredential().then(claimTicket);
});

initI18n();
onLangChange(() => { rebuildCards(); renderAll(); if (S.view === "hallcode") showHallCode(); });
(function showLastKnown() {
  const last = load(lastStore, null);
  const panel = me.panelSel ? me.panelSel.panel : "";
  // Only a recent state of the same panel (a day), and only until the
  // snapshot arrives.
  if (!last || !last.ev || !last.stage || Date.now() - last.at > 864e5 || (panel && last.panel !== panel)) return;
  S.ev = last.ev;
  S.stage = last.stage;
  S.panel = last.panel || "";
  setView("event");
  renderAll();
})();
// A phone that already has a credential connects at once (a slow request
// on bad Wi-Fi must not hold it back) and refreshes it meanwhile; a new
// phone needs one first (and claims the ticket it came with, so that it
// connects in the ticket's panel). Without one (no hall code) it stays on
// the hall-code notice.
let started = false;
function startConn() {
  if (started) return;
  started = true;
  conn.start();
}
if (me.credential) {
  startConn();
  ensureCredential();
} else {
  join(Date.now() + 60000).then((ok) => {
    if (ok && me.ticket.code && !me.ticket.held) return claimTicket();
    return null;
  }).then(() => { if (!me.joinRefused) startConn(); });
}

// Test hook: the pending ballots as stored (read by the browser tests).
window.__leitai = { pending: () => Object.keys(S.mine).filter((c) => S.mine[c].state === "pending").length, conn: conn };
