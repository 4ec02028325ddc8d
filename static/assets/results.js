// The printable results page (/e/{event}/results): the final ranking
// overall and per group, the rules and the time of closing, laid out as an
// A4 sheet. It reads GET /api/events/{event}/results: with the host key
// (from the link's #key=… or what the control page remembered) always,
// without it once the host has published the results.
import { initI18n, getLang, onLangChange, t } from "./i18n.js";
import { $, h } from "./dom.js";
import { fmtScore } from "./format.js";
import { request, keyFromLink, eventPath, zoneQuery } from "./api.js";
import { seriesFromPath, fetchSeason, seasonSection, seasonSheet } from "./results-season.js";

const EVENT = document.body.getAttribute("data-event") || "";
// The series results page (/s/{series}/results) is this page with the
// season table (results-season.js) for its sheet.
const SERIES = seriesFromPath();
keyFromLink(); // the host's key, from the link or as the control page left it

let report = null; // the last report
let problem = "";  // "notFound" | "notPublished" | "failed" | ""

// fetchReport reads the report, in the device's time zone unless the
// server does not know it; it resolves to {report} or {code} (a refusal),
// and rejects when the server cannot be reached.
async function fetchReport(withZone) {
  const tz = withZone ? zoneQuery() : "";
  try {
    return { report: await request("GET", eventPath(EVENT) + "/results" + (tz ? "?" + tz : ""), undefined, { host: true }) };
  } catch (e) {
    if (!e.status) throw e;
    if (e.code === "invalid" && tz) return fetchReport(false); // a zone the server does not know
    return { code: e.code || "internal" };
  }
}

async function refresh() {
  const btn = $("[data-reload]");
  btn.disabled = true;
  try {
    const r = SERIES ? await fetchSeason(SERIES) : await fetchReport(true);
    if (r.season) {
      report = Object.assign({ season: r.season, title: r.season.name }, r.season);
      problem = "";
    } else if (r.report) {
      report = r.report;
      problem = "";
    } else {
      report = null;
      problem = r.code === "not_found" ? "notFound" : r.code === "forbidden" ? "notPublished" : "failed";
    }
  } catch (e) {
    if (!report) problem = "failed";
  }
  btn.disabled = false;
  render();
}

function pad(n) { return (n < 10 ? "0" : "") + n; }

function fmtTime(ms) {
  const d = new Date(ms);
  return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":" + pad(d.getMinutes());
}

function message(titleKey, hintKey) {
  return h("div", { class: "res-message" }, h("strong", { text: t("results." + titleKey) }), t("results." + hintKey));
}

function render() {
  document.title = (report ? report.title + " · " : "") + t("results.docTitle");
  $("[data-reload]").textContent = t("results.reload");
  $("[data-print]").textContent = t("results.print");
  $("[data-print]").disabled = !report;
  $("[data-bar-title]").textContent = report ? report.title : EVENT;
  const sheet = $("[data-sheet]");
  sheet.textContent = "";
  if (!report) {
    $("[data-bar-state]").textContent = "";
    if (problem === "notFound") sheet.appendChild(message("notFound", "notFoundHint"));
    else if (problem === "notPublished") sheet.appendChild(message("notPublished", "notPublishedHint"));
    else if (problem === "failed") sheet.appendChild(message("failed", "failedHint"));
    else sheet.appendChild(h("p", { class: "res-message", text: t("results.loading") }));
    return;
  }
  const r = report;
  if (SERIES) {
    $("[data-bar-state]").textContent = t("results.seasonTitle");
    seasonSheet(sheet, r.season, endBlock(r.season.rounds.length ? Date.now() : 0));
    return;
  }
  // Unpublished results reach only the host, so both states are true for
  // whoever reads them.
  $("[data-bar-state]").textContent = t(r.final ? "results.stateFinal" : "results.stateProvisional") + " · " + t(r.published ? "results.statePublished" : "results.stateHidden");

  const lang = getLang();
  const meta = h("p", { class: "res-meta" });
  if (r.final && r.closedAt) meta.appendChild(h("span", { "data-closed-at": String(r.closedAt), text: t("results.closedAt", { t: fmtTime(r.closedAt) }) }));
  meta.appendChild(h("span", { text: t("results.contestants", { n: r.contestants }) }));
  meta.appendChild(h("span", { text: t("results.ballots", { n: r.ballots }) }));
  meta.appendChild(h("span", { text: t("results.voters", { n: r.voters }) }));
  sheet.appendChild(h("header", { class: "res-head" },
    h("h1", { class: "res-title", text: r.title }),
    h("div", { class: "res-subtitle", text: t(r.final ? "results.sheetTitle" : "results.sheetTitleProvisional") }),
    meta));
  if (!r.final) sheet.appendChild(h("p", { class: "res-provisional", text: t("results.provisional") }));

  sheet.appendChild(h("section", { class: "res-section", "data-table": "overall" },
    h("h2", { text: t("results.overall") }), overallTable(r)));
  (r.groups || []).forEach((g) => {
    sheet.appendChild(h("section", { class: "res-section group", "data-table": "group" },
      h("h2", { text: g }), groupTable(r, g)));
  });

  const rules = (lang === "en" ? r.rulesEn : r.rules) || [];
  const list = h("ul", { class: "res-rules" });
  rules.forEach((ru, i) => {
    if (i === 0) return; // the event's name heads the sheet already
    list.appendChild(h("li", null, h("b", { text: ru.item }), h("span", { text: ru.text })));
  });
  sheet.appendChild(h("section", { class: "res-section", "data-table": "rules" }, h("h2", { text: t("results.rules") }), list));
  // After round 1 the season table is this ranking again: it joins the
  // sheet from the second round on (the series' page has it always).
  if (r.season && r.season.rounds.length > 1) sheet.appendChild(seasonSection(r.season));
  sheet.appendChild(endBlock(r.generatedAt));
  // One 评委评分表 per judges' seat, each on a page of its own (host only).
  (r.seatSheets || []).forEach((sh) => sheet.appendChild(seatSheet(r, sh)));
}

