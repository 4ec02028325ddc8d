// Who this phone is to the server: its voter credential (and how it joins
// with the hall code, a judge's panel key or a ticket), the panel it votes
// in, and the ticket it holds (一人一票). The vote page renders what
// changes through me.on: hallCode() when it must scan the big screen's QR
// code, ticket() when the ticket's state changed, ticketPanel(panel) when a
// ticket admits it to another panel.
import { t } from "./i18n.js";
import { request, eventPath } from "./api.js";
import { load, save } from "./storage.js";

const eventId = document.body.dataset.event;

// me: credential and voter (the phone's identity); hallCode (from the
// link); joinRefused: the server would not admit this phone: "missing" (no
// hall code) or "expired" (the code had changed before the phone got in);
// joinBusy: the server asked it to wait (many phones joining from one
// address, e.g. a hall behind one NAT); panelSel {panel, key} (a judge's,
// or a ticket's panel; null: the first panel); ticket {code, held, error,
// busy}.
export const me = {
  credential: "", voter: "", hallCode: "", joinRefused: "", joinBusy: false, panelSel: null,
  ticket: { code: "", held: null, error: "", busy: false },
  on: { hallCode: () => {}, ticket: () => {}, ticketPanel: () => {} },
};

export const panelStore = "leitai.panel." + eventId;
export const ticketStore = "leitai.ticket." + eventId;

// The phone's identity across reloads: a credential for this event that the
// server issues (an HttpOnly cookie, and a copy here because some in-app
// browsers drop cookies) and the voter id it names. It travels in a header
// or the socket's subprotocol, never in a URL. A phone that joined before
// credentials were per event holds one for every event (the plain keys).
const credStore = "leitai.credential." + eventId;
const voterStore = "leitai.voter." + eventId;
me.credential = load(credStore, "") || load("leitai.credential", "");
me.voter = load(voterStore, "") || load("leitai.voter", "");
if (typeof me.credential !== "string") me.credential = "";
if (typeof me.voter !== "string") me.voter = "";

// The hall code (现场码) comes in the link of the big screen's QR code
// (?j=…), which changes it every half minute. A new phone needs it once, to
// get its credential; a reload or reconnect never does. It is taken out of
// the address bar, so that a link shared from this page carries none.
(function readHallCode() {
  const q = new URLSearchParams(window.location.search);
  const j = q.get("j");
  if (!j) return;
  me.hallCode = j;
  q.delete("j");
  const rest = q.toString();
  try { window.history.replaceState(null, "", window.location.pathname + (rest ? "?" + rest : "")); } catch (e) { /* old browser */ }
})();

// ensureCredential asks the server for this phone's credential: the same
// one again while it is valid, else a new one, with the hall code (or the
// judge's panel key, or a ticket) as the proof. It resolves to whether the
// phone has one. Offline, the page goes on with what it has and asks again
// when it can reach the server.
export function ensureCredential() {
  const headers = { "Content-Type": "application/json" };
  if (me.credential) headers["X-Leitai-Credential"] = me.credential;
  const req = { event: eventId };
  if (me.hallCode) req.hallCode = me.hallCode;
  if (me.panelSel) {
    req.panel = me.panelSel.panel;
    if (me.panelSel.key) req.panelKey = me.panelSel.key;
  }
  if (me.ticket.code) req.ticket = true;
  return request("POST", "/voter", req, { headers: headers }).then((b) => {
    me.joinBusy = false;
    if (!b || !b.credential || !b.voter) return false;
    me.credential = b.credential;
    me.voter = b.voter;
    me.joinRefused = "";
    save(credStore, me.credential);
    save(voterStore, me.voter);
    return true;
  }, (e) => {
    if (!e.status) return !!me.credential; // offline: keep what we have
    me.joinBusy = e.status === 429 || e.status === 503;
    if (e.code === "hall_code") {
      me.joinRefused = me.hallCode ? "expired" : "missing";
      me.on.hallCode();
    }
    return false;
  });
}

// join gets a new phone its credential, asking again every few seconds
// while the server says it is busy, until the hall code would have expired.
export function join(until) {
  return ensureCredential().then((ok) => {
    if (ok || !me.joinBusy || Date.now() > until) return ok;
    return new Promise((resolve) => setTimeout(resolve, 1000 + Math.random() * 2000)).then(() => join(until));
  });
}

// A judge's link carries ?panel=...&panelKey=...; remember it for this event.
me.panelSel = load(panelStore, null);
(function readPanelFromURL() {
  const q = new URLSearchParams(window.location.search);
  const p = q.get("panel");
  if (p) {
    me.panelSel = { panel: p, key: q.get("panelKey") || "" };
    save(panelStore, me.panelSel);
  }
})();

// A ticket (一人一票) arrives as ?ticket=CODE from the QR code on it, or is
// typed. It is claimed for this phone's credential; the server binds it to
// the first phone and says which panel it admits to.
me.ticket.code = load(ticketStore, "") || "";
(function readTicketFromURL() {
  const q = new URLSearchParams(window.location.search);
  const code = q.get("ticket");
  if (!code) return;
  me.ticket.code = code;
  save(ticketStore, code);
  q.delete("ticket");
  const rest = q.toString();
  try { window.history.replaceState(null, "", window.location.pathname + (rest ? "?" + rest : "")); } catch (e) { /* old browser */ }
})();

// claimTicket claims me.ticket.code; on success the phone votes in the ticket's
// panel from then on.
export function claimTicket() {
  if (!me.ticket.code || !me.credential) return Promise.resolve();
  me.ticket.busy = true;
  me.on.ticket();
  const path = eventPath(eventId) + "/tickets/" + encodeURIComponent(me.ticket.code) + "/claim";
  return request("POST", path, undefined, { headers: { "X-Leitai-Credential": me.credential } }).then((tk) => {
    me.ticket.busy = false;
    me.ticket.held = tk;
    me.ticket.error = "";
    me.on.ticketPanel(tk.panel);
    me.on.ticket();
  }, (e) => {
    me.ticket.busy = false;
    if (e.status) {
      me.ticket.held = null;
      me.ticket.error = ticketErrorText(e.code);
      if (e.code === "unavailable") setTimeout(claimTicket, 2000);
      me.on.ticket();
      return;
    }
    // No answer (hall Wi-Fi): say so and try again with the same code.
    me.ticket.error = t("vote.ticketRetry");
    me.on.ticket();
    setTimeout(() => { if (!me.ticket.held && !me.ticket.busy) claimTicket(); }, 3000);
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
export function mineTickets() {
  if (!me.credential) return Promise.resolve();
  return request("GET", eventPath(eventId) + "/tickets/mine", undefined, { headers: { "X-Leitai-Credential": me.credential } })
    .then((b) => b, (e) => { if (e.status) return null; throw e; }).then((b) => {
    const list = (b && b.tickets) || [];
    const want = me.panelSel ? me.panelSel.panel : "";
    const held = list.filter((x) => !x.revoked && (!want || x.panel === want))[0] || list.filter((x) => !x.revoked)[0];
    if (held) {
      me.ticket.held = held;
      me.ticket.code = held.code;
      save(ticketStore, held.code);
      me.on.ticketPanel(held.panel);
    } else if (list.length) {
      me.ticket.error = t("vote.ticketNeeded");
    }
    me.on.ticket();
  }, () => {});
}
