import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent, RequestOptions } from 'node:https';
import { isIP } from 'node:net';
import { http, https } from '../util/node-http.js';
import { readSmallFile } from '../util/small-file.js';

/** The one upstream the guard forwards to (EXO's API), over http or https. */
export interface Upstream {
  url: URL;
  agent: HttpAgent | HttpsAgent;
}

/** A CA bundle is a few hundred KiB (the system's ~220 KiB); anything far larger is not one. */
const MAX_CA_BYTES = 4 * 1024 * 1024;

/**
 * Node's bundled roots, plus the system's bundle where there is one, plus an optional extra CA file. Read as
 * small regular files: `guard.upstreamCaFile` naming a FIFO or /dev/zero would else hold the start-up or
 * grow the heap until the process died.
 */
function trustedCAs(extra: string | null): string[] {
  // TLS is loaded only for an https upstream with its own CA file (node-http.ts says why).
  const cas = [...process.getBuiltinModule('node:tls').rootCertificates];
  for (const f of ['/etc/ssl/cert.pem', '/etc/ssl/certs/ca-certificates.crt']) {
    const read = readSmallFile(f, MAX_CA_BYTES);
    if (read.ok) {
      cas.push(read.text);
      break;
    }
  }
  if (extra) {
    const read = readSmallFile(extra, MAX_CA_BYTES);
    if (!read.ok) throw new Error(`guard.upstreamCaFile "${extra}": ${read.message}`);
    cas.push(read.text);
  }
  return cas;
}

/** Throws (at start-up, with the URL in the message) for anything but an http or https URL. */
export function createUpstream(upstreamUrl: string, caFile: string | null): Upstream {
  let url: URL;
  try {
    url = new URL(upstreamUrl);
  } catch {
    throw new Error(`EXO's URL "${upstreamUrl}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`EXO's URL "${upstreamUrl}" must be http:// or https://`);
  // No pool limit: client connections are bounded (guard.maxConnections), and a full pool would make every
  // request, EXO's cancel calls included, wait for a socket with no answer and no timeout.
  const options = { keepAlive: true, maxSockets: Number.POSITIVE_INFINITY };
  return {
    url,
    agent:
      url.protocol === 'https:'
        ? new (https().Agent)({ ...options, ca: trustedCAs(caFile) })
        : new http.Agent(options),
  };
}

/** Request options for a path on the upstream (SNI from the URL's host name for https; never an IP: RFC 6066). */
export function upstreamOptions(
  u: Upstream,
  method: string,
  path: string,
  headers?: string[],
): RequestOptions {
  const https = u.url.protocol === 'https:';
  return {
    protocol: u.url.protocol,
    hostname: u.url.hostname.replace(/^\[|\]$/g, ''),
    port: u.url.port || (https ? 443 : 80),
    servername: https && isIP(u.url.hostname.replace(/^\[|\]$/g, '')) === 0 ? u.url.hostname : undefined,
    method,
    path,
    headers,
    agent: u.agent,
  };
}

export const upstreamRequest = (u: Upstream, options: RequestOptions) =>
  u.url.protocol === 'https:' ? https().request(options) : http.request(options);

/**
 * How long EXO gets to answer a cancel. EXO answers it at once (it closes the request's local stream and
 * queues one command), so a node silent for seconds is hung; without a limit every cancel sent to a hung
 * node held its connection, and a socket, open for as long as the node stayed hung.
 */
export const CANCEL_TIMEOUT_MS = 5_000;

/**
 * EXO's own cancel lever, `POST /v1/cancel/{command_id}` (it works on the node whose API took the request).
 * Sent once, never retried (a POST); given up after `timeoutMs`, its connection closed. `onFailed` hears of
 * a cancel that timed out, could not be sent or was refused; a 404 is not a failure (the command had ended).
 */
export function cancelInExo(
  u: Upstream,
  commandId: string,
  onFailed: (reason: string) => void = () => {},
  timeoutMs = CANCEL_TIMEOUT_MS,
): void {
  const r = upstreamRequest(u, upstreamOptions(u, 'POST', `/v1/cancel/${encodeURIComponent(commandId)}`));
  let settled = false;
  const settle = (failure: string | null): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    if (failure !== null) onFailed(failure);
  };
  const timer = setTimeout(() => {
    settle(`EXO did not answer within ${timeoutMs / 1000} s`);
    r.destroy();
  }, timeoutMs);
  timer.unref();
  r.on('error', (e: NodeJS.ErrnoException) => settle(`EXO did not answer: ${e.code ?? e.message}`));
  r.on('response', (x) => {
    const code = x.statusCode ?? 0;
    const failure = code >= 300 && code !== 404 ? `EXO answered ${code}` : null;
    x.on('error', () => settle(`EXO's answer was cut short`));
    x.on('end', () => settle(failure));
    x.resume();
  });
  r.end();
}
