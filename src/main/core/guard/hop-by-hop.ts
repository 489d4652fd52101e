/**
 * Hop-by-hop headers belong to one connection, not to the message (RFC 9110 §7.6.1): the fixed set, plus every
 * header the `Connection` header names. `Expect` is answered by the guard itself (Node sends `100 Continue`),
 * and the framing headers are the guard's to set for the next hop, so they never pass either.
 */
const ALWAYS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'proxy-authenticate',
  'proxy-authorization',
  'expect',
  'http2-settings',
]);

/** Raw headers (name, value, name, value…) minus the hop-by-hop ones and any in `extraDrop`. */
export function endToEndHeaders(raw: readonly string[], extraDrop: readonly string[] = []): string[] {
  const drop = new Set([...ALWAYS, ...extraDrop]);
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'connection') continue;
    for (const token of raw[i + 1]!.split(',')) {
      const t = token.trim().toLowerCase();
      // Host is never hop-by-hop: dropping it would make the next hop refuse the request.
      if (t && t !== 'host') drop.add(t);
    }
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2)
    if (!drop.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  return out;
}
