// The reveal (最终排名揭晓) as the host runs it: its steps, what the reveal
// button says and whether it asks first.
import { t } from "./i18n.js";
import { $, setText } from "./dom.js";
import { S, command, confirmBox, votingOpen } from "./control-page.js";

// revealPlaces are the steps of the reveal, best place first: one per place
// held by ranked contestants (a tie is one step), as voting.RevealSteps
// counts them. Contestants without ballots have no place.
export function revealPlaces() {
  const places = [];
  ((S.standings && S.standings.rows) || []).forEach((r) => {
    if (!(r.rank > 0)) return;
    const last = places[places.length - 1];
    if (last && last.rank === r.rank) last.n++;
    else places.push({ rank: r.rank, n: 1 });
  });
  return places;
}

// unscored counts the contestants without ballots.
export function unscored() {
  const has = {};
  ((S.standings && S.standings.rows) || []).forEach((r) => { if (r.ballots > 0) has[r.contestant] = true; });
  return S.ev.contestants.filter((c) => !has[c.id]).length;
}

// votingOver: voting is closed and every contestant has ballots. Until
// then the reveal is not the host's next step: its button stays plain and
// starting it asks first.
function votingOver() {
  const st = S.stage || {};
  return st.phase === "closed" && unscored() === 0;
}

export function renderRevealControls() {
  if (!S.ev || !S.stage) return;
  const st = S.stage;
  const reveal = st.phase === "reveal";
  const ended = st.phase === "ended";
  const places = revealPlaces();
  const steps = places.length;
  const btn = $("[data-cmd='reveal']");
  setText(btn, t(reveal ? "control.revealStep" : "control.revealStart"));
  btn.classList.toggle("gold", reveal || votingOver());
  btn.disabled = ended || !steps || (reveal && st.revealed >= steps);
  $("[data-cmd='unreveal']").disabled = !reveal || !st.revealed;
  let note = "";
  if (reveal || ended) {
    note = t("control.revealed", { n: ended ? steps : Math.min(st.revealed, steps), total: steps });
    const next = reveal && st.revealed < steps ? places[steps - st.revealed - 1] : null;
    if (next) note += " · " + t(next.n > 1 ? "control.revealNextTie" : "control.revealNext", { place: next.rank, n: next.n });
  } else if (!steps) {
    note = t("control.revealNothing");
  } else if (unscored()) {
    note = t("control.revealUnscored", { n: unscored() });
  }
  setText($("[data-revealed]"), note);
  renderSeasonButton(reveal && steps > 0 && st.revealed >= steps);
}

// renderSeasonButton: in a round of a series, once every place is shown,
// the host shows the season table (年度累计排名) on the screen, and hides it.
function renderSeasonButton(revealDone) {
  const st = S.stage;
  const btn = $("[data-cmd='season']");
  btn.hidden = !S.ev.series;
  if (btn.hidden) return;
  setText(btn, t(st.season ? "control.seasonHide" : "control.seasonShow"));
  btn.classList.toggle("gold", revealDone && !st.season);
  btn.disabled = st.phase === "ended" || !(st.season || revealDone);
}

// revealCommand takes the next reveal step. Starting the reveal before
// voting is over asks first, saying how many contestants have no ballots.
export function revealCommand() {
  const st = S.stage || {};
  if (st.phase === "reveal" || votingOver()) return command({ action: "reveal" }, true);
  const n = unscored();
  const detail = (votingOpen() ? t("control.revealConfirmOpen") : "") +
    (n ? t("control.revealConfirmUnscored", { n: n }) : t("control.revealConfirmAllScored"));
  return confirmBox(t("control.revealConfirm", { detail: detail })).then((ok) => ok && command({ action: "reveal" }, true));
}
