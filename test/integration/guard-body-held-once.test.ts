import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { readBody } from '../../src/main/core/guard/request-reader.js';
import { collectGarbage } from '../support/collect-garbage.js';

// Real HTTP on loopback: the guard reads a request body whole, then holds the request open while EXO answers
// (a streamed generation: minutes). The chunks the body arrived in must be free by then, or every body would be
// held twice for the length of its answer while the shared budget counts it once.

const servers: ReturnType<typeof createServer>[] = [];
after(() => {
  for (const s of servers) s.close();
});

describe('a request body, once read', () => {
  it('is held once: every chunk it arrived in is collectable while the request is still open', async () => {
    const refs: WeakRef<Buffer>[] = [];
    const checked = new Promise<{ freed: boolean[]; length: number }>((resolve) => {
      const server = createServer(async (req, res) => {
        // A second listener sees the same Buffer objects the reader gets; it keeps only weak references.
        req.on('data', (c: Buffer) => refs.push(new WeakRef(c)));
        const r = await readBody(req, 10_000_000, 5000);
        await collectGarbage();
        resolve({ freed: refs.map((w) => w.deref() === undefined), length: r.ok ? r.body.length : -1 });
        res.end('done');
      });
      servers.push(server);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        const client = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/chat/completions' });
        client.on('response', (res) => res.resume());
        let i = 0;
        const send = (): void => {
          client.write(Buffer.alloc(65_536, i));
          if (++i < 8) setTimeout(send, 10);
          else client.end();
        };
        send();
      });
    });
    const { freed, length } = await checked;
    assert.equal(length, 8 * 65_536);
    assert.ok(freed.length >= 8, `${freed.length} chunks seen`);
    assert.deepEqual(
      freed,
      freed.map(() => true),
      'no chunk outlives the whole body',
    );
  });
});
