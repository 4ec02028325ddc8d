// Results and exports (成绩与导出): the Excel and CSV exports and the audit
// log (fetched with the host key in a header), publishing the results
// sheet, and cloning the event.
import { t } from "./i18n.js";
import { $, setText } from "./dom.js";
import { download as apiDownload } from "./api.js";
import { S, api, evPath, eventId, toast, showError, confirmBox } from "./control-page.js";
import { revealPlaces } from "./control-reveal.js";

// download saves an export of the event under the server's file name.
function download(path, fallback) {
  return apiDownload(evPath() + path, fallback).catch(showError);
}

// exportFile downloads what a button of the card names.
export function exportFile(action, table) {
  switch (action) {
    // The server's ranking CSV: one CSV implementation (defused cells,
    // the rounding of docs/scoring.md), fetched with the key in a header.
    case "export": return download("/export.csv?table=ranking", eventId + "-ranking.csv");
    case "export-xlsx": return download("/export.xlsx", eventId + ".xlsx");
    case "export-csv": return download("/export.csv?table=" + table, eventId + "-" + table + ".csv");
    case "export-audit": return download("/audit?limit=5000", eventId + "-audit.json");
  }
  return null;
}

export function renderPublished() {
  const ev = S.full || S.ev; const on = !!(ev && ev.published);
  setText($("[data-published-state]"), t(on ? "control.publishedOn" : "control.publishedOff"));
  setText($("[data-published-btn]"), t(on ? "control.unpublish" : "control.publish"));
}

// togglePublished publishes or hides the results. While the reveal is
// under way publishing would show the order before the screen does: the
// page says so and asks (and the server refuses, code confirm, a publish
// that does not say the host confirmed).
export function togglePublished(confirm) {
  const ev = S.full || S.ev;
  const req = { published: !(ev && ev.published) };
  const st = S.stage || {};
  if (req.published && !confirm && st.phase === "reveal" && st.revealed < revealPlaces().length) {
    return confirmBox(t("control.publishDuringReveal")).then((ok) => ok && togglePublished(true));
  }
  if (confirm) req.confirm = true;
  return api("POST", evPath() + "/publish", req)
    .then((updated) => { S.full = updated; renderPublished(); })
    .catch((e) => {
      if (e.code !== "confirm" || confirm) return showError(e);
      return confirmBox(t("control.publishDuringReveal")).then((ok) => ok && togglePublished(true));
    });
}

export function cloneEvent() {
  const id = window.prompt(t("control.cloneId"), eventId + "-2");
  if (!id || !id.trim()) return;
  api("POST", evPath() + "/clone", { id: id.trim() })
    .then((ev) => { toast(t("control.cloned", { id: ev.id }), "ok"); window.open("/e/" + encodeURIComponent(ev.id) + "/control", "_blank", "noopener"); })
    .catch(showError);
}
