// Ids the pages make themselves: a ballot's id, so that a retried ballot
// counts once.

// uuid returns a random RFC 4122 version 4 UUID. crypto.randomUUID exists
// only on secure (https) pages; halls often serve plain http on the LAN.
export function uuid() {
  const c = window.crypto || window.msCrypto;
  if (c && typeof c.randomUUID === "function") {
    try { return c.randomUUID(); } catch (e) { /* not a secure context */ }
  }
  const b = new Uint8Array(16);
  if (c && c.getRandomValues) c.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [];
  for (let i = 0; i < 16; i++) hex.push((b[i] + 0x100).toString(16).slice(1));
  return hex.slice(0, 4).join("") + "-" + hex.slice(4, 6).join("") + "-" + hex.slice(6, 8).join("") + "-" +
    hex.slice(8, 10).join("") + "-" + hex.slice(10).join("");
}
