/**
 * The fake EXO as its own process (for end-to-end tests and the guard benchmark):
 *   node --import tsx test/support/fake-exo-main.ts [--port N] [--log FILE] [--token-ms MS] [--prefill-tps N]
 *     [--max-gen N] [--bytes-per-token N] [--tls-key FILE --tls-cert FILE]
 * It prints `fake-exo listening <url>` when ready. Test-only control paths under /__fake/ let the test
 * drive it: GET requests | cancelled | bulk | response/<commandId> | timing/<commandId>; POST mode/<mode>, log (body = message).
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFakeExo } from './fake-exo-server.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

const fake = await startFakeExo({
  port: Number(arg('--port') ?? 0),
  logPath: arg('--log') ?? null,
  tokenIntervalMs: Number(arg('--token-ms') ?? 20),
  prefillTokensPerSecond: Number(arg('--prefill-tps') ?? 20_000),
  bytesPerToken: Number(arg('--bytes-per-token') ?? 64 * 1024),
  maxGeneratedTokens: Number(arg('--max-gen') ?? 8),
  tls: arg('--tls-key')
    ? { key: readFileSync(arg('--tls-key')!, 'utf8'), cert: readFileSync(arg('--tls-cert')!, 'utf8') }
    : null,
});

// The control surface listens on its own port so it never mixes with EXO's API.
const control = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const send = (v: unknown): void => {
    const t = JSON.stringify(v);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(t);
  };
  let body = '';
  req.on('data', (c: Buffer) => {
    body += c.toString();
  });
  req.on('end', () => {
    const [, , what, id] = url.pathname.split('/');
    if (what === 'requests')
      return send(
        fake.requests.map((r) => ({ method: r.method, path: r.path, size: r.body.length, at: r.at })),
      );
    if (what === 'cancelled') return send(fake.cancelled);
    if (what === 'bulk') return send({ bytes: fake.bulkBytesSent() });
    if (what === 'response') {
      const b = fake.response(id ?? '');
      res.writeHead(b ? 200 : 404, { 'content-type': 'application/octet-stream' });
      return res.end(b ?? '');
    }
    if (what === 'timing') return send(fake.timings.get(id ?? '') ?? null);
    if (what === 'mode') {
      fake.setMode(id as 'normal' | 'slow' | 'drop' | 'garbage');
      return send({ mode: id });
    }
    if (what === 'log') {
      fake.log('INFO', body);
      return send({ logged: body });
    }
    res.writeHead(404);
    res.end();
  });
});
await new Promise<void>((r) => control.listen(0, '127.0.0.1', () => r()));
process.stdout.write(
  `fake-exo listening ${fake.url} control http://127.0.0.1:${(control.address() as AddressInfo).port}\n`,
);
const stop = (): void => {
  void fake.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
