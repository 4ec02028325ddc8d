// The live standings table (实时排名): rank, group rank, each panel's
// trimmed average and counts, the final score, and per row 上台, 清空评分
// and 点评.
import { t } from "./i18n.js";
import { $, h, setText } from "./dom.js";
import { fmtScore, fmtPoints } from "./format.js";
import { contestantIndex, groupsOf } from "./event.js";
import { S } from "./control-page.js";
import { commentButton } from "./control-present.js";

// renderStandings redraws the table from S.standings.
export function renderStandings() {
  if (!S.ev) return;
  const ev = S.ev;
  const idx = contestantIndex(ev);
  const sd = S.standings || { rows: [], ballots: 0 };
  const groups = groupsOf(ev);
  setText($("[data-total]"), t("control.totalBallots", { n: sd.ballots || 0 }));
  const head = $("[data-standings-head]");
  const cols = [t("control.colRank")];
  if (groups.length) cols.push(t("control.colGroupRank"));
  cols.push(t("control.colName"));
  ev.panels.forEach((p) => cols.push(p.name + (ev.panels.length > 1 ? " " + fmtPoints(p.weight) : "")));
  cols.push(t("control.colBallots"), t("control.colFinal"), t("control.colActions"));
  const headKey = cols.join("|");
  if (head.__key !== headKey) {
    head.__key = headKey;
    head.textContent = "";
    head.appendChild(h("tr", null, ...cols.map((c) => h("th", { scope: "col" }, c))));
  }
  const tbody = $("[data-standings-body]");
  tbody.textContent = "";
  const st = S.stage || {};
  const dec = ev.rules.decimals;
  const rows = (sd.rows || []).filter((r) => idx[r.contestant]);
  rows.forEach((r) => {
    const c = idx[r.contestant].c;
    const tr = h("tr", { "data-id": r.contestant, class: (r.contestant === st.current && st.phase !== "lobby" && st.phase !== "reveal" ? "current" : "") + (r.ballots ? "" : " none") });
    tr.appendChild(h("td", { class: "num rank" }, r.rank ? String(r.rank) : "–"));
    if (groups.length) tr.appendChild(h("td", { class: "num" }, r.groupRank ? String(r.groupRank) : "–"));
    tr.appendChild(h("td", { class: "name" }, h("span", { class: "cname" }, c.name), c.group ? h("span", { class: "cgroup" }, c.group) : null));
    ev.panels.forEach((p, i) => {
      const ps = (r.panels && r.panels[i]) || { count: 0, dropped: 0, average: 0 };
      tr.appendChild(h("td", { class: "panel-cell num", title: t("control.panelCell", { avg: fmtScore(ps.average, 4), count: ps.count, dropped: ps.dropped }) },
        h("span", { class: "avg" }, ps.count ? fmtScore(ps.average, Math.max(dec, 2)) : "—"),
        h("small", null, t("control.countDropped", { count: ps.count, dropped: ps.dropped }))));
    });
    tr.appendChild(h("td", { class: "num ballots" }, String(r.ballots)));
    tr.appendChild(h("td", { class: "num final" }, r.ballots ? fmtScore(r.final, dec) : "—"));
    const acts = h("td", { class: "acts" });
    acts.appendChild(h("button", { type: "button", class: "btn tiny", "data-row-jump": r.contestant, disabled: st.phase === "ended" }, t("control.toStage")));
    acts.appendChild(h("button", { type: "button", class: "btn tiny danger-text", "data-row-reset": r.contestant, disabled: !r.ballots || st.phase === "ended" }, t("control.reset")));
    acts.appendChild(commentButton(r.contestant));
    tr.appendChild(acts);
    tbody.appendChild(tr);
  });
}
