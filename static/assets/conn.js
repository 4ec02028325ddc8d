// The live connection every page keeps: a WebSocket to /e/{event}/ws that
// reconnects with exponential backoff (0.5 s doubling to 10 s, with jitter),
// follows the message sequence numbers (a gap asks for a resync), and
// corrects the clock from the server's `now`; and the one message handler
// (live) that applies the frames to a page's state before the page
// renders. A page whose socket cannot open while the server answers HTTP
// (a network that blocks WebSockets) may go on without it: opts.fallbackAfter
// failed opens and a probe that reaches the server put the connection in
// the state "fallback", in which the page polls and posts over HTTP (the
// vote page, vote.js) while the socket keeps trying. See docs/protocol.md.
import { request, eventPath } from "./api.js";

const MIN_DELAY = 500;
const MAX_DELAY = 10000;
const ORDERED = { stage: true, event: true, reset: true, deleted: true };

export class Connection {
  // opts: event (id); query() → object of query parameters; protocols()
  // (optional) → the WebSocket subprotocols to offer, which carry a
  // secret (host key, voter credential) so that it stays out of the URL,
  // see secretProtocols; onMessage(msg);
  // onState(state) with state "connecting" | "online" | "offline" |
  // "notfound" | "forbidden" | "fallback"; probe() (optional) → Promise of
  // "ok", "notfound" or "forbidden", asked after a connection failed to
  // open; fallbackAfter (optional): after this many failed opens in a row
  // and a probe that answered "ok", the state is "fallback" (the page
  // works over HTTP) rather than "offline", until the socket opens or the
  // page reports that HTTP fails too (setState("offline")).
  constructor(opts) {
    this.opts = opts;
    this.ws = null;
    this.seq = -1;
    this.offset = 0;
    this.attempt = 0;
    this.failures = 0;
    this.timer = 0;
    this.state = "";
    this.live = false; // a snapshot arrived on the current socket
    this.resyncing = false;
    this.stopped = false;
    const kick = () => this.kick();
    window.addEventListener("online", kick);
    window.addEventListener("pageshow", kick);
    document.addEventListener("visibilitychange", () => { if (!document.hidden) kick(); });
  }

  // now is the server's clock, as well as this page knows it.
  now() { return Date.now() + this.offset; }

  start() {
    this.stopped = false;
    this.setState(this.ws ? this.state : "connecting");
    this.connect();
  }

  // restart drops the socket (e.g. after the host key changed) and
  // connects again at once.
  restart() {
    this.attempt = 0;
    this.failures = 0;
    const ws = this.ws;
    this.ws = null;
    this.live = false;
    if (ws) { try { ws.close(1000); } catch (e) { /* already closed */ } }
    this.start();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    this.live = false;
    if (ws) { try { ws.close(1000); } catch (e) { /* already closed */ } }
  }

  // kick reconnects now if the page is waiting to reconnect (the phone
  // woke up, the network came back).
  kick() {
    if (this.stopped || this.ws || !this.timer) return;
    if (this.state === "notfound" || this.state === "forbidden") return;
    this.connect();
  }

