// The vote page: a phone joins the event from the QR code, sees who is on
// stage and scores them. Ballots are kept in localStorage until the server
// acknowledges them, and resent with their original id after a dropped
// connection or a reload, so that each counts exactly once.
import { t, initI18n, onLangChange } from "./i18n.js";
import { live, liveState, bannerFor, secretProtocols } from "./conn.js";
import { errorText } from "./errors.js";
import { request, eventPath } from "./api.js";
import { $, $$, h, setText } from "./dom.js";
import { load, save } from "./storage.js";
import { uuid } from "./uuid.js";
import { fmtPoints, fmtScore, fmtClock, decimalsOf, fmtTicket } from "./format.js";
import { contestantIndex } from "./event.js";
import { isShort, shortInput, fineInput } from "./vote-input.js";

const body = document.body;
const eventId = body.dataset.event;

// The phone's identity across reloads: a credential for this event that the
// server issues (an HttpOnly cookie, and a copy here because some in-app
// browsers drop cookies) and the voter id it names. It travels in a header
// or the socket's subprotocol, never in a URL. A phone that joined before
// credentials were per event holds one for every event (the plain keys).
const credStore = "leitai.credential." + eventId;
const voterStore = "leitai.voter." + eventId;
let credential = load(credStore, "") || load("leitai.credential", "");
let voter = load(voterStore, "") || load("leitai.voter", "");
if (typeof credential !== "string") credential = "";
if (typeof voter !== "string") voter = "";

// The hall code (现场码) comes in the link of the big screen's QR code
// (?j=…), which changes it every half minute. A new phone needs it once, to
// get its credential; a reload or reconnect never does. It is taken out of
// the address bar, so that a link shared from this page carries none.
let hallCode = "";
(function readHallCode() {
  const q = new URLSearchParams(window.location.search);
  const j = q.get("j");
  if (!j) return;
  hallCode = j;
  q.delete("j");
  const rest = q.toString();
  try { window.history.replaceState(null, "", window.location.pathname + (rest ? "?" + rest : "")); } catch (e) { /* old browser */ }
})();
// joinRefused: the server would not admit this phone: "missing" (no hall
// code) or "expired" (the code had changed before the phone got in).
// joinBusy: the server asked it to wait (many phones joining from one
// address, e.g. a hall behind one NAT).
let joinRefused = "";
let joinBusy = false;

// ensureCredential asks the server for this phone's credential: the same
// one again while it is valid, else a new one, with the hall code (or the
// judge's panel key, or a ticket) as the proof. It resolves to whether the
// phone has one. Offline, the page goes on with what it has and asks again
// when it can reach the server.
function ensureCredential() {
  const headers = { "Content-Type": "application/json" };
  if (credential) headers["X-Leitai-Credential"] = credential;
  const req = { event: eventId };
  if (hallCode) req.hallCode = hallCode;
  if (panelSel) {
    req.panel = panelSel.panel;
    if (panelSel.key) req.panelKey = panelSel.key;
  }
  if (T.code) req.ticket = true;
  return request("POST", "/voter", req, { headers: headers }).then((b) => {
    joinBusy = false;
    if (!b || !b.credential || !b.voter) return false;
    credential = b.credential;
    voter = b.voter;
    joinRefused = "";
    save(credStore, credential);
    save(voterStore, voter);
    return true;
  }, (e) => {
    if (!e.status) return !!credential; // offline: keep what we have
    joinBusy = e.status === 429 || e.status === 503;
    if (e.code === "hall_code") {
      joinRefused = hallCode ? "expired" : "missing";
      showHallCode();
    }
    return false;
  });
}

// join gets a new phone its credential, asking again every few seconds
// while the server says it is busy, until the hall code would have expired.
function join(until) {
  return ensureCredential().then((ok) => {
    if (ok || !joinBusy || Date.now() > until) return ok;
    return new Promise((resolve) => setTimeout(resolve, 1000 + Math.random() * 2000)).then(() => join(until));
  });
}

