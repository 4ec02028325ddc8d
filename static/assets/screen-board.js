// The live ranking on the big screen: one board per tab (overall, then each
// group when there are two or more), one <li> per contestant kept across
// updates, whose rows glide to their new places (FLIP) while their scores
// count up; the tabs rotate every ROTATE_MS unless one is pinned.
import { t } from "./i18n.js";
import { $, h, setText, tween } from "./dom.js";
import { contestantIndex, groupsOf } from "./event.js";

const ROTATE_MS = 12000; // each ranking tab stays this long
const MOVE_MS = 800;

let S = null; // the screen's state
let visible = () => true; // whether the audience may see the ranking now

// initBoards gives the boards the screen's state and its rule of when the
// ranking shows.
export function initBoards(state, rankingVisible) {
  S = state;
  visible = rankingVisible;
}

// tabCount is how many tabs there are (1: no tabs shown).
export function tabCount() { return tabs.length; }

// rebuildBoards makes the next render build the boards anew (the language
// changed).
export function rebuildBoards() { boardsKey = ""; }

// pinTab shows tab i and stops the rotation; unpin rotates again.
export function pinTab(i) {
  if (i >= tabs.length) return;
  pinned = true;
  showTab(i);
}

export function unpin() {
  pinned = false;
  showTab(activeTab);
}

// A Board is one ranked list (overall or one group) with one <li> per
// contestant, kept across updates and moved with FLIP.
class Board {
  constructor(group) {
    this.group = group;
    this.el = h("ol", { class: "board", "data-board": group || "*" });
    this.rows = new Map();
    this.prevRank = new Map();
  }

