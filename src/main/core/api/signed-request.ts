import { nodeCrypto, randomBytesFromOs, sameSecret } from '../util/node-crypto.js';

/**
 * Signed requests between cluster nodes: a node proves it holds the cluster token without sending it.
 *
 * A bearer token sent to every address EXO's topology lists reaches whoever answers there: any machine that
 * joins the EXO cluster on the LAN, or anything listening on the port while the real node is down, and
 * anyone reading plain http on the way. A signature of the request with the token (HMAC-SHA256 over the
 * method, the path with its query, the Host header, the time and a one-off nonce) lets the peer check the
 * token without it ever leaving this machine. What a fake peer learns is one signature for one request: it
 * is refused on any other method, path or host, after the time window, and a second time within it.
 *
 * Only reads (GET, HEAD) are taken signed: the body is not signed, so a write still needs the token itself.
 */
export const SIGNED_SCHEME = 'ExoSentinel-HMAC-SHA256';
/** What a 401 offers: the bearer, and signed reads (a node that offers no signing is an older version). */
export const AUTH_CHALLENGE = `Bearer, ${SIGNED_SCHEME}`;
/** How far a signed request's time may be from this machine's clock (clocks of a LAN cluster agree well). */
export const SIGNED_WINDOW_MS = 120_000;
/**
 * Nonces remembered at once (each for the window). Only a request that carries a valid signature is
 * remembered, so filling this needs the token; when it is full, signed requests are refused, not forgotten.
 */
export const MAX_NONCES = 20_000;

const HEADER = /^ExoSentinel-HMAC-SHA256 t=(\d{1,15}), n=([0-9a-f]{32}), s=([0-9a-f]{64})$/;

export interface SignedTarget {
  method: string;
  /** The request target as sent: the path and its query (`req.url`). */
  target: string;
  /** The Host header as sent. */
  host: string;
}

function mac(token: string, what: SignedTarget, time: string, nonce: string): Buffer {
  return nodeCrypto()
    .createHmac('sha256', token)
    .update(`${what.method.toUpperCase()}\n${what.target}\n${what.host}\n${time}\n${nonce}`)
    .digest();
}

/** The Authorization header value for one request. */
export function signRequest(token: string, what: SignedTarget, now: number): string {
  const time = String(Math.floor(now));
  const nonce = randomBytesFromOs(16).toString('hex');
  return `${SIGNED_SCHEME} t=${time}, n=${nonce}, s=${mac(token, what, time, nonce).toString('hex')}`;
}

/** Nonces of accepted signed requests, each kept until its request's time leaves the window. */
export class NonceLedger {
  private readonly until = new Map<string, number>();

  constructor(private readonly capacity = MAX_NONCES) {}

  get size(): number {
    return this.until.size;
  }

  /** Records the nonce; false when it was seen already or no room is left. */
  take(nonce: string, expires: number, now: number): boolean {
    this.prune(now);
    if (this.until.has(nonce) || this.until.size >= this.capacity) return false;
    this.until.set(nonce, expires);
    return true;
  }

  private prune(now: number): void {
    // Insertion order follows arrival; an entry whose time was early may outlive later ones by at most the
    // window, which only keeps it a little longer.
    for (const [nonce, expires] of this.until) {
      if (expires > now) break;
      this.until.delete(nonce);
    }
  }
}

export type SignedCheck = { ok: true } | { ok: false; reason: string };

/**
 * Checks a signed Authorization header; null when the header is not of this scheme (try the bearer). The
 * signature is checked before the nonce is remembered, so nobody without the token can fill the ledger.
 */
export function verifySigned(
  header: string | undefined,
  what: SignedTarget,
  token: string,
  now: number,
  nonces: NonceLedger,
): SignedCheck | null {
  if (!header?.startsWith(`${SIGNED_SCHEME} `)) return null;
  const m = HEADER.exec(header);
  if (!m) return { ok: false, reason: `malformed ${SIGNED_SCHEME} header` };
  const [, time, nonce, sig] = m as unknown as [string, string, string, string];
  const method = what.method.toUpperCase();
  if (method !== 'GET' && method !== 'HEAD')
    return { ok: false, reason: `a signed request may only read (GET, HEAD), not ${method}` };
  const skew = Number(time) - now;
  if (Math.abs(skew) > SIGNED_WINDOW_MS)
    return {
      ok: false,
      reason: `signed ${Math.round(Math.abs(skew) / 1000)} s ${skew < 0 ? 'ago' : 'ahead'}; clocks must agree within ${SIGNED_WINDOW_MS / 1000} s`,
    };
  const given = Buffer.from(sig, 'hex');
  const want = mac(token, what, time, nonce);
  if (!sameSecret(given, want))
    return { ok: false, reason: 'wrong signature (another cluster token, or signed for another host?)' };
  if (!nonces.take(nonce, Number(time) + SIGNED_WINDOW_MS, now))
    return { ok: false, reason: 'signed request replayed (nonce already used), or too many at once' };
  return { ok: true };
}