// showHallCode says, in the page's language, that this phone must scan
// the big screen's QR code (again, when its code expired on the way).
function showHallCode() {
  setText($("[data-hall-title]"), t(joinRefused === "expired" ? "vote.hallExpired" : "vote.hallScan"));
  setText($("[data-hall-hint]"), t(joinRefused === "expired" ? "vote.hallExpiredHint" : "vote.hallScanHint"));
  setView("hallcode");
}

// A judge's link carries ?panel=...&panelKey=...; remember it for this event.
const panelStore = "leitai.panel." + eventId;
let panelSel = load(panelStore, null);
(function readPanelFromURL() {
  const q = new URLSearchParams(window.location.search);
  const p = q.get("panel");
  if (p) {
    panelSel = { panel: p, key: q.get("panelKey") || "" };
    save(panelStore, panelSel);
  }
})();

// A ticket (一人一票) arrives as ?ticket=CODE from the QR code on it, or is
// typed. It is claimed for this phone's credential; the server binds it to
// the first phone and says which panel it admits to.
const ticketStore = "leitai.ticket." + eventId;
const T = { code: load(ticketStore, "") || "", held: null, error: "", busy: false };
(function readTicketFromURL() {
  const q = new URLSearchParams(window.location.search);
  const code = q.get("ticket");
  if (!code) return;
  T.code = code;
  save(ticketStore, code);
  q.delete("ticket");
  const rest = q.toString();
  try { window.history.replaceState(null, "", window.location.pathname + (rest ? "?" + rest : "")); } catch (e) { /* old browser */ }
})();

// claimTicket claims T.code; on success the phone votes in the ticket's
// panel from then on.
function claimTicket() {
  if (!T.code || !credential) return Promise.resolve();
  T.busy = true;
  renderTicket();
  const path = eventPath(eventId) + "/tickets/" + encodeURIComponent(T.code) + "/claim";
  return request("POST", path, undefined, { headers: { "X-Leitai-Credential": credential } }).then((tk) => {
    T.busy = false;
    T.held = tk;
    T.error = "";
    adoptTicketPanel(tk.panel);
    renderTicket();
  }, (e) => {
    T.busy = false;
    if (e.status) {
      T.held = null;
      T.error = ticketErrorText(e.code);
      if (e.code === "unavailable") setTimeout(claimTicket, 2000);
      renderTicket();
      return;
    }
    // No answer (hall Wi-Fi): say so and try again with the same code.
    T.error = t("vote.ticketRetry");
    renderTicket();
    setTimeout(() => { if (!T.held && !T.busy) claimTicket(); }, 3000);
  });
}

// ticketErrorText says in the page's language why a claim was refused.
function ticketErrorText(code) {
  switch (code) {
    case "forbidden": return t("vote.ticketTaken");
    case "not_found": return t("vote.ticketUnknown");
    case "conflict": return t("vote.ticketHeldOther");
    case "unavailable": return t("vote.ticketRetry");
  }
  return t("vote.ticketNeeded");
}

// mineTickets asks which tickets this phone already holds (a phone that
// claimed one and lost its local storage, or opened the plain link).
function mineTickets() {
  if (!credential) return Promise.resolve();
  return request("GET", eventPath(eventId) + "/tickets/mine", undefined, { headers: { "X-Leitai-Credential": credential } })
    .then((b) => b, (e) => { if (e.status) return null; throw e; }).then((b) => {
    const list = (b && b.tickets) || [];
    const want = panelSel ? panelSel.panel : "";
    const held = list.filter((x) => !x.revoked && (!want || x.panel === want))[0] || list.filter((x) => !x.revoked)[0];
    if (held) {
      T.held = held;
      T.code = held.code;
      save(ticketStore, held.code);
      adoptTicketPanel(held.panel);
    } else if (list.length) {
      T.error = t("vote.ticketNeeded");
    }
    renderTicket();
  }, () => {});
}

