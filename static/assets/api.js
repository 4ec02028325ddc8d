// The HTTP API as the pages call it (docs/protocol.md): one place that sends
// requests, turns a refusal's body into an Error with its code and status
// (errors.js says it in the page's language), and keeps the host key. The
// key comes once in a link's fragment (#key=…), which browsers never send,
// and is then kept on the device and taken out of the address bar.
import { load, save } from "./storage.js";

const KEY_STORE = "leitai.hostKey"; // one for the control page and the host's sheets

let key = load(KEY_STORE, "") || "";
if (typeof key !== "string") key = "";

// takeFragment returns the value of name in the address's fragment
// (#name=…), removing the fragment from the address bar, or "" if it has
// none. A secret in a fragment reaches no server log and no Referer.
export function takeFragment(name) {
  const m = new RegExp("(?:^#|[#&])" + name + "=([^&]+)").exec(window.location.hash);
  if (!m) return "";
  let v = "";
  try { v = decodeURIComponent(m[1]); } catch (e) { return ""; }
  try { window.history.replaceState(null, "", window.location.pathname + window.location.search); } catch (e) { /* old browser */ }
  return v;
}

// hostKey is the host key this device holds ("" for none). keyFromLink
// takes one from the link (#key=…) first, for the pages the host opens.
export function hostKey() { return key; }

export function keyFromLink() {
  const k = takeFragment("key");
  if (k) setHostKey(k);
  return key;
}

// setHostKey keeps a new host key ("" forgets it).
export function setHostKey(k) {
  key = k || "";
  save(KEY_STORE, key || null);
}

// ApiError is a refusal: code ("invalid", "not_found", … as the server
// says it, "" when it said nothing we could read), status (the HTTP
// status) and the server's message. A request that got no answer rejects
// with the browser's TypeError instead, which has neither.
export function apiError(status, statusText, body) {
  const eb = (body && body.error) || {};
  const err = new Error(eb.message || status + " " + (statusText || ""));
  err.code = eb.code || "";
  err.status = status;
  return err;
}

// request sends method to url (under /api) with the JSON payload if any
// and resolves to the answer's JSON (null when empty). opts.headers adds
// headers; opts.host sends the host key (when the device holds one: an
// empty one would count as a wrong key); opts.raw resolves to the
// Response itself once it is known to be no refusal.
export function request(method, url, payload, opts) {
  const o = opts || {};
  const headers = Object.assign({}, o.headers || {});
  if (o.host && key) headers.Authorization = "Bearer " + key;
  const init = { method: method, headers: headers, cache: "no-store", credentials: "same-origin" };
  if (payload !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(payload);
  }
  return fetch("/api" + url, init).then((res) => {
    if (res.ok && o.raw) return res;
    return res.text().then((text) => {
      let data = null;
      try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
      if (!res.ok) throw apiError(res.status, res.statusText, data);
      return data;
    });
  });
}

// host calls the host's API with the host key.
export function host(method, url, payload) {
  return request(method, url, payload, { host: true });
}

// eventPath is the API path of an event.
export function eventPath(event) { return "/events/" + encodeURIComponent(event); }

// zoneQuery names the device's time zone for exports and the results
// sheet, which print local times.
export function zoneQuery() {
  try {
    const z = Intl.DateTimeFormat().resolvedOptions().timeZone;
    return z ? "tz=" + encodeURIComponent(z) : "";
  } catch (e) {
    return "";
  }
}

// fileNameOf reads the name the server gives a download: filename*= (RFC
// 2231, for names that are not ASCII) or filename=, quoted or not (Go's
// mime.FormatMediaType writes whichever the name needs).
function fileNameOf(res, fallback) {
  const cd = res.headers.get("Content-Disposition") || "";
  const star = /filename\*=UTF-8''([^;]+)/i.exec(cd);
  if (star) { try { return decodeURIComponent(star[1]); } catch (e) { /* plain name below */ } }
  const plain = /filename=(?:"((?:[^"\\]|\\.)+)"|([^;\s]+))/i.exec(cd);
  return plain ? (plain[1] ? plain[1].replace(/\\(.)/g, "$1") : plain[2]) : fallback;
}

// download fetches an export with the host key in a header (never in the
// URL) and saves it under the server's file name (fallback if none).
export function download(url, fallback) {
  const q = zoneQuery();
  const full = url + (q ? (url.indexOf("?") < 0 ? "?" : "&") + q : "");
  return request("GET", full, undefined, { host: true, raw: true }).then((res) => res.blob().then((blob) => {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = fileNameOf(res, fallback);
    document.body.appendChild(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }));
}
