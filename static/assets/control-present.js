// The presentation (汇报): the presentation timer's controls, and the
// leader's comment (区领导点评) on each contestant, written in a dialog.
import { t } from "./i18n.js";
import { $, h, setText } from "./dom.js";
import { timerView, parseMinSec } from "./format.js";
import { contestantIndex } from "./event.js";
import { localError } from "./errors.js";
import { S, page, api, evPath, command, toast, showError } from "./control-page.js";

// renderTimerControls labels and enables the timer's buttons; on says a
// contestant is on stage.
export function renderTimerControls(on) {
  const st = S.stage || {};
  const tm = st.timer || { seconds: 0 };
  const v = timerView(tm, page.conn.now());
  const toggle = $("[data-cmd='timer-toggle']");
  setText(toggle, t(v.running ? "control.timerPause" : v.paused ? "control.timerResume" : "control.timerStart") + "（T）");
  toggle.disabled = !on || (!v.running && !(tm.seconds || S.ev.presentationSeconds));
  $("[data-cmd='timer-reset']").disabled = !on || v.state === "ready";
  $("[data-cmd='timer-set']").disabled = !on;
  $("[data-timer-input]").disabled = !on;
  renderTimerClock();
}

function renderTimerClock() {
  const el = $("[data-timer-clock]");
  const st = S.stage;
  const tm = st && st.timer;
  if (!tm || !tm.seconds) { setText(el, ""); el.className = "timer-clock num"; return; }
  const v = timerView(tm, page.conn.now());
  el.className = "timer-clock num state-" + v.state + (v.paused ? " paused" : "");
  setText(el, v.text + (v.paused ? " · " + t("screen.timerPaused") : ""));
}
setInterval(renderTimerClock, 250);

export function timerToggle() {
  const tm = (S.stage && S.stage.timer) || {};
  return command({ action: "timer", op: tm.startedAt ? "pause" : "start" }, true);
}

// timerSet sets the time allowed from the field: a running timer keeps
// running with the new time; a stopped one starts over from it.
export function timerSet() {
  const input = $("[data-timer-input]");
  const secs = parseMinSec(input.value);
  if (!secs || isNaN(secs)) { showError(localError(t("control.badDuration"))); input.focus(); return null; }
  const tm = (S.stage && S.stage.timer) || {};
  return command({ action: "timer", op: tm.startedAt ? "start" : "reset", seconds: secs }, true).then(() => { input.value = ""; });
}

function commentOf(id) {
  const ev = S.full || S.ev;
  const c = ev && contestantIndex(ev)[id];
  return c ? c.c.comment || "" : "";
}

export function commentButton(id) {
  const text = commentOf(id);
  return h("button", { type: "button", class: "btn tiny" + (text ? " has-comment" : ""), "data-row-comment": id, title: text || null },
    t(text ? "control.commentEdit" : "control.commentAdd"));
}

// openComment edits the leader's comment on a contestant, read fresh from
// the server (another host may have written one).
export function openComment(id) {
  const d = $("[data-comment-dialog]");
  api("GET", evPath()).then((ev) => {
    S.full = ev;
    const c = contestantIndex(ev)[id];
    if (!c) return;
    setText($("[data-comment-name]"), c.c.name);
    setText($("[data-comment-theme]"), c.c.theme || "");
    const ta = $("[data-comment-text]");
    ta.value = c.c.comment || "";
    countComment();
    d.dataset.contestant = id;
    d.returnValue = "";
    if (typeof d.showModal === "function") d.showModal();
    else d.setAttribute("open", "");
    ta.focus();
  }).catch(showError);
}

function countComment() {
  const ta = $("[data-comment-text]");
  // One paragraph: line breaks (typed or pasted) become spaces.
  if (/[\r\n]/.test(ta.value)) ta.value = ta.value.replace(/\s*[\r\n]+\s*/g, " ");
  setText($("[data-comment-count]"), ta.value.length + " / 500");
}

function saveComment() {
  const d = $("[data-comment-dialog]");
  const id = d.dataset.contestant;
  const text = $("[data-comment-text]").value.trim();
  return api("PUT", evPath() + "/contestants/" + encodeURIComponent(id) + "/comment", { comment: text }).then((ev) => {
    S.full = ev;
    S.ev = ev;
    toast(t("control.commentSaved"), "ok");
    page.renderStandings();
  });
}

$("[data-comment-text]").addEventListener("input", countComment);
$("[data-comment-text]").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.isComposing) { e.preventDefault(); $("[data-comment-save]").click(); }
});
$("[data-comment-form]").addEventListener("submit", (e) => {
  const save_ = e.submitter && e.submitter.value === "ok";
  if (!save_) return; // the dialog closes itself
  e.preventDefault();
  const btn = $("[data-comment-save]");
  btn.disabled = true;
  saveComment().then(() => { $("[data-comment-dialog]").close("ok"); }, showError).then(() => { btn.disabled = false; });
});
