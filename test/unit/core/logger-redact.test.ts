import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { createLogger } from '../../../src/main/core/logger.js';
import { tempDir } from '../../support/temp-dir.js';

describe('the log never holds a secret', () => {
  const dir = tempDir();
  after(dir.cleanup);

  it('redacts configuration tokens, bare tokens and authorization headers', async () => {
    const { logger, close } = await createLogger({
      level: 'info',
      file: `${dir.path}/logs/exo-sentinel.log`,
      terminal: false,
    });
    logger.info(
      {
        config: { guard: { token: 'guard-secret-aaaaaaaa' }, cluster: { token: 'cluster-secret-bbbbbbbb' } },
      },
      'start',
    );
    logger.info({ token: 'bare-secret-cccccccc' }, 'bare');
    logger.warn(
      { req: { headers: { authorization: 'Bearer header-secret-dddd', host: 'localhost' } } },
      'req',
    );
    logger.info({ peer: { token: 'peer-secret-eeeeeeee', url: 'http://studio-2.local:52417' } }, 'peer');
    await close();
    const text = readdirSync(`${dir.path}/logs`)
      .map((f) => readFileSync(`${dir.path}/logs/${f}`, 'utf8'))
      .join('');
    const lines = text
      .trim()
      .split('\n')
      // biome-ignore lint/suspicious/noExplicitAny: log lines are arbitrary JSON, read by path
      .map((l) => JSON.parse(l) as Record<string, any>);
    assert.equal(lines.length, 4);
    assert.ok(!/secret/.test(text), text);
    assert.equal(lines[0]!['config']['guard']['token'], '[redacted]');
    assert.equal(lines[2]!['req']['headers']['authorization'], '[redacted]');
    assert.equal(lines[2]!['req']['headers']['host'], 'localhost', 'the rest is kept');
    assert.equal(lines[3]!['peer']['url'], 'http://studio-2.local:52417');
  });
});
