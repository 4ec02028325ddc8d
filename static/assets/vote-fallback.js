// The vote page without its WebSocket. When the phone's network blocks
// WebSockets (the connection's state "fallback", see conn.js), the page
// reads the event and the stage every POLL_EVERY ms and casts its ballots
// over HTTP (POST /api/events/{event}/ballots) with the ids they already
// have, whose answers count as the socket's acks; the socket keeps trying
// and its first snapshot ends the fallback.
import { request, eventPath } from "./api.js";
import { newerStage } from "./conn.js";
import { me } from "./vote-join.js";

const POLL_EVERY = 3000;
let pollTimer = 0;
let polledBallots = false; // this fallback has merged the server's list

// poll reads the event and the stage (and once the voter's ballots) while
// conn is in the fallback, into the vote page's state S; merge(list) takes
// the server's ballots, resend() sends the pending ones, show() renders.
export function poll(S, conn, eventId, merge, resend, show) {
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
    S.panel = me.panelSel ? me.panelSel.panel : (ev.panels && ev.panels[0] ? ev.panels[0].id : "");
    if (mine && Array.isArray(mine.ballots)) {
      merge(mine.ballots);
      polledBallots = true;
    }
    show();
    resend();
  }, (e) => {
    if (conn.live) return;
    if (e.status === 404) conn.setState("notfound");
    else if (!e.status) conn.setState("offline"); // HTTP fails too: plainly offline
  }).then(() => {
    if (conn.state === "fallback" && !conn.live) pollTimer = setTimeout(() => poll(S, conn, eventId, merge, resend, show), POLL_EVERY);
  });
}

// post casts ballot e of the event S.ev over HTTP and hands the answer to
// ack as the socket's ack would be. A request that gets no answer leaves
// the ballot pending: the next poll, or the socket, sends it again.
const posting = {}; // ballot id → a request on its way
export function post(S, e, ack) {
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
    ack({ type: "ack", id: e.id, ok: true, receipt: receipt });
  }, (err) => {
    delete posting[e.id];
    if (err.status) ack({ type: "ack", id: e.id, ok: false, error: { code: err.code || "unavailable", message: err.message } });
  });
}
