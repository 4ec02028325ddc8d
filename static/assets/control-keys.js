// The run view's keys: Space opens or closes voting, → next, ← previous,
// T the presentation timer, R the reveal, H the ranking; never while
// typing in a field or with a dialog open.
import { $ } from "./dom.js";
import { S } from "./control-page.js";
import { runCmd } from "./control-run.js";

export function wireKeys() {
  document.addEventListener("keydown", (e) => {
    if (S.view !== "run" || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    const tg = e.target;
    const tag = tg && tg.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (tg && tg.isContentEditable)) return;
    if ($("[data-confirm]").open) return;
    let name = "";
    if (e.key === " " || e.code === "Space") name = "toggle-voting";
    else if (e.key === "ArrowRight") name = "next";
    else if (e.key === "ArrowLeft") name = "previous";
    else if (e.key === "r" || e.key === "R") name = "reveal";
    else if (e.key === "h" || e.key === "H") name = "toggle-ranking";
    else if (e.key === "t" || e.key === "T") name = "timer-toggle";
    if (!name) return;
    e.preventDefault();
    // A focused button would also take the Space as a click on key up.
    if (tag === "BUTTON" || tag === "A") tg.blur();
    const btn = $("[data-cmd='" + name + "']");
    if (btn && btn.disabled) return;
    runCmd(name, btn, e.key);
  });
}
