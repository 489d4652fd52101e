import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isLocalApi, readTokenFile, requestDaemon } from '../../../src/main/headless/daemon-client.js';
import { tempDir } from '../../support/temp-dir.js';

const TOKEN = 'daemon-api-token-0123456789abcdef';

/** A server on loopback that records what it was sent and answers as `answer` says. */
async function server(answer: (req: IncomingMessage, res: import('node:http').ServerResponse) => void) {
  const seen: IncomingMessage[] = [];
  const s: Server = createServer((req, res) => {
    seen.push(req);
    answer(req, res);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { s, seen, url: `http://127.0.0.1:${(s.address() as AddressInfo).port}` };
}

/**
 * The CLI as a client of the daemon its pidfile names: the pidfile and the token file are data another
 * process may have written, so the token goes only to an address of this machine, from a regular file of
 * this user, and a foreign answer is bounded and never followed elsewhere.
 */
describe('daemon-client: the token only goes to this machine, the answer is bounded', () => {
  const dir = tempDir();
  const tokenFile = join(dir.path, 'api-token');
  before(() => writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 }));
  after(() => dir.cleanup());

  it('isLocalApi: loopback, wildcard and interface addresses; nothing else, nothing but http', () => {
    for (const a of ['http://127.0.0.1:52417', 'http://127.3.2.1:1', 'http://localhost:5', 'http://[::1]:9'])
      assert.equal(isLocalApi(a), true, a);
    assert.equal(isLocalApi('http://0.0.0.0:52417'), true);
    assert.equal(
      isLocalApi('http://192.168.7.7:52417', () => ['192.168.7.7']),
      true,
    );
    for (const a of [
      'http://192.168.7.7:52417',
      'http://evil.example:80',
      'https://127.0.0.1:52417',
      'http://user:pw@127.0.0.1:1',
      'http://127.0.0.1.evil.example:1',
      'http://127.0.0.1:1/elsewhere',
      'file:///etc/passwd',
      'not a url',
    ])
      assert.equal(
        isLocalApi(a, () => []),
        false,
        a,
      );
  });

  it('a pidfile naming another machine: refused before any connection, the token not sent', async () => {
    await assert.rejects(
      requestDaemon({ pid: 1, api: 'http://203.0.113.9:52417', tokenFile }, 'GET', '/api/v1/status'),
      /not an http address of this machine/,
    );
  });

  it('the token goes to a loopback daemon; a redirect is not followed (the token stays here)', async () => {
    const other = await server((_q, res) => res.end('{}'));
    const first = await server((_q, res) => {
      res.writeHead(307, { location: `${other.url}/steal` });
      res.end();
    });
    try {
      const r = await requestDaemon({ pid: 1, api: first.url, tokenFile }, 'POST', '/api/v1/ack', {});
      assert.equal(r.status, 307);
      assert.equal(first.seen[0]?.headers.authorization, `Bearer ${TOKEN}`);
      assert.equal(other.seen.length, 0);
    } finally {
      first.s.close();
      other.s.close();
    }
  });

  it('an endless answer is dropped past 4 MiB instead of read whole', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    const big = await server((_q, res) => {
      const push = (): void => {
        while (sent < 512 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', push);
        }
        res.end();
      };
      push();
    });
    try {
      await assert.rejects(
        requestDaemon({ pid: 1, api: big.url, tokenFile }, 'GET', '/api/v1/status'),
        /answered over 4194304 bytes/,
      );
      assert.ok(sent < 64 * 1024 * 1024, `the server pushed ${sent} bytes`);
    } finally {
      big.s.closeAllConnections();
      big.s.close();
    }
  });

  it('readTokenFile: a regular file of this user; not a link, a FIFO, a huge file or a blank one', () => {
    assert.equal(readTokenFile(tokenFile), TOKEN);
    const secret = join(dir.path, 'ssh-key');
    writeFileSync(secret, 'not-the-token-but-some-other-secret\n', { mode: 0o600 });
    const link = join(dir.path, 'link-token');
    symlinkSync(secret, link);
    assert.equal(readTokenFile(link), null);
    const fifo = join(dir.path, 'fifo-token');
    execFileSync('mkfifo', [fifo]);
    assert.equal(readTokenFile(fifo), null);
    const huge = join(dir.path, 'huge-token');
    writeFileSync(huge, 'a'.repeat(4096));
    assert.equal(readTokenFile(huge), null);
    const blank = join(dir.path, 'blank-token');
    writeFileSync(blank, '\n');
    assert.equal(readTokenFile(blank), null);
    assert.equal(readTokenFile(join(dir.path, 'absent')), null);
  });
});
