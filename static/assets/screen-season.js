// The season table on the big screen (年度累计排名): after a round's
// reveal the host shows it (stage.season). It reads the table up to this
// round (GET /api/events/{event}/season) and plays this round's movement
// with the live ranking's animation: the rows stand in the order of the
// table before this round, then glide (FLIP) to their new places while
// the combined scores count up and the arrows show who rose and fell.
import { t } from "./i18n.js";
import { $, h, setText, tween } from "./dom.js";
import { request, eventPath } from "./api.js";
import { fmtScore } from "./format.js";

const MOVE_MS = 1200;
const HOLD_MS = 900; // the old order stays this long before it moves

let S = null; // the screen's state
let eventId = "";
let season = null; // the last table read
let shownFor = ""; // the stage version the table was read for
let rows = new Map(); // contestant → its <li>
let timer = 0;

export function initSeason(state, event) {
  S = state;
  eventId = event;
}

// rebuildSeason draws the table again without the movement (the language
// changed).
export function rebuildSeason() {
  if (season) draw(season, false);
}

// renderSeason reads the table when the screen enters the season mode (or
// the stage changed while in it) and plays the movement.
export function renderSeason() {
  const key = String(S.stage ? S.stage.version : 0);
  if (key === shownFor) return;
  shownFor = key;
  request("GET", eventPath(eventId) + "/season").then((s) => {
    season = s;
    draw(s, true);
  }, (e) => {
    shownFor = ""; // try again with the next stage or snapshot
    setText($("[data-season-sub]"), e.message || "");
  });
}

function head(s) {
  const last = s.rounds.length ? s.rounds[s.rounds.length - 1] : null;
  setText($("[data-season-title]"), t("screen.seasonTitle"));
  const sub = [s.name];
  if (last) sub.push(t("screen.seasonAfter", { round: last.name, n: last.round }));
  sub.push(t("screen.seasonRule." + s.rule));
  setText($("[data-season-sub]"), sub.join(" · "));
}

// draw lays the table out; with play, first in the old order and then,
// after a moment, in the new one with FLIP.
function draw(s, play) {
  clearTimeout(timer);
  head(s);
  const list = $("[data-season-list]");
  const n = s.rows.length;
  const cols = n > 24 ? 3 : n > 8 ? 2 : 1;
  const per = Math.max(1, Math.ceil(n / cols));
  const slots = Math.max(8, per);
  list.style.gridTemplateRows = "repeat(" + per + ", calc((100% - " + (slots - 1) + " * var(--gap)) / " + slots + "))";
  list.style.gridTemplateColumns = "repeat(" + cols + ", minmax(0, 1fr))";
  list.textContent = "";
  rows = new Map();
  const moving = play && s.rounds.length > 1;
  const before = moving ? oldOrder(s) : s.rows;
  before.forEach((r) => {
    const li = makeRow();
    rows.set(r.contestant, li);
    list.appendChild(li);
    fill(li, r, s, moving ? "before" : "after");
  });
  if (moving) timer = setTimeout(() => move(s), HOLD_MS);
}

// oldOrder is the table before this round: ranked by the old rank, then
// the units that had none, in this table's order.
function oldOrder(s) {
  const at = new Map(s.rows.map((r, i) => [r.contestant, i]));
  return s.rows.slice().sort((a, b) => {
    const pa = a.prevRank || 1e9;
    const pb = b.prevRank || 1e9;
    return pa !== pb ? pa - pb : at.get(a.contestant) - at.get(b.contestant);
  });
}

function move(s) {
  const list = $("[data-season-list]");
  const first = new Map();
  const shown = list.offsetParent !== null && !document.hidden;
  if (shown) rows.forEach((li, id) => first.set(id, li.getBoundingClientRect()));
  s.rows.forEach((r, i) => {
    const li = rows.get(r.contestant);
    fill(li, r, s, "after");
    if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null);
  });
  if (!shown) return;
  const moved = [];
  rows.forEach((li, id) => {
    const a = first.get(id);
    const b = li.getBoundingClientRect();
    const dx = a.left - b.left;
    const dy = a.top - b.top;
    if (Math.abs(dx) < 1 && Math.abs(dy) < 1) return;
    li.style.transition = "none";
    li.style.transform = "translate(" + dx + "px," + dy + "px)";
    li.classList.add("moving");
    moved.push(li);
  });
  void list.offsetWidth; // apply the inverted positions before playing
  moved.forEach((li) => {
    li.style.transition = "transform " + MOVE_MS + "ms cubic-bezier(.2,.75,.25,1)";
    li.style.transform = "";
    const done = () => {
      li.classList.remove("moving");
      li.style.transition = "";
      li.removeEventListener("transitionend", done);
    };
    li.addEventListener("transitionend", done);
    setTimeout(done, MOVE_MS + 100);
  });
}

function makeRow() {
  const li = h("li", { class: "row srow" });
  li.innerHTML = '<span class="gauge"></span><span class="rank num"></span>' +
    '<span class="who"><span class="name"></span><span class="sub"></span></span>' +
    '<span class="move num"></span><span class="score num"></span>';
  return li;
}

// fill shows a row as it stood before this round (when "before") or as it
// stands now, with its movement.
function fill(li, r, s, when) {
  const now = when === "after";
  const rank = now ? r.rank : r.prevRank;
  const ranked = rank > 0;
  li.dataset.id = r.contestant;
  li.className = "row srow" + (ranked && rank <= 3 ? " top top" + rank : "") + (ranked ? "" : " unranked") +
    (li.classList.contains("moving") ? " moving" : "");
  setText(li.querySelector(".rank"), ranked ? String(rank) : "");
  setText(li.querySelector(".name"), r.name);
  const sub = [];
  if (r.group) sub.push(now && r.groupRank ? r.group + " " + t("screen.groupRank", { n: r.groupRank }) : r.group);
  const f = r.finals[r.finals.length - 1];
  if (s.rounds.length > 1) sub.push(f && f.played ? t("screen.seasonThisRound", { score: fmtScore(f.final, s.decimals) }) : t("screen.seasonMissed"));
  setText(li.querySelector(".sub"), sub.join(" · "));
  const mv = li.querySelector(".move");
  const m = now ? moveOf(r, s) : { text: "", cls: "" };
  setText(mv, m.text);
  mv.className = "move num" + (m.cls ? " " + m.cls : "");
  const score = li.querySelector(".score");
  const value = now ? r.combined : r.prevCombined;
  if (ranked && r.played > 0) tween(score, value, s.decimals, MOVE_MS);
  else {
    if (score.__raf) cancelAnimationFrame(score.__raf);
    score.__raf = 0;
    score.__value = null;
    setText(score, now ? t("screen.notScored") : "");
  }
  const top = s.rows.length && s.rows[0].combined > 0 ? s.rows[0].combined : 1;
  li.querySelector(".gauge").style.width = ranked ? Math.max(2, Math.min(100, (value / top) * 100)) + "%" : "0";
}

// moveOf is a row's movement as the screen shows it: ↑2 (rose two
// places), ↓1, – (kept its place), 新 (ranked for the first time).
function moveOf(r, s) {
  if (s.rounds.length < 2 || !r.rank) return { text: "", cls: "" };
  if (!r.prevRank) return { text: t("screen.seasonNew"), cls: "new" };
  if (r.move > 0) return { text: "▲" + r.move, cls: "up" };
  if (r.move < 0) return { text: "▼" + -r.move, cls: "down" };
  return { text: "–", cls: "same" };
}
