// Lookups in an event as the server sends it (docs/protocol.md, Event).

// contestantIndex returns a map id → {c, i} for an event.
export function contestantIndex(ev) {
  const m = {};
  const cs = (ev && ev.contestants) || [];
  for (let i = 0; i < cs.length; i++) m[cs[i].id] = { c: cs[i], i: i };
  return m;
}

// groupsOf lists the groups of an event in order of first appearance.
export function groupsOf(ev) {
  const seen = {};
  const out = [];
  const cs = (ev && ev.contestants) || [];
  for (let i = 0; i < cs.length; i++) {
    const g = cs[i].group;
    if (g && !seen[g]) { seen[g] = true; out.push(g); }
  }
  return out;
}