// endBlock is the signatures and the footer, which stay together on the
// last page.
function endBlock(generatedAt) {
  return h("div", { class: "res-end" },
    h("div", { class: "res-sign" },
      h("span", { text: t("results.signScorer") }), h("span", { text: t("results.signSupervisor") }), h("span", { text: t("results.signDate") })),
    h("p", { class: "res-foot", text: t("results.footer", { t: fmtTime(generatedAt || Date.now()) }) }));
}

function seatSheet(r, sh) {
  const body = h("tbody");
  sh.rows.forEach((m) => body.appendChild(h("tr", { "data-contestant": m.contestant },
    h("td", { class: "num", text: String(m.order) }), h("td", { class: "name", text: m.name }),
    h("td", { class: "num", text: m.scored ? String(Math.round(m.score * 10000) / 10000) : t("results.seatNotScored") }))));
  return h("section", { class: "res-section seat-sheet", "data-seat-sheet": sh.panel + ":" + sh.seat },
    h("h2", { text: t("results.seatSheet", { panel: sh.panelName, seat: sh.name }) }),
    h("p", { class: "res-meta", text: r.title }),
    h("table", { class: "res-table" },
      h("thead", null, h("tr", null, h("th", { text: t("results.seatOrder") }), h("th", { text: t("results.name") }), h("th", { text: t("results.seatScore") }))),
      body),
    h("div", { class: "res-sign" }, h("span", { text: t("results.seatSign") }), h("span", { text: t("results.signDate") })));
}

function rankText(n) { return n > 0 ? String(n) : "—"; }

function overallTable(r) {
  const grouped = (r.groups || []).length > 0;
  // The report's averages are rounded already (docs/scoring.md); older
  // servers sent no averageDecimals.
  const avgDecimals = r.averageDecimals != null ? r.averageDecimals : Math.min(4, Math.max(2, r.decimals + 2));
  const head = h("tr", null, h("th", { text: t("results.rank") }), h("th", { text: t("results.name") }));
  if (grouped) head.appendChild(h("th", { class: "group", text: t("results.group") }));
  const multi = r.panels.length > 1;
  r.panels.forEach((p) => {
    head.appendChild(h("th", { class: "panel" }, p.name, h("span", { class: "sub", text: (multi ? t("results.weight", { w: p.share }) + " · " : "") + t("results.panelHead") })));
  });
  head.appendChild(h("th", { text: t("results.final") }));
  const table = h("table", { class: "res-table" }, h("thead", null, head));
  const columns = head.children.length;
  r.rows.forEach((row) => {
    // One body per contestant, so that its comment row stays with it on paper.
    const body = h("tbody", { class: "res-unit" });
    const tr_ = h("tr", { class: row.rank > 0 && row.rank <= 3 ? "top" : null, "data-contestant": row.contestant },
      h("td", { class: "rank", text: rankText(row.rank) }),
      nameCell(row, grouped));
    // On a phone the group goes under the name (CSS), not in a column.
    if (grouped) tr_.appendChild(h("td", { class: "group", text: row.group || "" }));
    row.panels.forEach((ps) => {
      tr_.appendChild(ps.count > 0
        ? h("td", { class: "avg" }, fmtScore(ps.average, avgDecimals), h("span", { class: "cnt", text: t("results.count", { n: ps.count }) }))
        : h("td", { class: "none", text: "—" }));
    });
    tr_.appendChild(h("td", { class: row.ballots > 0 ? "final" : "final none", text: row.ballots > 0 ? fmtScore(row.final, r.decimals) : "—" }));
    body.appendChild(tr_);
    if (row.comment) {
      body.appendChild(h("tr", { class: "res-comment", "data-comment": row.contestant },
        h("td", { colspan: String(columns) }, h("b", { text: t("results.comment") + "：" }), h("span", { text: row.comment }))));
    }
    table.appendChild(body);
  });
  return table;
}

// nameCell is the contestant's name with what it presented under it.
function nameCell(row, grouped) {
  const td = h("td", { class: "name", "data-group": grouped ? row.group || "" : null }, h("span", { class: "res-name", text: row.name }));
  const sub = [row.theme, row.presenter ? t("results.presenter", { name: row.presenter }) : ""].filter(Boolean).join(" · ");
  if (sub) td.appendChild(h("span", { class: "res-theme", text: sub }));
  return td;
}

function groupTable(r, g) {
  const head = h("tr", null,
    h("th", { text: t("results.groupRank") }), h("th", { text: t("results.name") }),
    h("th", { text: t("results.final") }), h("th", { text: t("results.overallRank") }));
  const body = h("tbody");
  r.rows.filter((row) => row.group === g).forEach((row) => {
    body.appendChild(h("tr", { class: row.groupRank > 0 && row.groupRank <= 3 ? "top" : null, "data-contestant": row.contestant },
      h("td", { class: "rank", text: rankText(row.groupRank) }),
      h("td", { class: "name", text: row.name }),
      h("td", { class: row.ballots > 0 ? "final" : "final none", text: row.ballots > 0 ? fmtScore(row.final, r.decimals) : "—" }),
      h("td", { text: rankText(row.rank) })));
  });
  return h("table", { class: "res-table res-group" }, h("thead", null, head), body);
}

$("[data-reload]").addEventListener("click", refresh);
$("[data-print]").addEventListener("click", () => window.print());
onLangChange(render);
initI18n();
render();
refresh();
