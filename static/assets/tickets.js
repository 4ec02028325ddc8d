// The printable ticket sheet (/e/{event}/tickets): one card per ticket with
// its QR code (the vote link with ?ticket=CODE) and the code printed for
// typing, laid out 3 × 4 to an A4 page, to cut and hand out at the door.
// It reads the tickets with the host key the control page remembered (or
// #key=… in the link).
import { t, initI18n, onLangChange } from "./i18n.js";
import { $, h, setText } from "./dom.js";
import { fmtTicket } from "./format.js";
import { errorText } from "./errors.js";
import { host, keyFromLink, eventPath } from "./api.js";

const EVENT = document.body.getAttribute("data-event") || "";
const key = keyFromLink();

initI18n(); // the language chosen on the other pages of this device
$("[data-print]").addEventListener("click", () => window.print());

const S = { ev: null, tickets: [] };

function get(path) { return host("GET", eventPath(EVENT) + path); }

function render() {
  const sheet = $("[data-sheet]");
  sheet.textContent = "";
  const panel = $("[data-panel]").value;
  const unused = $("[data-unused]").checked;
  const list = S.tickets.filter((tk) => tk.panel === panel && !tk.revoked && (!unused || !tk.claimed));
  // A judges' seat's ticket carries the seat's name; seats print in order.
  list.sort((a, b) => (a.seat || 0) - (b.seat || 0));
  setText($("[data-count]"), t("tickets.count", { n: list.length }));
  if (!list.length) {
    sheet.appendChild(h("p", { class: "tk-message" }, t("tickets.none")));
    return;
  }
  const p = (S.ev.panels || []).filter((x) => x.id === panel)[0] || { name: panel };
  list.forEach((tk) => {
    const seat = tk.seat && p.seats ? p.seats[tk.seat - 1] : "";
    sheet.appendChild(h("article", { class: "tk-card", "data-ticket": tk.code },
      h("div", { class: "tk-event" }, S.ev.title),
      seat ? h("div", { class: "tk-seat", "data-seat": String(tk.seat) }, seat) : null,
      h("div", { class: "tk-panel" }, p.name + " · " + t(seat ? "tickets.seatCard" : "tickets.card")),
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
    const wantSeats = /[?&]seats=1/.test(location.search);
    const first = (ev.panels || []).filter((p) => S.tickets.some((tk) => tk.panel === p.id && (!wantSeats || tk.seat)))[0];
    if (first) sel.value = first.id;
    sel.addEventListener("change", render);
    $("[data-unused]").addEventListener("change", render);
    render();
  }).catch((e) => setText($("[data-message]"), errorText(e, "host")));
}

// The device's language may come after the first render (its strings load
// on demand): say it all again in it.
onLangChange(() => {
  if (!key) setText($("[data-message]"), t("tickets.noKey"));
  if (!S.ev) return;
  document.title = S.ev.title + " · " + t("tickets.title");
  setText($("[data-bar-title]"), S.ev.title + " · " + t("tickets.title"));
  render();
});
