// The printable results page (/e/{event}/results): the final ranking
// overall and per group, the rules and the time of closing, laid out as an
// A4 sheet. It reads GET /api/events/{event}/results: with the host key
// (from the link's #key=… or what the control page remembered) always,
// without it once the host has published the results.
import { initI18n, getLang, onLangChange, t } from "./i18n.js";
import { $, h, load, save, fmtScore } from "./format.js";

const KEY_STORE = "leitai.hostKey"; // shared with the control page
const EVENT = document.body.getAttribute("data-event") || "";

const TEXT = {
  zh: {
    docTitle: "成绩公告",
    loading: "正在载入成绩…",
    reload: "刷新",
    print: "打印 / 存为 PDF",
    sheetTitle: "成绩公告",
    sheetTitleProvisional: "成绩（临时）",
    provisional: "活动尚未结束，以下为临时结果，最终以活动结束后的成绩为准。",
    closedAt: "结束时间 {t}",
    contestants: "参赛单位 {n} 个",
    ballots: "有效票 {n} 张",
    voters: "投票人 {n} 位",
    overall: "总排名",
    groupTitle: "{g}",
    rules: "评分规则",
    rank: "名次",
    groupRank: "组内名次",
    overallRank: "总名次",
    name: "参赛单位",
    group: "分组",
    final: "最终得分",
    panelHead: "平均分（票数）",
    count: "（{n}）",
    weight: "权重 {w}%",
    signScorer: "计分：",
    signSupervisor: "监督：",
    signDate: "日期：",
    footer: "制表时间 {t} · 擂台 leitai",
    stateFinal: "最终结果",
    stateProvisional: "临时结果",
    statePublished: "已公开",
    stateHidden: "未公开，仅主持人可见",
    notFound: "没有找到这个活动",
    notFoundHint: "请确认链接是否正确；活动可能已被删除。",
    notPublished: "成绩尚未公布",
    notPublishedHint: "主持人公布成绩后，此页面即可查看。",
    failed: "成绩载入失败",
    failedHint: "请检查网络后点击“刷新”。",
  },
  en: {
    docTitle: "Results",
    loading: "Loading the results…",
    reload: "Reload",
    print: "Print / save as PDF",
    sheetTitle: "Official results",
    sheetTitleProvisional: "Results (provisional)",
    provisional: "The event has not ended: these results are provisional.",
    closedAt: "Closed {t}",
    contestants: "{n} contestants",
    ballots: "{n} ballots",
    voters: "{n} voters",
    overall: "Overall ranking",
    groupTitle: "{g}",
    rules: "Scoring rules",
    rank: "Rank",
    groupRank: "Rank in group",
    overallRank: "Overall rank",
    name: "Contestant",
    group: "Group",
    final: "Final score",
    panelHead: "average (ballots)",
    count: " ({n})",
    weight: "weight {w}%",
    signScorer: "Scorer:",
    signSupervisor: "Supervisor:",
    signDate: "Date:",
    footer: "Generated {t} · leitai",
    stateFinal: "final",
    stateProvisional: "provisional",
    statePublished: "published",
    stateHidden: "not published: only the host can see this",
    notFound: "No such event",
    notFoundHint: "Check the link; the event may have been deleted.",
    notPublished: "The results have not been published yet",
    notPublishedHint: "This page shows them once the host publishes them.",
    failed: "The results could not be loaded",
    failedHint: "Check the network and press Reload.",
  },
};

function tr(key, vars) {
  const d = TEXT[getLang()] || TEXT.zh;
  let s = d[key] != null ? d[key] : TEXT.zh[key];
  if (s == null) return key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] == null ? m : String(vars[k])));
  return s;
}

// The host key: from the fragment (then remembered, and taken out of the
// address bar), or as the control page left it.
let hostKey = load(KEY_STORE, "") || "";
(function keyFromFragment() {
  const m = /(?:^#|[#&])key=([^&]+)/.exec(window.location.hash);
  if (!m) return;
  try { hostKey = decodeURIComponent(m[1]); } catch (e) { return; }
  save(KEY_STORE, hostKey);
  try { window.history.replaceState(null, "", window.location.pathname + window.location.search); } catch (e) { /* fine */ }
})();

let report = null; // the last report
let problem = "";  // "notFound" | "notPublished" | "failed" | ""

function zone() {
  try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return ""; }
}

async function fetchReport(withZone) {
  let url = "/api/events/" + encodeURIComponent(EVENT) + "/results";
  const tz = withZone ? zone() : "";
  if (tz) url += "?tz=" + encodeURIComponent(tz);
  const headers = hostKey ? { Authorization: "Bearer " + hostKey } : {};
  const resp = await fetch(url, { headers: headers, cache: "no-store" });
  let body = null;
  try { body = await resp.json(); } catch (e) { body = null; }
  if (resp.ok && body) return { report: body };
  const code = body && body.error ? body.error.code : "";
  if (code === "invalid" && tz) return fetchReport(false); // a zone the server does not know
  return { code: code || "internal" };
}

