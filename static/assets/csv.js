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

// parseContestants reads "name", "name,group" or "order,name,group" rows,
// with or without a header row, and returns [{name, group}] in order.
export function parseContestants(text) {
  const rows = parseCSV(text);
  if (!rows.length) return [];
  let cols = null;
  const head = rows[0].map((f) => f.toLowerCase());
  if (head.some((f) => NAME.test(f))) {
    cols = { name: -1, group: -1, order: -1 };
    head.forEach((f, i) => {
      if (NAME.test(f) && cols.name < 0) cols.name = i;
      else if (GROUP.test(f) && cols.group < 0) cols.group = i;
      else if (ORDER.test(f) && cols.order < 0) cols.order = i;
    });
    rows.shift();
  }
  const out = rows.map((r, i) => {
    let c = cols;
    if (!c) {
      const numbered = r.length >= 2 && /^\d+$/.test(r[0]);
      c = numbered ? { order: 0, name: 1, group: 2 } : { order: -1, name: 0, group: 1 };
    }
    return {
      name: (r[c.name] || "").trim(),
      group: c.group >= 0 ? (r[c.group] || "").trim() : "",
      order: c.order >= 0 && /^\d+(\.\d+)?$/.test(r[c.order] || "") ? Number(r[c.order]) : i + 1,
      line: i,
    };
  }).filter((x) => x.name !== "");
  out.sort((a, b) => a.order - b.order || a.line - b.line);
  return out.map((x) => ({ name: x.name, group: x.group }));
}

// toLines writes contestants back as "name,group" lines, quoting when needed.
export function toLines(contestants) {
  const q = (s) => (/[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s);
  return contestants.map((c) => (c.group ? q(c.name) + "," + q(c.group) : q(c.name))).join("\n");
}
