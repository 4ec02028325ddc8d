// Reading contestant lists: CSV with quotes ("a ""b""", line breaks inside
// quotes), tab-separated text pasted from a spreadsheet, or plain lines.
// Writing CSV is the server's (GET /api/events/{event}/export.csv): one
// implementation, which defuses formulas and rounds as docs/scoring.md says.

// parseCSV splits text into rows of fields. The separator is a comma unless
// the first line has a tab and no comma.
export function parseCSV(text, sep) {
  text = String(text || "").replace(/^\uFEFF/, "");
  if (!sep) {
    const firstLine = text.split(/\r?\n/, 1)[0] || "";
    sep = firstLine.indexOf("\t") >= 0 && firstLine.indexOf(",") < 0 ? "\t" : ",";
  }
  const rows = [];
  let row = [];
  let field = "";
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
        quoted = false;
        i++;
        continue;
      }
      field += ch;
      i++;
      continue;
    }
    if (ch === '"' && field.trim() === "") { quoted = true; field = ""; i++; continue; }
    if (ch === sep) { row.push(field); field = ""; i++; continue; }
    if (ch === "\r" || ch === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i += ch === "\r" && text[i + 1] === "\n" ? 2 : 1;
      continue;
    }
    field += ch;
    i++;
  }
  if (field !== "" || row.length) { row.push(field); rows.push(row); }
  return rows.map((r) => r.map((f) => f.trim())).filter((r) => r.some((f) => f !== ""));
}

const NAME = /^(name|名称|名字|单位|单位名称|参赛单位|姓名|队伍|contestant)$/i;
const GROUP = /^(group|组别|分组|组|类别)$/i;
const ORDER = /^(order|序号|顺序|编号|no\.?|#)$/i;
const THEME = /^(theme|topic|汇报主题|主题|题目|汇报题目)$/i;
const PRESENTER = /^(presenter|speaker|汇报人|报告人|主讲人|发言人)$/i;

// parseContestants reads "name", "name,group" or "order,name,group" rows,
// then optionally the theme (汇报主题) and the presenter (汇报人), with or
// without a header row (any column order with one), and returns
// [{name, group, theme?, presenter?}] in order.
export function parseContestants(text) {
  const rows = parseCSV(text);
  if (!rows.length) return [];
  let cols = null;
  const head = rows[0].map((f) => f.toLowerCase());
  if (head.some((f) => NAME.test(f))) {
    cols = { name: -1, group: -1, order: -1, theme: -1, presenter: -1 };
    head.forEach((f, i) => {
      if (NAME.test(f) && cols.name < 0) cols.name = i;
      else if (GROUP.test(f) && cols.group < 0) cols.group = i;
      else if (ORDER.test(f) && cols.order < 0) cols.order = i;
      else if (THEME.test(f) && cols.theme < 0) cols.theme = i;
      else if (PRESENTER.test(f) && cols.presenter < 0) cols.presenter = i;
    });
    rows.shift();
  }
  const cell = (r, i) => (i >= 0 ? (r[i] || "").trim() : "");
  const out = rows.map((r, i) => {
    let c = cols;
    if (!c) {
      const numbered = r.length >= 2 && /^\d+$/.test(r[0]);
      c = numbered ? { order: 0, name: 1, group: 2, theme: 3, presenter: 4 } : { order: -1, name: 0, group: 1, theme: 2, presenter: 3 };
    }
    return {
      name: cell(r, c.name),
      group: cell(r, c.group),
      theme: cell(r, c.theme),
      presenter: cell(r, c.presenter),
      order: c.order >= 0 && /^\d+(\.\d+)?$/.test(r[c.order] || "") ? Number(r[c.order]) : i + 1,
      line: i,
    };
  }).filter((x) => x.name !== "");
  out.sort((a, b) => a.order - b.order || a.line - b.line);
  return out.map((x) => {
    const c = { name: x.name, group: x.group };
    if (x.theme) c.theme = x.theme;
    if (x.presenter) c.presenter = x.presenter;
    return c;
  });
}

// toLines writes contestants back as "name,group" lines, quoting when
// needed; with themes or presenters, under a header naming the columns.
export function toLines(contestants) {
  const q = (s) => (/[",\n\r]/.test(s || "") ? '"' + s.replace(/"/g, '""') + '"' : s || "");
  const themes = contestants.some((c) => c.theme);
  const presenters = contestants.some((c) => c.presenter);
  if (!themes && !presenters) return contestants.map((c) => (c.group ? q(c.name) + "," + q(c.group) : q(c.name))).join("\n");
  const head = ["名称", "组别", "汇报主题"].concat(presenters ? ["汇报人"] : []);
  return [head.join(",")].concat(contestants.map((c) => {
    const f = [q(c.name), q(c.group), q(c.theme)];
    if (presenters) f.push(q(c.presenter));
    return f.join(",");
  })).join("\n");
}