async function refresh() {
  const btn = $("[data-reload]");
  btn.disabled = true;
  try {
    const r = await fetchReport(true);
    if (r.report) {
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
  return h("div", { class: "res-message" }, h("strong", { text: tr(titleKey) }), tr(hintKey));
}

function render() {
  document.title = (report ? report.title + " · " : "") + tr("docTitle");
  $("[data-reload]").textContent = tr("reload");
  $("[data-print]").textContent = tr("print");
  $("[data-print]").disabled = !report;
  $("[data-bar-title]").textContent = report ? report.title : EVENT;
  const sheet = $("[data-sheet]");
  sheet.textContent = "";
  if (!report) {
    $("[data-bar-state]").textContent = "";
    if (problem === "notFound") sheet.appendChild(message("notFound", "notFoundHint"));
    else if (problem === "notPublished") sheet.appendChild(message("notPublished", "notPublishedHint"));
    else if (problem === "failed") sheet.appendChild(message("failed", "failedHint"));
    else sheet.appendChild(h("p", { class: "res-message", text: tr("loading") }));
    return;
  }
  const r = report;
  // Unpublished results reach only the host, so both states are true for
  // whoever reads them.
  $("[data-bar-state]").textContent = tr(r.final ? "stateFinal" : "stateProvisional") + " · " + tr(r.published ? "statePublished" : "stateHidden");

  const lang = getLang();
  const meta = h("p", { class: "res-meta" });
  if (r.final && r.closedAt) meta.appendChild(h("span", { "data-closed-at": String(r.closedAt), text: tr("closedAt", { t: fmtTime(r.closedAt) }) }));
  meta.appendChild(h("span", { text: tr("contestants", { n: r.contestants }) }));
  meta.appendChild(h("span", { text: tr("ballots", { n: r.ballots }) }));
  meta.appendChild(h("span", { text: tr("voters", { n: r.voters }) }));
  sheet.appendChild(h("header", { class: "res-head" },
    h("h1", { class: "res-title", text: r.title }),
    h("div", { class: "res-subtitle", text: tr(r.final ? "sheetTitle" : "sheetTitleProvisional") }),
    meta));
  if (!r.final) sheet.appendChild(h("p", { class: "res-provisional", text: tr("provisional") }));

  sheet.appendChild(h("section", { class: "res-section", "data-table": "overall" },
    h("h2", { text: tr("overall") }), overallTable(r)));
  (r.groups || []).forEach((g) => {
    sheet.appendChild(h("section", { class: "res-section group", "data-table": "group" },
      h("h2", { text: tr("groupTitle", { g: g }) }), groupTable(r, g)));
  });

  const rules = (lang === "en" ? r.rulesEn : r.rules) || [];
  const list = h("ul", { class: "res-rules" });
  rules.forEach((ru, i) => {
    if (i === 0) return; // the event's name heads the sheet already
    list.appendChild(h("li", null, h("b", { text: ru.item }), h("span", { text: ru.text })));
  });
  sheet.appendChild(h("section", { class: "res-section", "data-table": "rules" }, h("h2", { text: tr("rules") }), list));

  // Signatures and the footer stay together on the last page.
  sheet.appendChild(h("div", { class: "res-end" },
    h("div", { class: "res-sign" },
      h("span", { text: tr("signScorer") }), h("span", { text: tr("signSupervisor") }), h("span", { text: tr("signDate") })),
    h("p", { class: "res-foot", text: tr("footer", { t: fmtTime(r.generatedAt) }) })));
}

function rankText(n) { return n > 0 ? String(n) : "—"; }

function overallTable(r) {
  const grouped = (r.groups || []).length > 0;
  // The report's averages are rounded already (docs/scoring.md); older
  // servers sent no averageDecimals.
  const avgDecimals = r.averageDecimals != null ? r.averageDecimals : Math.min(4, Math.max(2, r.decimals + 2));
  const head = h("tr", null, h("th", { text: tr("rank") }), h("th", { text: tr("name") }));
  if (grouped) head.appendChild(h("th", { class: "group", text: tr("group") }));
  const multi = r.panels.length > 1;
  r.panels.forEach((p) => {
    head.appendChild(h("th", { class: "panel" }, p.name, h("span", { class: "sub", text: (multi ? tr("weight", { w: p.share }) + " · " : "") + tr("panelHead") })));
  });
  head.appendChild(h("th", { text: tr("final") }));
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
        ? h("td", { class: "avg" }, fmtScore(ps.average, avgDecimals), h("span", { class: "cnt", text: tr("count", { n: ps.count }) }))
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
    h("th", { text: tr("groupRank") }), h("th", { text: tr("name") }),
    h("th", { text: tr("final") }), h("th", { text: tr("overallRank") }));
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
