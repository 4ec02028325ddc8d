// The setup form (活动设置): title, voting scope, hall code, presentation
// time, contestants (typed, pasted or imported from CSV), rules, criteria
// and panels; saving creates or updates the event.
import { t } from "./i18n.js";
import { $, $$, h, setText } from "./dom.js";
import { fmtMinSec, parseMinSec } from "./format.js";
import { parseContestants, toLines } from "./csv.js";
import { localError } from "./errors.js";
import { S, page, api, evPath, eventId, toast, showError } from "./control-page.js";

function defaultEvent() {
  return {
    id: eventId, title: "", contestants: [], votingScope: "stage",
    panels: [{ id: "audience", name: "大众评审", weight: 1 }],
    rules: { min: 1, max: 10, step: 1, trim: 0, decimals: 2 },
  };
}

export function fillSetup() {
  const ev = S.full || defaultEvent();
  const form = $("[data-setup-form]");
  lockSetup();
  const idIn = $("[data-f-id]");
  idIn.value = ev.id || eventId;
  idIn.readOnly = true; // the id is the page's URL
  $("[data-f-title]").value = ev.title || "";
  form.querySelectorAll("input[name=scope]").forEach((r) => { r.checked = r.value === (ev.votingScope || "stage"); });
  $("[data-f-hallcode]").checked = !ev.noHallCode;
  $("[data-f-presentation]").value = fmtMinSec(ev.presentationSeconds || 0);
  $("[data-f-series]").value = ev.series || "";
  $("[data-f-round]").value = ev.round || "";
  $("[data-f-contestants]").value = toLines(ev.contestants || []);
  $("[data-f-min]").value = ev.rules.min;
  $("[data-f-max]").value = ev.rules.max;
  $("[data-f-step]").value = ev.rules.step;
  $("[data-f-trim]").value = ev.rules.trim || 0;
  $("[data-f-decimals]").value = ev.rules.decimals == null ? 2 : ev.rules.decimals;
  const cbox = $("[data-criteria]");
  cbox.textContent = "";
  (ev.rules.criteria || []).forEach((c) => cbox.appendChild(criterionRow(c)));
  const pbox = $("[data-panels]");
  pbox.textContent = "";
  (ev.panels || []).forEach((p) => pbox.appendChild(panelRow(p)));
  setText($("[data-save]"), S.exists ? t("control.save") : t("control.create"));
  renderPreview();
}

// lockSetup says when the settings cannot be saved: the event does not
// exist yet (saving creates it), or it has ended (read-only).
export function lockSetup() {
  const notice = $("[data-setup-notice]");
  const ended = !!(S.exists && S.stage && S.stage.phase === "ended");
  notice.hidden = !!S.exists && !ended;
  if (!S.exists) setText(notice, t("control.notFound", { id: eventId }));
  else if (ended) setText(notice, t("control.setupEnded"));
  $("[data-save]").disabled = ended;
}

export function criterionRow(c) {
  const row = h("div", { class: "item-row", "data-criterion": c.id || "" });
  row.appendChild(h("label", { class: "field grow" }, h("span", null, t("control.criterionName")), h("input", { name: "cname", value: c.name || "", maxlength: "100" })));
  row.appendChild(h("label", { class: "field narrow" }, h("span", null, t("control.weight")), h("input", { name: "cweight", type: "number", step: "any", min: "0", value: c.weight == null ? 1 : c.weight })));
  row.appendChild(h("button", { type: "button", class: "btn small danger-text", "data-remove-row": "" }, t("control.remove")));
  return row;
}

export function panelRow(p) {
  const key = p.key && p.key !== "required" ? p.key : "";
  const row = h("div", { class: "item-row panel-row", "data-panel": p.id || "" });
  row.appendChild(h("label", { class: "field grow" }, h("span", null, t("control.panelName")), h("input", { name: "pname", value: p.name || "", maxlength: "100" })));
  row.appendChild(h("label", { class: "field narrow" }, h("span", null, t("control.weight")), h("input", { name: "pweight", type: "number", step: "any", min: "0", value: p.weight == null ? 1 : p.weight })));
  row.appendChild(h("label", { class: "field grow" }, h("span", null, t("control.panelKey")), h("input", { name: "pkey", value: key, autocomplete: "off", spellcheck: "false" })));
  const tk = h("input", { type: "checkbox", name: "ptickets" });
  tk.checked = !!p.tickets;
  row.appendChild(h("label", { class: "field check" }, tk, h("span", null, " " + t("control.panelTickets"))));
  row.appendChild(h("button", { type: "button", class: "btn small danger-text", "data-remove-row": "" }, t("control.remove")));
  if (key && p.id) {
    const link = (document.body.dataset.voteUrl || "") + "?panel=" + encodeURIComponent(p.id) + "&panelKey=" + encodeURIComponent(key);
    row.appendChild(h("div", { class: "judge-link" }, h("span", null, t("control.judgeLink") + "："), h("code", null, link)));
  }
  return row;
}

function renderPreview() {
  const list = parseContestants($("[data-f-contestants]").value);
  const groups = {};
  list.forEach((c) => { if (c.group) groups[c.group] = true; });
  setText($("[data-parsed]"), t("control.parsed", { n: list.length, g: Object.keys(groups).length }));
  const ol = $("[data-preview]");
  ol.textContent = "";
  list.forEach((c) => ol.appendChild(h("li", null, c.name, c.group ? h("small", null, c.group) : null,
    c.theme || c.presenter ? h("span", { class: "pv-theme" }, [c.theme, c.presenter].filter(Boolean).join(" · ")) : null)));
}

