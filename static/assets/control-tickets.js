// Tickets and security (入场票与安全): issuing, counting and revoking
// tickets, the audit log and the audit chain's heads, and changing the
// host key.
import { t } from "./i18n.js";
import { $, h, setText } from "./dom.js";
import { load, save } from "./storage.js";
import { contestantIndex } from "./event.js";
import { setHostKey } from "./api.js";
import { S, page, api, evPath, toast, showError, confirmBox, eventId } from "./control-page.js";

// When voting closes (for each contestant) and when the event ends, the
// page notes the head of the audit chain: the entries so far and the last
// one's hash. Written down or photographed, it anchors the log: `leitai
// audit verify --head N:HASH` fails for a log edited afterwards.
const HEADS_STORE = "leitai.auditHeads." + eventId;
let heads = load(HEADS_STORE, []) || [];
let headVersion = 0;
export function noteAuditHead(st) {
  if (!st || (st.phase !== "closed" && st.phase !== "ended") || st.version <= headVersion) return;
  headVersion = st.version;
  api("GET", evPath() + "/audit/head").then((hd) => {
    const c = st.current && S.ev && contestantIndex(S.ev)[st.current];
    const label = st.phase === "ended" ? t("control.auditHeadEnd") : t("control.auditHeadClosed", { name: c ? c.c.name : "" });
    heads = heads.filter((x) => x.v !== st.version).concat([{ v: st.version, label: label, head: hd.head }]).slice(-200);
    save(HEADS_STORE, heads);
    renderAuditHeads();
  }).catch(() => { headVersion = 0; });
}

export function renderAuditHeads() {
  const list = $("[data-audit-heads]");
  $("[data-audit-heads-box]").hidden = !heads.length;
  list.textContent = "";
  heads.slice().reverse().forEach((x) => list.appendChild(h("li", null, h("span", null, x.label + " "), h("code", null, x.head))));
}

export function renderTicketPanels() {
  const sel = $("[data-issue-panel]");
  const keep = sel.value;
  sel.textContent = "";
  (S.ev.panels || []).forEach((p) => sel.appendChild(h("option", { value: p.id }, p.name)));
  if (keep) sel.value = keep;
  else {
    const tp = (S.ev.panels || []).filter((p) => p.tickets)[0];
    if (tp) sel.value = tp.id;
  }
}

export function loadTickets() {
  if (!S.exists) return;
  api("GET", evPath() + "/tickets").then((b) => {
    const by = {};
    (b.tickets || []).forEach((tk) => {
      const c = by[tk.panel] || (by[tk.panel] = { issued: 0, claimed: 0, revoked: 0 });
      c.issued++;
      if (tk.claimed) c.claimed++;
      if (tk.revoked) c.revoked++;
    });
    const parts = (S.ev.panels || []).filter((p) => by[p.id]).map((p) => t("control.ticketsSummary", { panel: p.name, issued: by[p.id].issued, claimed: by[p.id].claimed, revoked: by[p.id].revoked }));
    setText($("[data-tickets-summary]"), parts.length ? parts.join("；") : t("control.ticketsNone"));
  }).catch(() => {});
}

$("[data-issue-form]").addEventListener("submit", (e) => {
  e.preventDefault();
  const n = Number($("[data-issue-count]").value);
  api("POST", evPath() + "/tickets", { panel: $("[data-issue-panel]").value, count: n }).then((b) => {
    toast(t("control.issued", { n: (b.tickets || []).length }), "ok");
    loadTickets();
  }).catch(showError);
});

$("[data-revoke-form]").addEventListener("submit", (e) => {
  e.preventDefault();
  const code = $("[data-revoke-code]").value.trim();
  if (!code) return;
  confirmBox(t("control.revokeConfirm", { code: code })).then((ok) => {
    if (!ok) return;
    api("POST", evPath() + "/tickets/" + encodeURIComponent(code) + "/revoke").then((tk) => {
      toast(t("control.revoked", { code: tk.code }), "ok");
      $("[data-revoke-code]").value = "";
      loadTickets();
    }).catch(showError);
  });
});

export function rotateKey() {
  confirmBox(t("control.rotateConfirm")).then((ok) => {
    if (!ok) return;
    api("POST", "/host-key", {}).then((b) => {
      setHostKey(b.key);
      const el = $("[data-new-key]");
      el.hidden = false;
      setText(el, t("control.newKey", { key: b.key }));
      page.conn.restart(); // the old key's socket is closed by the server
    }).catch(showError);
  });
}
setInterval(() => { if (S.view === "run") loadTickets(); }, 10000);