  url() {
    const loc = window.location;
    const q = this.opts.query ? this.opts.query() : {};
    const parts = [];
    for (const k in q) if (q[k] != null && q[k] !== "") parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(q[k]));
    return (loc.protocol === "https:" ? "wss://" : "ws://") + loc.host + "/e/" + encodeURIComponent(this.opts.event) +
      "/ws" + (parts.length ? "?" + parts.join("&") : "");
  }

  connect() {
    clearTimeout(this.timer);
    this.timer = 0;
    if (this.stopped) return;
    let ws;
    try {
      const protocols = this.opts.protocols ? this.opts.protocols() : null;
      ws = protocols ? new WebSocket(this.url(), protocols) : new WebSocket(this.url());
    } catch (e) {
      this.closed(null, false);
      return;
    }
    let opened = false;
    this.ws = ws;
    this.live = false;
    ws.onopen = () => { opened = true; };
    ws.onmessage = (e) => { if (this.ws === ws) this.receive(e.data); };
    ws.onerror = () => { /* onclose follows */ };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.live = false;
      this.closed(ws, opened);
    };
  }

  closed(ws, opened) {
    if (this.stopped) return;
    if (opened) this.failures = 0;
    else this.failures++;
    const fallback = !opened && this.opts.fallbackAfter > 0 && this.failures >= this.opts.fallbackAfter;
    if (this.state !== "notfound" && this.state !== "forbidden" && !(fallback && this.state === "fallback")) this.setState("offline");
    const base = Math.min(MAX_DELAY, MIN_DELAY * Math.pow(2, this.attempt));
    this.attempt++;
    const delay = base * (0.5 + Math.random() * 0.5);
    this.timer = setTimeout(() => this.connect(), delay);
    if (!opened && this.opts.probe && (this.failures === 1 || this.failures % 5 === 0 || (fallback && this.state === "offline"))) {
      this.opts.probe().then((res) => {
        if (this.stopped || this.state === "online" || this.live) return;
        if (res === "notfound" || res === "forbidden") {
          this.setState(res);
          if (res === "forbidden") { clearTimeout(this.timer); this.timer = 0; }
        } else if (fallback) {
          this.setState("fallback"); // the server answers, its socket does not
        } else if (this.state === "notfound" || this.state === "forbidden") {
          this.setState("offline");
        }
      }, () => { /* offline: keep trying */ });
    }
  }

  receive(data) {
    let m;
    try { m = JSON.parse(data); } catch (e) { return; }
    if (!m || typeof m.type !== "string") return;
    if (typeof m.now === "number") this.offset = m.now - Date.now();
    if (m.type === "snapshot") {
      this.seq = m.seq;
      this.resyncing = false;
      this.attempt = 0;
      this.failures = 0;
      const first = !this.live;
      this.live = true;
      m.first = first; // the first snapshot of this socket: resend what is pending
      this.opts.onMessage(m);
      this.setState("online");
      return;
    }
    if (!this.live) return;
    if (ORDERED[m.type]) {
      if (typeof m.seq === "number") {
        if (m.seq <= this.seq) return; // stale
        if (m.seq > this.seq + 1) { this.resync(); return; } // missed one
        this.seq = m.seq;
      }
    } else if (m.type === "standings" && typeof m.seq === "number") {
      if (m.seq > this.seq) this.resync(); // an ordered message went missing; apply the full state anyway
    }
    this.opts.onMessage(m);
  }

  resync() {
    if (this.resyncing) return;
    this.resyncing = true;
    if (!this.send({ type: "resync" }, true)) this.resyncing = false;
  }

  // send writes a message when the socket is up; it reports whether it did.
  send(msg, evenBeforeSnapshot) {
    const ws = this.ws;
    if (!ws || ws.readyState !== 1 || (!this.live && !evenBeforeSnapshot)) return false;
    try {
      ws.send(JSON.stringify(msg));
      return true;
    } catch (e) {
      return false;
    }
  }

  setState(s) {
    if (this.state === s) return;
    this.state = s;
    if (this.opts.onState) this.opts.onState(s);
  }
}