  update(animate) {
    const ev = S.ev;
    const idx = contestantIndex(ev);
    const sd = S.standings;
    let rows = sd && sd.rows ? sd.rows : ev.contestants.map((c) => ({ contestant: c.id, group: c.group, ballots: 0, final: 0, rank: 0, groupRank: 0 }));
    rows = rows.filter((r) => idx[r.contestant] && (!this.group || idx[r.contestant].c.group === this.group));
    const n = rows.length;
    const cols = n > 24 ? 3 : n > 8 ? 2 : 1;
    const per = Math.max(1, Math.ceil(n / cols));
    const slots = Math.max(8, per);
    this.el.style.gridTemplateRows = "repeat(" + per + ", calc((100% - " + (slots - 1) + " * var(--gap)) / " + slots + "))";
    this.el.style.gridTemplateColumns = "repeat(" + cols + ", minmax(0, 1fr))";
    this.el.classList.toggle("cols-1", cols === 1);

    const first = new Map();
    const shown = animate && this.el.offsetParent !== null && !document.hidden;
    if (shown) this.rows.forEach((li, id) => first.set(id, li.getBoundingClientRect()));

    const seen = {};
    const rules = ev.rules;
    rows.forEach((r) => {
      let li = this.rows.get(r.contestant);
      if (!li) {
        li = this.makeRow();
        this.rows.set(r.contestant, li);
      }
      seen[r.contestant] = true;
      this.fill(li, r, idx[r.contestant].c, rules);
    });
    this.rows.forEach((li, id) => {
      if (!seen[id]) {
        li.remove();
        this.rows.delete(id);
      }
    });
    rows.forEach((r, i) => {
      const li = this.rows.get(r.contestant);
      if (this.el.children[i] !== li) this.el.insertBefore(li, this.el.children[i] || null);
    });

    if (!first.size) return;
    const moved = [];
    this.rows.forEach((li, id) => {
      const a = first.get(id);
      if (!a) return;
      const b = li.getBoundingClientRect();
      const dx = a.left - b.left;
      const dy = a.top - b.top;
      if (Math.abs(dx) < 1 && Math.abs(dy) < 1) return;
      li.style.transition = "none";
      li.style.transform = "translate(" + dx + "px," + dy + "px)";
      li.classList.add("moving");
      moved.push(li);
    });
    if (!moved.length) return;
    void this.el.offsetWidth; // apply the inverted positions before playing
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

  makeRow() {
    const li = h("li", { class: "row" });
    li.innerHTML = '<span class="gauge"></span><span class="rank num"></span>' +
      '<span class="who"><span class="name"></span><span class="sub"></span></span>' +
      '<span class="score num"></span>';
    return li;
  }

  fill(li, r, c, rules) {
    li.dataset.id = r.contestant;
    const ranked = r.ballots > 0 && r.rank > 0;
    const rank = this.group ? r.groupRank : r.rank;
    li.className = "row" + (ranked && rank <= 3 ? " top top" + rank : "") + (ranked ? "" : " unranked") +
      (S.stage && S.stage.current === r.contestant && S.stage.phase !== "lobby" ? " current" : "") +
      (li.classList.contains("moving") ? " moving" : "");
    const prev = this.prevRank.get(r.contestant);
    if (ranked && prev && rank < prev) {
      li.classList.add("rose");
      clearTimeout(li.__rose);
      li.__rose = setTimeout(() => li.classList.remove("rose"), 2200);
    }
    this.prevRank.set(r.contestant, ranked ? rank : 0);
    // Without ballots there is no place (没有选票的参赛单位不排名): no
    // number, no score, "未评分" instead.
    setText(li.querySelector(".rank"), ranked ? String(rank) : "");
    setText(li.querySelector(".name"), c.name);
    const sub = [];
    if (!this.group && c.group) sub.push(c.group);
    if (ranked) sub.push(t("screen.ballots", { n: r.ballots }));
    setText(li.querySelector(".sub"), sub.join(" · "));
    const score = li.querySelector(".score");
    if (ranked) tween(score, r.final, S.ev.rules.decimals, 900);
    else {
      if (score.__raf) cancelAnimationFrame(score.__raf);
      score.__raf = 0;
      score.__value = null;
      setText(score, t("screen.notScored"));
    }
    const span = rules.max - rules.min;
    const pct = ranked && span > 0 ? Math.max(2, Math.min(100, ((r.final - rules.min) / span) * 100)) : 0;
    li.querySelector(".gauge").style.width = pct + "%";
  }
}

let boardsKey = "";
let boards = [];
let tabs = [];
let activeTab = 0;
let pinned = false;
let rotateTimer = 0;

export function renderBoards(animate) {
  const groups = groupsOf(S.ev);
  const key = JSON.stringify(groups) + "|" + S.ev.contestants.length;
  if (key !== boardsKey) {
    boardsKey = key;
    const box = $("[data-boards]");
    box.textContent = "";
    boards = [new Board("")];
    if (groups.length >= 2) groups.forEach((g) => boards.push(new Board(g)));
    boards.forEach((b) => box.appendChild(b.el));
    const nav = $("[data-tabs]");
    nav.textContent = "";
    tabs = boards.map((b, i) => {
      const btn = h("button", { type: "button", class: "tab", "data-tab": String(i) }, b.group || t("screen.overall"));
      btn.appendChild(h("i", { class: "tab-progress" }));
      btn.addEventListener("click", () => { pinned = false; showTab(i); });
      nav.appendChild(btn);
      return btn;
    });
    activeTab = Math.min(activeTab, boards.length - 1);
    showTab(activeTab);
    animate = false;
  }
  boards.forEach((b, i) => b.update(animate && i === activeTab));
  $("[data-tabs]").hidden = tabs.length < 2 || !visible();
}

export function showTab(i) {
  activeTab = i;
  boards.forEach((b, j) => { b.el.hidden = j !== i; });
  tabs.forEach((btn, j) => {
    btn.classList.toggle("active", j === i);
    btn.setAttribute("aria-pressed", j === i ? "true" : "false");
    const p = btn.querySelector(".tab-progress");
    p.style.animation = "none";
    if (j === i && !pinned && tabs.length > 1) {
      void p.offsetWidth;
      p.style.animation = "tabprogress " + ROTATE_MS + "ms linear forwards";
    }
  });
  if (S.ev && S.mode === "live") boards[i].update(false);
  clearTimeout(rotateTimer);
  if (!pinned && tabs.length > 1) rotateTimer = setTimeout(() => showTab((activeTab + 1) % tabs.length), ROTATE_MS);
}
