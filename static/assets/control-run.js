// The run panel (当前环节): who is on stage, the phase, turnout, the
// countdown, and the stage commands — voting, running order, countdown,
// timer, ranking, reveal, lobby and end — with what each may do now.
import { t } from "./i18n.js";
import { $, $$, h, setText } from "./dom.js";
import { fmtClock } from "./format.js";
import { contestantIndex } from "./event.js";
import { S, page, api, evPath, command, toast, showError, confirmBox, votingOpen } from "./control-page.js";
import { renderRevealControls, revealCommand } from "./control-reveal.js";
import { renderTimerControls, timerToggle, timerSet } from "./control-present.js";
import { lockSetup } from "./control-setup.js";

export function renderJump() {
  const sel = $("[data-jump]");
  const keep = sel.value;
  sel.textContent = "";
  S.ev.contestants.forEach((c, i) => {
    sel.appendChild(h("option", { value: c.id }, (i + 1) + ". " + c.name + (c.group ? "（" + c.group + "）" : "")));
  });
  if (keep) sel.value = keep;
}

export function renderRun() {
  if (!S.ev || !S.stage) return;
  const st = S.stage;
  const idx = contestantIndex(S.ev);
  const cur = st.current && idx[st.current];
  const onStage = cur && st.phase !== "lobby" && st.phase !== "reveal";
  setText($("[data-stage-name]"), onStage ? cur.c.name : st.phase === "reveal" || st.phase === "ended" ? t("phase." + st.phase) : t("control.nobody"));
  setText($("[data-stage-meta]"), onStage ? [cur.c.group, cur.c.presenter ? t("vote.presenter", { name: cur.c.presenter }) : "", t("common.nOfN", { n: cur.i + 1, total: S.ev.contestants.length })].filter(Boolean).join(" · ") : "");
  const theme = $("[data-stage-theme]");
  theme.hidden = !(onStage && cur.c.theme);
  setText(theme, onStage && cur.c.theme ? cur.c.theme : "");
  const badge = $("[data-phase]");
  const isOpen = votingOpen();
  badge.className = "phase-badge phase-" + (isOpen ? "voting" : st.phase === "voting" ? "closed" : st.phase);
  setText(badge, isOpen ? t("phase.voting") : st.phase === "voting" ? t("phase.closed") : t("phase." + st.phase));

  const ended = st.phase === "ended";
  const reveal = st.phase === "reveal";
  const all = S.ev.votingScope === "all";
  const n = S.ev.contestants.length;
  const tv = $("[data-cmd='toggle-voting']");
  setText(tv, isOpen || st.phase === "voting" ? t("control.close") + "（Space）" : t("control.open") + "（Space）");
  tv.classList.toggle("danger", st.phase === "voting");
  tv.classList.toggle("primary", st.phase !== "voting");
  tv.disabled = ended || reveal || !n || (st.phase !== "voting" && !all && !onStage);
  $("[data-cmd='previous']").disabled = ended || !onStage || (cur && cur.i === 0);
  $("[data-cmd='next']").disabled = ended || !n || (onStage && cur.i >= n - 1);
  $("[data-cmd='jump']").disabled = ended || !n;
  const sel = $("[data-jump]");
  sel.disabled = ended || !n;
  // The dropdown follows the stage (the host picks from there on); a pick
  // in progress stays until the stage moves.
  if (sel.__follows !== st.current) {
    sel.__follows = st.current;
    if (st.current && idx[st.current]) sel.value = st.current;
  }
  $$("[data-issue-form] button").forEach((b) => { b.disabled = ended; });
  lockSetup();
  $$("[data-cmd='countdown']").forEach((b) => {
    const s = Number(b.dataset.seconds);
    if (s) setText(b, t("control.seconds", { n: s }));
    b.disabled = ended || reveal || (s === 0 && !st.endsAt);
  });
  renderTimerControls(onStage && !ended);
  const rk = $("[data-cmd='toggle-ranking']");
  setText(rk, (st.rankingVisible ? t("control.hideRanking") : t("control.showRanking")) + "（H）");
  rk.disabled = ended;
  setText($("[data-ranking-state]"), st.rankingVisible ? t("control.rankingShown") : t("control.rankingHiddenNow"));
  renderRevealControls();
  $("[data-cmd='end']").disabled = ended;
  $("[data-cmd='lobby']").disabled = ended || st.phase === "lobby";
  renderTurnout();
  tick();
  // The current row of the standings follows the stage.
  $$("[data-standings-body] tr").forEach((tr) => tr.classList.toggle("current", tr.dataset.id === st.current && onStage));
}