// secretProtocols returns the subprotocols that carry a secret on the
// WebSocket handshake, where a page cannot set headers and a URL would end
// up in proxies' logs: the server selects "leitai" and reads the other.
// kind is "key" (the host key, any text: sent as base64url) or "cred" (a
// voter credential, URL-safe already).
export function secretProtocols(kind, value) {
  if (!value) return null;
  let v = value;
  if (kind === "key") {
    const bytes = new TextEncoder().encode(value);
    let bin = "";
    for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    v = btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  return ["leitai", "leitai-" + kind + "." + v];
}

// probeEvent asks the API whether the event exists (for the vote page and
// the screen, whose handshake fails without saying why): "notfound" or
// "ok"; it rejects when the server cannot be reached.
export function probeEvent(event) {
  return request("GET", eventPath(event)).then(() => "ok", (e) => {
    if (e.status === 404) return "notfound";
    if (e.status) return "ok";
    throw e;
  });
}

// liveState is the part of a page's state that the socket keeps: the
// event, the stage, turnout, the standings (hosts, screens) or the ranking
// (phones), the phone's panel, and two sequence numbers: standingsSeq, of
// the standings in hand, and revealSeq, of the last snapshot or stage
// frame that changed the phase or the places revealed (whose standings
// follow with the same seq). A page adds its own fields.
export function liveState(own) {
  return Object.assign({
    ev: null, stage: null, turnout: null, standings: null, ranking: null, panel: "",
    standingsSeq: 0, revealSeq: 0,
  }, own || {});
}

// newerStage says whether st may replace held: a stage only moves forward
// (its version only goes up), so one older than what the page holds — a
// frame that was overtaken by a command's answer — is ignored.
export function newerStage(held, st) {
  return !!st && (!held || typeof held.version !== "number" || st.version >= held.version);
}

// applyFrame applies a message to S (see liveState) and returns the name
// of the hook to call: the message's type, or "" when it changed nothing.
// adopt(event) returns the event to keep for the one the socket sent.
export function applyFrame(S, m, adopt) {
  switch (m.type) {
    case "snapshot":
      // Replaces everything the page knew, whatever its stage's version:
      // a deleted and re-created event starts again from version 1.
      S.ev = adopt(m.event);
      S.stage = m.stage;
      S.turnout = m.turnout || null;
      // What the audience may see is the server's to decide
      // (voting.ViewOf): no standings in a frame means none to show.
      S.standings = m.standings || null;
      S.ranking = m.ranking || null;
      if (typeof m.panel === "string") S.panel = m.panel;
      S.standingsSeq = S.revealSeq = m.seq;
      return "snapshot";
    case "stage": {
      if (!newerStage(S.stage, m.stage)) return "";
      const prev = S.stage;
      if (!prev || prev.phase !== m.stage.phase || prev.revealed !== m.stage.revealed) S.revealSeq = m.seq;
      S.stage = m.stage;
      return "stage";
    }
    case "event":
      S.ev = adopt(m.event);
      return "event";
    case "standings":
      S.turnout = m.turnout || S.turnout;
      // Screens get the standings and phones the ranking only while the
      // audience may see them (voting.ViewOf); hosts always get them.
      S.ranking = m.ranking || null;
      S.standings = m.standings || null;
      if (m.standings) S.standingsSeq = m.seq;
      return "standings";
    case "reset":
    case "deleted":
    case "ack":
    case "error":
      return m.type;
  }
  return "";
}

// live connects a page to its event: one Connection (opts as Connection's,
// without onMessage) whose frames applyFrame applies to S, after which the
// page's hook of that name runs with the message: opts.on.snapshot,
// .stage, .event, .standings, .reset, .deleted (the connection has
// stopped), .ack and .error. opts.adopt (optional) maps the socket's
// event to the one to keep.
export function live(S, opts) {
  const on = opts.on || {};
  const adopt = opts.adopt || ((ev) => ev);
  const conn = new Connection(Object.assign({}, opts, {
    onMessage: (m) => {
      const hook = applyFrame(S, m, adopt);
      if (hook === "deleted") conn.stop();
      if (hook && on[hook]) on[hook](m);
    },
  }));
  return conn;
}

// bannerFor wires the quiet banner of a page to a connection's state:
// text(state) says "offline" (or "fallback") in the page's language.
export function bannerFor(el, text) {
  let timer = 0;
  return (state) => {
    clearTimeout(timer);
    if (state === "offline" || state === "fallback") {
      // Flaps shorter than a second stay invisible.
      timer = setTimeout(() => { el.textContent = text(state); el.hidden = false; }, 800);
    } else {
      el.hidden = true;
    }
  };
}
