// The printable ticket sheet (/e/{event}/tickets): one card per ticket with
// its QR code (the vote link with ?ticket=CODE) and the code printed for
// typing, laid out 3 × 4 to an A4 page, to cut and hand out at the door.
// It reads the tickets with the host key the control page remembered (or
// #key=… in the link).
import { t, initI18n } from "./i18n.js";
import { $, h, load, save, setText, fmtTicket } from "./format.js";
import { errorText } from "./errors.js";

const KEY_STORE = "leitai.hostKey"; // shared with the control page
const EVENT = document.body.getAttribute("data-event") || "";

let key = load(KEY_STORE, "") || "";
const m = /(?:^#|[#&])key=([^&]+)/.exec(window.location.hash);
if (m) {
  key = decodeURIComponent(m[1]);
  save(KEY_STORE, key);
  try { window.history.replaceState(null, "", window.location.pathname + window.location.search); } catch (e) { /* old browser */ }
}

initI18n(); // the language chosen on the other pages of this device
$("[data-print]").addEventListener("click", () => window.print());

const S = { ev: null, tickets: [] };

function get(path) {
  return fetch("/api/events/" + encodeURIComponent(EVENT) + path, { headers: { Authorization: "Bearer " + key }, cache: "no-store" })
    .then((r) => r.json().then((b) => {
      if (!r.ok) {
        const eb = (b && b.error) || {};
        throw Object.assign(new Error(eb.message || r.statusText), { code: eb.code || "", status: r.status });
      }
      return b;
    }));
}

function render() {
  const sheet = $("[data-sheet]");
  sheet.textContent = "";
  const panel = $("[data-panel]").value;
  const unused = $("[data-unused]").checked;
  const list = S.tickets.filter((tk) => tk.panel === panel && !tk.revoked && (!unused || !tk.claimed));
  setText($("[data-count]"), t("tickets.count", { n: list.length }));
  if (!list.length) {
    sheet.appendChild(h("p", { class: "tk-message" }, t("tickets.none")));
    return;
  }
  const p = (S.ev.panels || []).filter((x) => x.id === panel)[0] || { name: panel };
  list.forEach((tk) => {
    sheet.appendChild(h("article", { class: "tk-card", "data-ticket": tk.code },
      h("div", { class: "tk-event" }, S.ev.title),
      h("div", { class: "tk-panel" }, p.name + " · " + t("tickets.card")),
      h("img", { class: "tk-qr", alt: fmtTicket(tk.code), src: "/e/" + encodeURIComponent(EVENT) + "/qr.svg?ticket=" + encodeURIComponent(tk.code) }),
      h("div", { class: "tk-code-label" }, t("tickets.code")),
      h("div", { class: "tk-code" }, fmtTicket(tk.code)),
      h("div", { class: "tk-rule" }, t("tickets.rule"))));
  });
}

if (!key) {
  setText($("[data-message]"), t("tickets.noKey"));
} else {
  Promise.all([get(""), get("/tickets")]).then(([ev, b]) => {
    S.ev = ev;
    S.tickets = b.tickets || [];
    document.title = ev.title + " · " + t("tickets.title");
    setText($("[data-bar-title]"), ev.title + " · " + t("tickets.title"));
    const sel = $("[data-panel]");
    (ev.panels || []).forEach((p) => sel.appendChild(h("option", { value: p.id }, p.name)));
    const first = (ev.panels || []).filter((p) => S.tickets.some((tk) => tk.panel === p.id))[0];
    if (first) sel.value = first.id;
    sel.addEventListener("change", render);
    $("[data-unused]").addEventListener("change", render);
    render();
  }).catch((e) => setText($("[data-message]"), errorText(e, "host")));
}
