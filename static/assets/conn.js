// The live connection every page keeps: a WebSocket to /e/{event}/ws that
// reconnects with exponential backoff (0.5 s doubling to 10 s, with jitter),
// follows the message sequence numbers (a gap asks for a resync), and
// corrects the clock from the server's `now`. See docs/protocol.md.

const MIN_DELAY = 500;
const MAX_DELAY = 10000;
const ORDERED = { stage: true, event: true, reset: true, deleted: true };

export class Connection {
  // opts: event (id); query() → object of query parameters; protocols()
  // (optional) → the WebSocket subprotocols to offer, which carry a
  // secret (host key, voter credential) so that it stays out of the URL,
  // see secretProtocols; onMessage(msg);
  // onState(state) with state "connecting" | "online" | "offline" |
  // "notfound" | "forbidden"; probe() (optional) → Promise of "ok",
  // "notfound" or "forbidden", asked after a connection failed to open.
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
    if (this.state !== "notfound" && this.state !== "forbidden") this.setState("offline");
    const base = Math.min(MAX_DELAY, MIN_DELAY * Math.pow(2, this.attempt));
    this.attempt++;
    const delay = base * (0.5 + Math.random() * 0.5);
    this.timer = setTimeout(() => this.connect(), delay);
    if (!opened && this.opts.probe && (this.failures === 1 || this.failures % 5 === 0)) {
      this.opts.probe().then((res) => {
        if (this.stopped || this.state === "online") return;
        if (res === "notfound" || res === "forbidden") {
          this.setState(res);
          if (res === "forbidden") { clearTimeout(this.timer); this.timer = 0; }
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
// the screen, whose handshake fails without saying why).
export function probeEvent(event) {
  return fetch("/api/events/" + encodeURIComponent(event), { cache: "no-store" }).then((r) => {
    if (r.status === 404) return "notfound";
    return "ok";
  });
}

// showBanner wires the quiet banner of a page to a connection's state.
export function bannerFor(el, text) {
  let timer = 0;
  return (state) => {
    clearTimeout(timer);
    if (state === "offline") {
      // Flaps shorter than a second stay invisible.
      timer = setTimeout(() => { el.textContent = text(); el.hidden = false; }, 800);
    } else {
      el.hidden = true;
    }
  };
}