function uniqueID(base, used) {
  let id = base;
  let n = 2;
  while (used[id]) id = base + n++;
  used[id] = true;
  return id;
}

function collectEvent() {
  const prev = S.full || defaultEvent();
  const num = (sel) => Number($(sel).value);
  const ev = {
    id: eventId,
    title: $("[data-f-title]").value.trim(),
    votingScope: ($("[data-setup-form] input[name=scope]:checked") || {}).value || "stage",
    rules: {
      min: num("[data-f-min]"), max: num("[data-f-max]"), step: num("[data-f-step]"),
      trim: num("[data-f-trim]") || 0, decimals: num("[data-f-decimals]"),
    },
  };
  // Contestants keep their ids by name, so that ballots stay with them.
  const free = (prev.contestants || []).slice();
  ev.contestants = parseContestants($("[data-f-contestants]").value).map((c) => {
    const out = { name: c.name };
    if (c.group) out.group = c.group;
    if (c.theme) out.theme = c.theme;
    if (c.presenter) out.presenter = c.presenter;
    for (let i = 0; i < free.length; i++) {
      if (free[i].name === c.name) {
        out.id = free[i].id;
        free.splice(i, 1);
        break;
      }
    }
    return out;
  });
  const usedC = {};
  const crit = [];
  $$("[data-criteria] .item-row").forEach((row, i) => {
    const name = row.querySelector("[name=cname]").value.trim();
    if (!name) return;
    const id = row.dataset.criterion || uniqueID("k" + (i + 1), usedC);
    usedC[id] = true;
    crit.push({ id: id, name: name, weight: Number(row.querySelector("[name=cweight]").value) || 1 });
  });
  if (crit.length) ev.rules.criteria = crit;
  if (prev.rules && prev.rules.tieBreaks) ev.rules.tieBreaks = prev.rules.tieBreaks;
  const usedP = {};
  $$("[data-panels] .item-row").forEach((row) => { if (row.dataset.panel) usedP[row.dataset.panel] = true; });
  ev.panels = [];
  $$("[data-panels] .item-row").forEach((row, i) => {
    const name = row.querySelector("[name=pname]").value.trim();
    if (!name) return;
    const key = row.querySelector("[name=pkey]").value.trim();
    let id = row.dataset.panel;
    if (!id) id = uniqueID(i === 0 ? "audience" : key ? "judges" : "panel" + (i + 1), usedP);
    const p = { id: id, name: name, weight: Number(row.querySelector("[name=pweight]").value) || 1 };
    if (key) p.key = key;
    if (row.querySelector("[name=ptickets]").checked) p.tickets = true;
    // What the form does not edit (scoring mode, own trim, judges' seats;
    // set in the event file or the API) stays as it was.
    const old = (prev.panels || []).find((q) => q.id === id);
    if (old) for (const f of ["mode", "trim", "seats"]) if (old[f]) p[f] = old[f];
    ev.panels.push(p);
  });
  if (!$("[data-f-hallcode]").checked) ev.noHallCode = true;
  const secs = parseMinSec($("[data-f-presentation]").value);
  if (isNaN(secs)) throw localError(t("control.badDuration"));
  if (secs) ev.presentationSeconds = secs;
  const series = $("[data-f-series]").value.trim();
  if (series) {
    ev.series = series;
    ev.round = Number($("[data-f-round]").value) || 0; // 0: the series' next round
  }
  if (S.exists && S.full) ev.revision = S.full.revision;
  return ev;
}

function saveSetup(e) {
  e.preventDefault();
  let ev;
  try { ev = collectEvent(); } catch (err) { showError(err); return; }
  const req = S.exists ? api("PUT", evPath(), ev) : api("POST", "/events", ev);
  const btn = $("[data-save]");
  btn.disabled = true;
  req.then((saved) => {
    const created = !S.exists;
    S.full = saved;
    S.ev = saved;
    S.exists = true;
    toast(created ? t("control.created") : t("control.saved"), "ok");
    fillSetup();
    page.renderAll();
    page.refreshHallLinks();
    if (created) {
      page.conn.restart();
      page.setView("setup");
    }
  }).catch((err) => {
    showError(err);
    if (err.code === "conflict" && S.exists) {
      // Someone else changed it: read the current revision for next time.
      api("GET", evPath()).then((ev2) => { S.full = ev2; }).catch(() => {});
    }
  }).then(() => { btn.disabled = false; lockSetup(); });
}

function readCSVFile(file) {
  const reader = new FileReader();
  reader.onload = () => {
    const buf = reader.result;
    let text;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(buf);
    } catch (err) {
      // Excel in China saves CSV as GB18030 (GBK).
      try { text = new TextDecoder("gb18030").decode(buf); } catch (err2) { text = new TextDecoder().decode(buf); }
    }
    $("[data-f-contestants]").value = toLines(parseContestants(text));
    renderPreview();
  };
  reader.readAsArrayBuffer(file);
}

$("[data-setup-form]").addEventListener("submit", saveSetup);
$("[data-f-contestants]").addEventListener("input", renderPreview);
$("[data-f-csv]").addEventListener("change", (e) => {
  const f = e.target.files && e.target.files[0];
  if (f) readCSVFile(f);
  e.target.value = "";
});

