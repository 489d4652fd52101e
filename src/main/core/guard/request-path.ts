/**
 * The request target as EXO's server routes it. EXO runs FastAPI (Starlette) on hypercorn, which routes on the
 * percent-decoded path: `/v1/chat/completion%73` reaches the chat handler. The guard must judge exactly the
 * path EXO will route, so it decodes first, resolves dot segments and duplicate slashes, and forwards the
 * canonical form it judged (re-encoded), never the client's spelling. Encodings that change the path's
 * structure once decoded (an encoded `/` or `\`, control characters, malformed escapes, invalid UTF-8) are
 * ambiguous and refused.
 */
export type PathResult =
  | {
      ok: true;
      /** Decoded, dot segments and duplicate slashes resolved: what the gate looks up. */
      path: string;
      /** The decoded path re-encoded, with the client's query string: what is forwarded upstream. */
      target: string;
    }
  | { ok: false; message: string };

const MAX_TARGET_BYTES = 8192;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Characters a path segment may carry unencoded (RFC 3986 pchar), beyond the unreserved ones. */
const encodeSegment = (s: string): string =>
  encodeURIComponent(s).replace(/%(3A|40|21|24|26|27|28|29|2A|2B|2C|3B|3D)/gi, (_m, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );

function percentDecode(raw: string): { ok: true; text: string } | { ok: false; message: string } {
  if (!raw.includes('%')) return { ok: true, text: raw };
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c !== 37) {
      // The target is ASCII (Node's parser refuses anything else), so each char is one byte.
      bytes.push(c);
      continue;
    }
    const hex = raw.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex))
      return { ok: false, message: `malformed percent-encoding "${raw.slice(i, i + 3)}" at offset ${i}` };
    const b = Number.parseInt(hex, 16);
    if (b === 0x2f || b === 0x5c)
      return {
        ok: false,
        message: `an encoded "${b === 0x2f ? '/' : '\\'}" (%${hex}) at offset ${i} makes the path ambiguous`,
      };
    if (b < 0x20 || b === 0x7f)
      return { ok: false, message: `an encoded control character (%${hex}) at offset ${i}` };
    bytes.push(b);
    i += 2;
  }
  try {
    return { ok: true, text: utf8.decode(Uint8Array.from(bytes)) };
  } catch {
    return { ok: false, message: 'the decoded path is not valid UTF-8' };
  }
}

/** Parses a request target (origin-form only: `/path?query`). */
export function canonicalTarget(rawTarget: string): PathResult {
  if (rawTarget.length > MAX_TARGET_BYTES)
    return { ok: false, message: `the request target is longer than ${MAX_TARGET_BYTES} bytes` };
  if (!rawTarget.startsWith('/'))
    return {
      ok: false,
      message: 'only origin-form targets ("/path") are accepted; absolute URLs are refused',
    };
  if (rawTarget.includes('#')) return { ok: false, message: 'a fragment ("#") is not allowed in a request' };
  const q = rawTarget.indexOf('?');
  const rawPath = q < 0 ? rawTarget : rawTarget.slice(0, q);
  const query = q < 0 ? '' : rawTarget.slice(q);
  if (rawPath.includes('\\')) return { ok: false, message: 'a "\\" in the path is ambiguous' };
  const decoded = percentDecode(rawPath);
  if (!decoded.ok) return decoded;
  const out: string[] = [];
  const segments = decoded.text.split('/').slice(1);
  for (const [i, seg] of segments.entries()) {
    const last = i === segments.length - 1;
    if (seg === '..') out.pop();
    else if (seg === '.' || (seg === '' && !last)) continue;
    else out.push(seg);
  }
  const path = `/${out.join('/')}`;
  return { ok: true, path, target: `/${out.map(encodeSegment).join('/')}${query}` };
}

/**
 * The route key: the canonical path without a trailing slash. EXO answers `POST /x/` with 405 (its dashboard's
 * mount at `/` takes every path before Starlette's slash redirect), so judging it as `/x` only ever refuses,
 * or briefly holds a place for, what EXO refuses too; never the other way round.
 */
export const routeKey = (path: string): string =>
  path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