function adoptTicketPanel(panel) {
  const first = S.ev && S.ev.panels && S.ev.panels[0] ? S.ev.panels[0].id : "";
  if (panel === (panelSel ? panelSel.panel : first)) return;
  panelSel = { panel: panel, key: panelSel && panelSel.panel === panel ? panelSel.key : "" };
  save(panelStore, panelSel);
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
  const need = ticketNeeded() && !(T.held && !T.held.revoked && T.held.panel === S.panel);
  box.hidden = !need;
  $("[data-ballots]").hidden = need; // nothing to score without a ticket
  const err = $("[data-ticket-error]");
  const msg = T.busy ? t("vote.ticketChecking") : T.error;
  err.hidden = !msg;
  setText(err, msg);
  renderFoot();
}

function ballotStoreKey() { return "leitai.ballots." + eventId + "." + (panelSel ? panelSel.panel : ""); }

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
    if (panelSel) { q.panel = panelSel.panel; q.panelKey = panelSel.key; }
    return q;
  },
  protocols: () => secretProtocols("cred", credential),
  on: {
    snapshot: (m) => {
      if (Array.isArray(m.ballots)) mergeServerBallots(m.ballots);
      remember();
      setView("event");
      renderAll();
      if (ticketNeeded() && !T.held && !T.busy) {
        if (T.code) claimTicket();
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
  onState: (st) => {
    banner(st);
    if (st === "notfound") setView("notfound");
    else if (st === "forbidden" && joinRefused) showHallCode();
    else if (st === "forbidden" && S.panelProblem) setView("panelproblem");
    else if (st === "online" && S.ev) setView("event");
    renderBallots();
  },
  probe: probe,
});
const banner = bannerFor($("[data-banner]"), () => t("common.offline"));

function probe() {
  // A refused handshake may be a credential the server no longer takes,
  // or none that admits this phone (no hall code: the page says so and
  // keeps trying).
  return ensureCredential().then(() => {
    if (joinRefused) return "ok";
    return request("GET", eventPath(eventId)).then((ev) => {
      if (!panelSel) return "ok";
      const p = (ev.panels || []).filter((x) => x.id === panelSel.panel)[0];
      if (!p || conn.failures >= 3) {
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

function setView(v) {
  S.view = v;
  $$("[data-view]").forEach((el) => { el.hidden = el.dataset.view !== v; });
}

// ---- ballots --------------------------------------------------------------

// mergeServerBallots takes the server's list of this voter's live ballots
// as the truth, keeping the ballots still waiting for an answer.
function mergeServerBallots(list) {
  const server = {};
  list.forEach((b) => { if (b.panel === S.panel) server[b.contestant] = b; });
  const next = {};
  const codes = {};
  Object.keys(S.mine).forEach((c) => { if (S.mine[c].code) codes[S.mine[c].id] = S.mine[c].code; });
  Object.keys(S.mine).forEach((c) => {
    const e = S.mine[c];
    if (e.state !== "pending") return;
    const b = server[c];
    if (b && b.id === e.id) {
      next[c] = { id: b.id, contestant: c, score: e.score, scores: e.scores, state: "ok", counted: b.units / 10000 };
    } else {
      next[c] = e;
    }
  });
  Object.keys(server).forEach((c) => {
    if (next[c]) return;
    const b = server[c];
    next[c] = { id: b.id, contestant: c, score: b.score, scores: b.scores, state: "ok", counted: b.units / 10000, code: codes[b.id] };
  });
  S.mine = next;
  persist();
}

function ballotMessage(e) {
  const m = { type: "ballot", id: e.id, contestant: e.contestant };
  if (e.scores) m.scores = e.scores;
  else m.score = e.score;
  return m;
}

function resendPending() {
  Object.keys(S.mine).forEach((c) => {
    const e = S.mine[c];
    if (e.state === "pending") conn.send(ballotMessage(e));
  });
}

function findByID(id) {
  const cs = Object.keys(S.mine);
  for (let i = 0; i < cs.length; i++) if (S.mine[cs[i]].id === id) return S.mine[cs[i]];
  return null;
}

function onAck(m) {
  const e = findByID(m.id);
  if (!e) return;
  const c = e.contestant;
  if (m.ok && m.receipt) {
    S.mine[c] = { id: e.id, contestant: c, score: e.score, scores: e.scores, state: "ok", counted: m.receipt.score, code: m.receipt.code };
    delete S.notes[c];
  } else {
    const err = m.error || {};
    if (err.code === "unavailable") {
      // The store is busy: the same ballot, same id, a little later.
      setTimeout(() => { if (S.mine[c] === e && e.state === "pending") conn.send(ballotMessage(e)); }, 1500 + Math.random() * 1500);
      return;
    }
    S.notes[c] = errorText(err, "voter");
    if (err.code === "forbidden" && ticketNeeded()) {
      // No ticket, or it was revoked: ask for one.
      S.notes[c] = t("vote.ticketNeeded");
      T.error = T.held ? t("vote.ticketTaken") : t("vote.ticketNeeded"); // revoked, or never held one
      T.held = null;
      renderTicket();
    }
    if (e.prev) S.mine[c] = e.prev;
    else delete S.mine[c];
    delete S.drafts[c];
  }
  persist();
  renderBallots();
}


// ---- casting ---------------------------------------------------------------

function criteria() { return (S.ev && S.ev.rules && S.ev.rules.criteria) || []; }

function sameContent(e, v) {
  if (!e) return false;
  if (v.scores) {
    if (!e.scores) return false;
    const ks = Object.keys(v.scores);
    return ks.length === Object.keys(e.scores).length && ks.every((k) => e.scores[k] === v.scores[k]);
  }
  return !e.scores && e.score === v.score;
}

// draftValue returns {score} or {scores} from the drafts, or null while a
// criterion has no value yet.
function draftValue(c) {
  const d = S.drafts[c] || {};
  const cr = criteria();
  if (!cr.length) return typeof d[""] === "number" ? { score: d[""] } : null;
  const scores = {};
  for (let i = 0; i < cr.length; i++) {
    const v = d[cr[i].id];
    if (typeof v !== "number") return null;
    scores[cr[i].id] = v;
  }
  return { scores: scores };
}

function submit(c) {
  const v = draftValue(c);
  if (!v || !votingOpenFor(c)) return;
  const cur = S.mine[c];
  if (cur && sameContent(cur, v) && cur.state !== "error") {
    if (cur.state === "pending") conn.send(ballotMessage(cur));
    return;
  }
  const prev = cur && cur.state === "ok" ? cur : (cur && cur.prev) || null;
  const e = { id: uuid(), contestant: c, state: "pending", prev: prev ? { id: prev.id, contestant: c, score: prev.score, scores: prev.scores, state: "ok", counted: prev.counted } : null };
  if (v.scores) e.scores = v.scores;
  else e.score = v.score;
  S.mine[c] = e;
  delete S.notes[c];
  persist();
  conn.send(ballotMessage(e));
  watch(e);
  renderBallots();
}

// watch reconnects when a ballot sent on a connection that looks alive gets
// no answer: on hall Wi-Fi a socket can die without closing. The new
// connection resends the ballot with the same id.
function watch(e) {
  setTimeout(() => {
    if (S.mine[e.contestant] === e && e.state === "pending" && conn.state === "online") conn.restart();
  }, 8000);
}

// ---- state helpers -------------------------------------------------------

function votingOpenFor(c) {
  const st = S.stage;
  if (!st || st.phase !== "voting" || !S.ev) return false;
  if (st.endsAt && conn.now() >= st.endsAt) return false;
  return S.ev.votingScope === "all" || st.current === c;
}

function scopeAll() { return S.ev && S.ev.votingScope === "all"; }

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

// Ballot cards are built once per (rules, scope, contestants on offer) and
// updated in place afterwards, so that a slider being dragged is never
// replaced under the finger.
let builtKey = "";
const cards = {};

function contestantsOnOffer() {
  const st = S.stage || {};
  if (scopeAll()) return S.ev.contestants.slice();
  if (st.phase === "lobby" || st.phase === "reveal" || st.phase === "ended") return [];
  const cur = contestantIndex(S.ev)[st.current];
  return cur ? [cur.c] : [];
}

function renderBallots() {
  if (!S.ev) return;
  const offer = contestantsOnOffer();
  const key = JSON.stringify([S.ev.rules, S.ev.votingScope, offer.map((c) => [c.id, c.name, c.group, c.theme])]);
  const box = $("[data-ballots]");
  if (key !== builtKey) {
    builtKey = key;
    box.textContent = "";
    Object.keys(cards).forEach((k) => delete cards[k]);
    offer.forEach((c) => {
      const card = makeCard(c, scopeAll());
      cards[c.id] = card;
      box.appendChild(card.el);
    });
  }
  Object.keys(cards).forEach((id) => cards[id].update());
}

function makeCard(c, showName) {
  const rules = S.ev.rules;
  const cr = criteria();
  const oneTap = !cr.length && isShort(rules);
  const el = h("section", { class: "card ballot" + (oneTap ? " one-tap" : ""), "data-ballot": c.id });
  if (showName) {
    el.appendChild(h("h3", { class: "ballot-name" }, c.name, c.group ? h("small", null, c.group) : null,
      c.theme ? h("small", { class: "ballot-theme" }, c.theme) : null));
  }
  const inputs = [];
  // What the inputs know of this card (see vote-input.js).
  const k = {
    rules: rules,
    draft: () => S.drafts[c.id] || (S.drafts[c.id] = {}),
    peek: () => S.drafts[c.id] || {},
    counted: () => !!(S.mine[c.id] && S.mine[c.id].state === "ok"),
    submit: () => submit(c.id),
    changed: renderBallots,
  };
  const slots = cr.length ? cr : [{ id: "", name: "" }];
  const totalWeight = cr.reduce((a, x) => a + x.weight, 0);
  slots.forEach((slot) => {
    const wrap = h("div", { class: "crit" });
    if (slot.id) {
      wrap.appendChild(h("div", { class: "crit-head" },
        h("span", { class: "crit-name" }, slot.name),
        h("span", { class: "crit-weight muted num" }, t("vote.weight", { w: fmtPoints(Math.round(slot.weight / totalWeight * 1000) / 10) }))));
    } else if (!showName) {
      wrap.appendChild(h("div", { class: "crit-head" }, h("span", { class: "crit-name" }, t("vote.yourScore")),
        h("span", { class: "muted num" }, t("vote.range", { min: fmtPoints(rules.min), max: fmtPoints(rules.max) }))));
    }
    const input = isShort(rules) ? shortInput(k, slot, oneTap) : fineInput(k, slot);
    wrap.appendChild(input.el);
    inputs.push(input);
    el.appendChild(wrap);
  });
  let total = null;
  if (cr.length) {
    total = h("div", { class: "ballot-total num" });
    el.appendChild(total);
  }
  let submitBtn = null;
  if (!oneTap) {
    submitBtn = h("button", { type: "button", class: "btn primary submit", "data-submit": c.id, onclick: () => submit(c.id) });
    el.appendChild(submitBtn);
  }
  const receipt = h("div", { class: "receipt", role: "status", "data-receipt": c.id, "data-one-tap": oneTap ? "1" : null });
  el.appendChild(receipt);

  function update() {
    const open = votingOpenFor(c.id);
    const e = S.mine[c.id];
    // Once voting is over, a score chosen but not sent is gone: the card
    // shows the ballot that counts (or is on its way), or none.
    if (!open) delete S.drafts[c.id];
    // Without a draft, show the ballot that counts (or is on its way).
    if (!S.drafts[c.id] && e) {
      const d = {};
      if (e.scores) Object.keys(e.scores).forEach((k) => { d[k] = e.scores[k]; });
      else d[""] = e.score;
      S.drafts[c.id] = d;
    }
    inputs.forEach((i) => i.update(open));
    const v = draftValue(c.id);
    if (total) {
      total.hidden = !v;
      if (v) setText(total, t("vote.weighted", { score: fmtScore(weighted(v.scores), Math.max(2, decimalsOf(rules.step))) }));
    }
    if (submitBtn) {
      const same = v && e && e.state === "ok" && sameContent(e, v);
      submitBtn.disabled = !open || !v || same || (e && e.state === "pending" && sameContent(e, v));
      // "Change to" only when a ballot has been counted: a first ballot
      // still on its way is no change.
      const counted = !!(e && (e.state === "ok" || e.prev));
      let label = t("vote.submit");
      if (v && !cr.length) label = counted ? t("vote.change", { score: fmtPoints(v.score) }) : t("vote.submitScore", { score: fmtPoints(v.score) });
      else if (v && counted) label = t("vote.changeCriteria");
      if (same) label = t("vote.submitted");
      setText(submitBtn, label);
    }
    renderReceipt(receipt, c.id, open);
    el.classList.toggle("is-open", open);
    el.classList.toggle("is-done", !!(e && e.state === "ok"));
  }
  return { el: el, update: update };
}

function weighted(scores) {
  const cr = criteria();
  let sum = 0;
  let w = 0;
  cr.forEach((x) => { sum += x.weight * scores[x.id]; w += x.weight; });
  return w ? sum / w : 0;
}

function renderReceipt(el, c, open) {
  const e = S.mine[c];
  const note = S.notes[c];
  el.className = "receipt";
  let main = "";
  let sub = "";
  if (e && e.state === "pending") {
    el.classList.add("pending");
    const score = e.scores ? fmtScore(weighted(e.scores), 2) : fmtPoints(e.score);
    main = conn.state === "online" ? t("vote.sending", { score: score }) : t("vote.queued", { score: score });
  } else if (e && e.state === "ok") {
    el.classList.add("ok");
    main = t("vote.counted", { score: fmtPoints(e.counted) });
    sub = open ? t("vote.canChange") : t("vote.final");
    if (e.code) sub += " · " + t("vote.receiptCode", { code: e.code });
  } else if (open && el.dataset.oneTap) {
    el.classList.add("hint");
    sub = t("vote.tapToSubmit");
  } else if (!open) {
    const st = S.stage || {};
    main = st.phase === "voting" || st.phase === "closed" || st.phase === "ended" || st.phase === "reveal" ? t("vote.closedNoBallot") : t("vote.notOpenYet");
    el.classList.add("idle");
  }
  if (note) {
    el.classList.add("refused");
    sub = t("vote.refused", { why: note }) + (sub ? " " + sub : "");
  }
  el.textContent = "";
  if (main) el.appendChild(h("div", { class: "receipt-main" }, main));
  if (sub) el.appendChild(h("div", { class: "receipt-sub" }, sub));
}

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
  parts.push(t("vote.device", { id: voter.slice(0, 4) }));
  if (T.held && !T.held.revoked) parts.push(t("vote.ticketHeld", { code: fmtTicket(T.held.code) }));
  setText($("[data-foot]"), parts.join(" · "));
}

// ---- wiring ----------------------------------------------------------------

document.addEventListener("click", (e) => {
  const a = e.target.closest && e.target.closest("[data-action]");
  if (!a) return;
  if (a.dataset.action === "leave-panel") {
    panelSel = null;
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
  T.code = v;
  T.error = "";
  save(ticketStore, v);
  ensureCredential().then(claimTicket);
});

initI18n();
onLangChange(() => { builtKey = ""; renderAll(); if (S.view === "hallcode") showHallCode(); });
(function showLastKnown() {
  const last = load(lastStore, null);
  const panel = panelSel ? panelSel.panel : "";
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
if (credential) {
  startConn();
  ensureCredential();
} else {
  join(Date.now() + 60000).then((ok) => {
    if (ok && T.code && !T.held) return claimTicket();
    return null;
  }).then(() => { if (!joinRefused) startConn(); });
}

// Test hook: the pending ballots as stored (read by the browser tests).
window.__leitai = { pending: () => Object.keys(S.mine).filter((c) => S.mine[c].state === "pending").length, conn: conn };
