import type { IncomingMessage } from 'node:http';
import { sameSecret } from '../util/node-crypto.js';
import { NonceLedger, verifySigned } from './signed-request.js';

/**
 * Whether a request carries the API's token: as a bearer, or as a read signed with it by another node
 * (signed-request.ts), which proves the token without sending it. One answer per request (a signature's
 * nonce is good once, and admission and a route may both ask), and why a signed request was refused, for
 * the 401's message.
 */
export class ApiAuth {
  private readonly nonces = new NonceLedger();
  private readonly checked = new WeakMap<IncomingMessage, boolean>();
  private readonly refused = new WeakMap<IncomingMessage, string>();

  constructor(
    private token: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** The token from now on (the token file changed); signatures made with the old one no longer pass. */
  setToken(token: string): void {
    this.token = token;
  }

  presented(req: IncomingMessage): boolean {
    const known = this.checked.get(req);
    if (known !== undefined) return known;
    const ok = this.check(req);
    this.checked.set(req, ok);
    return ok;
  }

  /** Why the request's signature was refused; undefined when it had none, or a good one. */
  signedRefusal(req: IncomingMessage): string | undefined {
    return this.refused.get(req);
  }

  private check(req: IncomingMessage): boolean {
    const header = req.headers.authorization;
    const signed = verifySigned(
      header,
      { method: req.method ?? 'GET', target: req.url ?? '/', host: req.headers.host ?? '' },
      this.token,
      this.now(),
      this.nonces,
    );
    if (signed) {
      if (!signed.ok) this.refused.set(req, signed.reason);
      return signed.ok;
    }
    const given = Buffer.from(/^Bearer (.+)$/i.exec(header ?? '')?.[1] ?? '');
    const want = Buffer.from(this.token);
    return sameSecret(given, want);
  }
}
