// The printable ticket sheet (/e/{event}/tickets): one card per ticket with
// its QR code (the vote link with ?ticket=CODE) and the code printed for
// typing, laid out 3 × 4 to an A4 page, to cut and hand out at the door.
// It reads the tickets with the host key the control page remembered (or
// #key=… in the link).
import { $, h, load, save, setText } from "./format.js";

const KEY_STORE = "leitai.hostKey"; // shared with the control page
const EVENT = document.body.getAttribute("data-event") || "";
const zh = (navigator.language || "zh").toLowerCase().indexOf("zh") === 0 || load("leitai.lang", "zh") === "zh";
const TEXT = zh ? {
  title: "入场票", panel: "评审组", unusedOnly: "只打印未使用的", print: "打印", count: "{n} 张",
  loading: "正在载入入场票…", none: "没有可打印的入场票：请先在控制台生成。", noKey: "需要主持密钥：请从控制台打开本页。",
  card: "一人一票 · 扫码评分", rule: "本票仅限一部手机使用，请勿转让", code: "票面代码",
} : {
  title: "Tickets", panel: "Panel", unusedOnly: "Unused only", print: "Print", count: "{n} tickets",
  loading: "Loading tickets…", none: "No tickets to print: issue some on the control page first.", noKey: "The host key is needed: open this page from the control page.",
  card: "One person, one vote · scan to score", rule: "Valid on one phone only; do not pass it on", code: "Code",
};
const tr = (k, v) => TEXT[k].replace(/\{(\w+)\}/g, (_, n) => String(v && v[n] != null ? v[n] : ""));

let key = load(KEY_STORE, "") || "";
const m = /(?:^#|[#&])key=([^&]+)/.exec(window.location.hash);
if (m) {
  key = decodeURIComponent(m[1]);
  save(KEY_STORE, key);
  try { window.history.replaceState(null, "", window.location.pathname + window.location.search); } catch (e) { /* old browser */ }
}

document.querySelectorAll("[data-t]").forEach((el) => setText(el, TEXT[el.dataset.t]));
setText($("[data-print]"), TEXT.print);
setText($("[data-message]"), TEXT.loading);
$("[data-print]").addEventListener("click", () => window.print());

const S = { ev: null, tickets: [] };

function get(path) {
  return fetch("/api/events/" + encodeURIComponent(EVENT) + path, { headers: { Authorization: "Bearer " + key }, cache: "no-store" })
    .then((r) => r.json().then((b) => {
      if (!r.ok) throw new Error((b && b.error && b.error.message) || r.statusText);
      return b;
    }));
}

function fmtCode(c) { return c.slice(0, 5) + "-" + c.slice(5); }

function render() {
  const sheet = $("[data-sheet]");
  sheet.textContent = "";
  const panel = $("[data-panel]").value;
  const unused = $("[data-unused]").checked;
  const list = S.tickets.filter((t) => t.panel === panel && !t.revoked && (!unused || !t.claimed));
  setText($("[data-count]"), tr("count", { n: list.length }));
  if (!list.length) {
    sheet.appendChild(h("p", { class: "tk-message" }, TEXT.none));
    return;
  }
  const p = (S.ev.panels || []).filter((x) => x.id === panel)[0] || { name: panel };
  list.forEach((t) => {
    sheet.appendChild(h("article", { class: "tk-card", "data-ticket": t.code },
      h("div", { class: "tk-event" }, S.ev.title),
      h("div", { class: "tk-panel" }, p.name + " · " + TEXT.card),
      h("img", { class: "tk-qr", alt: fmtCode(t.code), src: "/e/" + encodeURIComponent(EVENT) + "/qr.svg?ticket=" + encodeURIComponent(t.code) }),
      h("div", { class: "tk-code-label" }, TEXT.code),
      h("div", { class: "tk-code" }, fmtCode(t.code)),
      h("div", { class: "tk-rule" }, TEXT.rule)));
  });
}

if (!key) {
  setText($("[data-message]"), TEXT.noKey);
} else {
  Promise.all([get(""), get("/tickets")]).then(([ev, b]) => {
    S.ev = ev;
    S.tickets = b.tickets || [];
    document.title = ev.title + " · " + TEXT.title;
    setText($("[data-bar-title]"), ev.title + " · " + TEXT.title);
    const sel = $("[data-panel]");
    (ev.panels || []).forEach((p) => sel.appendChild(h("option", { value: p.id }, p.name)));
    const first = (ev.panels || []).filter((p) => S.tickets.some((t) => t.panel === p.id))[0];
    if (first) sel.value = first.id;
    sel.addEventListener("change", render);
    $("[data-unused]").addEventListener("change", render);
    render();
  }).catch((e) => setText($("[data-message]"), e.message));
}