export function renderTurnout() {
  const tu = S.turnout || { voters: 0, voted: 0 };
  const st = S.stage || {};
  const voted = tu.contestant && tu.contestant === st.current ? tu.voted : 0;
  setText($("[data-turnout]"), t("control.turnout", { voters: tu.voters || 0, voted: voted || 0 }));
}

function tick() {
  const st = S.stage;
  const el = $("[data-clock]");
  if (!st || !st.endsAt || st.phase === "ended" || st.phase === "reveal") { el.hidden = true; return; }
  const left = st.endsAt - page.conn.now();
  el.hidden = false;
  setText(el, t("control.countdownLeft", { t: fmtClock(left) }));
  el.classList.toggle("urgent", left <= 10000);
  if (left <= 0 && st.phase === "voting" && !el.__done) {
    el.__done = true;
    renderRun();
  } else if (left > 0) {
    el.__done = false;
  }
}
setInterval(tick, 250);

function toggleVoting() {
  const st = S.stage || {};
  command({ action: st.phase === "voting" ? "close" : "open" }, true);
}

function toggleRanking() {
  const st = S.stage || {};
  command({ action: "ranking", visible: !st.rankingVisible }, true);
}

// move puts another contestant on stage (next, previous, jump). That
// closes voting, so while voting is open it asks first, as the other
// destructive actions do; key, pressed again, confirms.
export function move(cmd, key) {
  if (!votingOpen()) return command(cmd, true);
  const idx = contestantIndex(S.ev);
  const cur = idx[S.stage.current];
  const to = cmd.action === "jump" ? idx[cmd.contestant] : null;
  const text = t("control.moveConfirm", { name: cur ? cur.c.name : "" }) +
    (cmd.action === "jump" ? t("control.moveConfirmJump", { name: to ? to.c.name : "" }) : t("control.moveConfirm." + cmd.action)) +
    (key ? t("control.moveConfirmKey." + cmd.action) : "");
  return confirmBox(text, key).then((ok) => ok && command(cmd, true));
}

export function runCmd(name, el, key) {
  switch (name) {
    case "toggle-voting": return toggleVoting();
    case "toggle-ranking": return toggleRanking();
    case "next": return move({ action: "next" }, key);
    case "previous": return move({ action: "previous" }, key);
    case "jump": return move({ action: "jump", contestant: $("[data-jump]").value });
    case "countdown": return command({ action: "countdown", seconds: Number(el.dataset.seconds) });
    case "reveal": return revealCommand();
    case "timer-toggle": return timerToggle();
    case "timer-reset": return command({ action: "timer", op: "reset" }, true);
    case "timer-set": return timerSet();
    case "unreveal": return command({ action: "unreveal" }, true);
    case "season": return command({ action: "season", visible: !(S.stage && S.stage.season) }, true);
    case "lobby":
      return confirmBox(t("control.lobbyConfirm")).then((ok) => ok && command({ action: "lobby" }, true));
    case "end":
      return confirmBox(t("control.endConfirm")).then((ok) => ok && command({ action: "end" }, true));
  }
  return null;
}

export function resetContestant(id) {
  const idx = contestantIndex(S.ev);
  const c = idx[id];
  const row = S.standings && (S.standings.rows || []).filter((r) => r.contestant === id)[0];
  confirmBox(t("control.resetConfirm", { name: c ? c.c.name : id, n: row ? row.ballots : 0 })).then((ok) => {
    if (!ok) return;
    api("POST", evPath() + "/contestants/" + encodeURIComponent(id) + "/reset", { confirm: id })
      .then((res) => toast(t("control.resetDone", { n: res.removed }), "ok"))
      .catch(showError);
  });
}
