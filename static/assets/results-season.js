// The season table (年度累计排名) on paper: a section of a round's results
// sheet (the report's season, up to that round), and the whole sheet of
// the series' own results page (/s/{series}/results, GET
// /api/series/{series}/season).
import { t } from "./i18n.js";
import { h } from "./dom.js";
import { fmtScore } from "./format.js";
import { request } from "./api.js";

// seriesFromPath is the series of a series results page ("" elsewhere).
export function seriesFromPath() {
  const m = /^\/s\/([a-z0-9][a-z0-9_-]{0,62})\/results\/?$/.exec(window.location.pathname);
  return m ? m[1] : "";
}

// fetchSeason reads the season table: {season} or {code} (a refusal).
export async function fetchSeason(series) {
  try {
    return { season: await request("GET", "/series/" + encodeURIComponent(series) + "/season", undefined, { host: true }) };
  } catch (e) {
    if (!e.status) throw e;
    return { code: e.code || "internal" };
  }
}

function rankText(n) { return n > 0 ? String(n) : "—"; }

// moveText is a row's movement since the table before the latest round,
// as the 累计 sheet writes it (report.MoveText).
export function moveText(s, row) {
  if (s.rounds.length < 2 || !row.rank) return "";
  if (!row.prevRank) return t("results.seasonNew");
  if (row.move > 0) return "↑" + row.move;
  if (row.move < 0) return "↓" + -row.move;
  return "–";
}

// seasonTable is the table: rank, unit, group (group rank), one column per
// round, the combined score, the movement.
export function seasonTable(s) {
  const grouped = s.rows.some((r) => r.group);
  const head = h("tr", null, h("th", { text: t("results.rank") }), h("th", { text: t("results.name") }));
  if (grouped) head.appendChild(h("th", { class: "group", text: t("results.group") }));
  s.rounds.forEach((rd) => head.appendChild(h("th", { class: "round", title: rd.title, text: t("results.roundName", { name: rd.name, n: rd.round }) })));
  head.appendChild(h("th", { text: t("results.seasonCombined." + s.rule) }));
  head.appendChild(h("th", { text: t("results.seasonMove") }));
  const body = h("tbody");
  s.rows.forEach((row) => {
    const tr = h("tr", { class: row.rank > 0 && row.rank <= 3 ? "top" : null, "data-contestant": row.contestant },
      h("td", { class: "rank", text: rankText(row.rank) }),
      h("td", { class: "name", text: row.name }));
    if (grouped) tr.appendChild(h("td", { class: "group", text: row.group ? row.group + (row.groupRank ? " " + t("results.seasonGroupRank", { n: row.groupRank }) : "") : "" }));
    row.finals.forEach((f) => tr.appendChild(f.played
      ? h("td", { class: "avg", text: fmtScore(f.final, s.decimals) })
      : h("td", { class: "none", text: "—" })));
    tr.appendChild(h("td", { class: row.rank > 0 ? "final" : "final none", text: row.rank > 0 ? fmtScore(row.combined, s.decimals) : "—" }));
    tr.appendChild(h("td", { class: "move", text: moveText(s, row) }));
    body.appendChild(tr);
  });
  return h("table", { class: "res-table res-season" }, h("thead", null, head), body);
}

// seasonRule says in words how the table is made.
export function seasonRule(s) {
  let rule = t("results.seasonRuleText." + s.rule);
  if (s.rule === "weighted") rule += t("results.seasonWeights", { w: s.rounds.map((rd) => t("results.roundName", { name: rd.name, n: rd.round }) + " " + rd.weight).join(", ") });
  return rule + " · " + t("results.seasonMissed." + s.missed) + " · " + t("results.seasonTies", { d: s.decimals });
}

// seasonSection is the season table as a section of a round's sheet.
export function seasonSection(s) {
  return h("section", { class: "res-section season", "data-table": "season" },
    h("h2", { text: t("results.seasonTitle") + " · " + s.name }),
    seasonTable(s),
    h("p", { class: "res-season-rule", text: seasonRule(s) }));
}

// seasonSheet fills the sheet of a series results page.
export function seasonSheet(sheet, s, footer) {
  sheet.appendChild(h("header", { class: "res-head" },
    h("h1", { class: "res-title", text: s.name }),
    h("div", { class: "res-subtitle", text: t("results.seasonTitle") }),
    h("p", { class: "res-meta res-rounds" }, ...s.rounds.map((rd) => h("span", { text: t("results.roundName", { name: rd.name, n: rd.round }) + " " + rd.title })))));
  if (!s.rounds.length) {
    sheet.appendChild(h("p", { class: "res-provisional", text: t("results.seasonNoRounds") }));
    return;
  }
  sheet.appendChild(h("section", { class: "res-section", "data-table": "season" }, seasonTable(s)));
  sheet.appendChild(h("section", { class: "res-section", "data-table": "rules" },
    h("h2", { text: t("results.rules") }), h("p", { class: "res-season-rule", text: seasonRule(s) })));
  sheet.appendChild(footer);
}
