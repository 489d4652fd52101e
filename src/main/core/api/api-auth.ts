import type { IncomingMessage } from 'node:http';
import { sameSecret } from '../util/node-crypto.js';
import { portOf } from './request-origin.js';
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
    /** The port this API listens on (null before it does): a signed read must have been made for it. */
    private readonly port: () => number | null = () => null,
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
      if (!signed.ok) {
        this.refused.set(req, signed.reason);
        return false;
      }
      // The signature covers the Host header, but loopback names pass the Host check on any port: a read a
      // node signed for a peer at 127.0.0.1:PORT must not open another node on this machine.
      const port = this.port();
      const host = req.headers.host ?? '';
      if (port !== null && portOf(host) !== port) {
        this.refused.set(req, `signed for ${host.slice(0, 100)}, not for this node's port ${port}`);
        return false;
      }
      return true;
    }
    const given = Buffer.from(/^Bearer (.+)$/i.exec(header ?? '')?.[1] ?? '');
    const want = Buffer.from(this.token);
    return sameSecret(given, want);
  }
}
