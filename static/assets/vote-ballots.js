// The ballots of this phone: what it has cast (kept on the device until the
// server acknowledges it, resent with the same id after a dropped
// connection or a reload, so that each counts exactly once), casting and
// acknowledgements, and the ballot cards with their score inputs and
// receipts. A ballot goes over the page's WebSocket or, while the phone's
// network blocks WebSockets (the connection's state "fallback"), over
// HTTP (POST /api/events/{event}/ballots) with the same id; the server
// answers both the same way. The score a receipt shows is the server's
// (for criteria, their weighted average): the page never weighs scores
// itself. The vote page gives it its state, connection and hooks once
// (initBallots).
import { t } from "./i18n.js";
import { request, eventPath } from "./api.js";
import { $, h, setText } from "./dom.js";
import { uuid } from "./uuid.js";
import { fmtPoints } from "./format.js";
import { contestantIndex } from "./event.js";
import { errorText } from "./errors.js";
import { me } from "./vote-join.js";
import { isShort, shortInput, fineInput } from "./vote-input.js";

let S = null; // the vote page's state: S.mine (contestant → ballot entry), S.notes, S.drafts
let conn = null;
// page: persist() keeps S.mine; ticketNeeded(); renderTicket().
let page = null;

export function initBallots(state, connection, hooks) {
  S = state;
  conn = connection;
  page = hooks;
}

// rebuildCards makes the next render build the cards anew (the language
// changed).
export function rebuildCards() { builtKey = ""; }

// mergeServerBallots takes the server's list of this voter's live ballots
// as the truth, keeping the ballots still waiting for an answer.
export function mergeServerBallots(list) {
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
      next[c] = { id: b.id, contestant: c, score: e.score, scores: e.scores, state: "ok", counted: b.counted };
    } else {
      next[c] = e;
    }
  });
  Object.keys(server).forEach((c) => {
    if (next[c]) return;
    const b = server[c];
    next[c] = { id: b.id, contestant: c, score: b.score, scores: b.scores, state: "ok", counted: b.counted, code: codes[b.id] };
  });
  S.mine = next;
  page.persist();
}

function ballotMessage(e) {
  const m = { type: "ballot", id: e.id, contestant: e.contestant };
  if (e.scores) m.scores = e.scores;
  else m.score = e.score;
  return m;
}

// sendBallot sends a ballot the way the connection allows: on the socket,
// or over HTTP in the fallback. It reports whether it went out.
function sendBallot(e) {
  if (conn.state === "fallback") {
    postBallot(e);
    return true;
  }
  return conn.send(ballotMessage(e));
}

// postBallot casts a ballot over HTTP and treats the answer as the
// socket's ack. A request that gets no answer leaves the ballot pending:
// the next poll of the fallback, or the socket, sends it again, same id.
const posting = {}; // ballot id → a request on its way
function postBallot(e) {
  if (posting[e.id]) return;
  posting[e.id] = true;
  const body = { id: e.id, contestant: e.contestant };
  if (me.credential) body.credential = me.credential;
  if (me.panelSel) {
    body.panel = me.panelSel.panel;
    if (me.panelSel.key) body.panelKey = me.panelSel.key;
  }
  if (e.scores) body.scores = e.scores;
  else body.score = e.score;
  request("POST", eventPath(S.ev.id) + "/ballots", body).then((receipt) => {
    delete posting[e.id];
    onAck({ type: "ack", id: e.id, ok: true, receipt: receipt });
  }, (err) => {
    delete posting[e.id];
    if (!err.status) return; // no answer: still pending
    onAck({ type: "ack", id: e.id, ok: false, error: { code: err.code || "unavailable", message: err.message } });
  });
}

export function resendPending() {
  Object.keys(S.mine).forEach((c) => {
    const e = S.mine[c];
    if (e.state === "pending") sendBallot(e);
  });
}

function findByID(id) {
  const cs = Object.keys(S.mine);
  for (let i = 0; i < cs.length; i++) if (S.mine[cs[i]].id === id) return S.mine[cs[i]];
  return null;
}

export function onAck(m) {
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
      setTimeout(() => { if (S.mine[c] === e && e.state === "pending") sendBallot(e); }, 1500 + Math.random() * 1500);
      return;
    }
    S.notes[c] = errorText(err, "voter");
    if (err.code === "forbidden" && page.ticketNeeded()) {
      // No ticket, or it was revoked: ask for one.
      S.notes[c] = t("vote.ticketNeeded");
      me.ticket.error = me.ticket.held ? t("vote.ticketTaken") : t("vote.ticketNeeded"); // revoked, or never held one
      me.ticket.held = null;
      page.renderTicket();
    }
    if (e.prev) S.mine[c] = e.prev;
    else delete S.mine[c];
    delete S.drafts[c];
  }
  page.persist();
  renderBallots();
}


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
    if (cur.state === "pending") sendBallot(cur);
    return;
  }
  const prev = cur && cur.state === "ok" ? cur : (cur && cur.prev) || null;
  const e = { id: uuid(), contestant: c, state: "pending", prev: prev ? { id: prev.id, contestant: c, score: prev.score, scores: prev.scores, state: "ok", counted: prev.counted } : null };
  if (v.scores) e.scores = v.scores;
  else e.score = v.score;
  S.mine[c] = e;
  delete S.notes[c];
  page.persist();
  sendBallot(e);
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

export function votingOpenFor(c) {
  const st = S.stage;
  if (!st || st.phase !== "voting" || !S.ev) return false;
  if (st.endsAt && conn.now() >= st.endsAt) return false;
  return S.ev.votingScope === "all" || st.current === c;
}

export function scopeAll() { return S.ev && S.ev.votingScope === "all"; }

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

export function renderBallots() {
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
  // The weights as shares, to label the inputs; the weighted score itself
  // is the server's, shown on the receipt.
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

function renderReceipt(el, c, open) {
  const e = S.mine[c];
  const note = S.notes[c];
  el.className = "receipt";
  let main = "";
  let sub = "";
  if (e && e.state === "pending") {
    el.classList.add("pending");
    // Criteria are sent as given; what they count for, the receipt says.
    const score = e.scores ? criteria().map((x) => fmtPoints(e.scores[x.id])).join(" / ") : fmtPoints(e.score);
    main = conn.state === "online" || conn.state === "fallback" ? t("vote.sending", { score: score }) : t("vote.queued", { score: score });
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
