// The warning that phones cannot open the vote link, with the fix: the
// server puts why (its public URL is loopback, link-local, …) in the body's
// data-public-problem and the start option that fixes it in
// data-public-fix; the control page and the screen's QR code show it.
import { t } from "./i18n.js";

const LOCAL = /^(localhost|.+\.localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

// reachWarning says, in the page's language, why phones cannot open the
// vote link and what to do, as [before, fix, after] around the start option
// that fixes it (fix "" when none is known); null when phones can open it.
// short is for the screen.
export function reachWarning(short) {
  const d = document.body.dataset;
  const problem = d.publicProblem || "";
  if (!problem) return null;
  let host = d.voteUrl || "";
  try { host = new URL(d.voteUrl).hostname; } catch (e) { /* keep the link */ }
  let fix = d.publicFix || "";
  // A page opened at another address than this machine's own shows one
  // that phones on the same network may reach.
  if (!fix && !LOCAL.test(window.location.hostname)) fix = "--public-url " + window.location.origin;
  const why = t((short ? "reach.short." : "reach.") + problem, { host: host });
  if (!fix) return [why + t(short ? "reach.short.fixNone" : "reach.fixNone"), "", ""];
  const parts = t(short ? "reach.short.fix" : "reach.fix", { fix: "\u0000" }).split("\u0000");
  return [why + parts[0], fix, parts.slice(1).join("")];
}

// showReachWarning fills every [data-reach-warning] of the page, the fix
// set apart as code; hidden when phones can open the link.
export function showReachWarning(short) {
  const w = reachWarning(short);
  document.querySelectorAll("[data-reach-warning]").forEach((el) => {
    el.textContent = "";
    el.hidden = !w;
    if (!w) return;
    el.appendChild(document.createTextNode(w[0]));
    if (w[1]) {
      const code = document.createElement("code");
      code.textContent = w[1];
      el.appendChild(code);
    }
    el.appendChild(document.createTextNode(w[2]));
  });
}
