import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createLogger } from '../../../src/main/core/logger.js';
import { tempDir } from '../../support/temp-dir.js';

const dir = tempDir();
after(dir.cleanup);

describe('log level changed at run time (a reloaded logLevel)', () => {
  it('reaches the log file both ways', async () => {
    const file = join(dir.path, 'exo-sentinel.log');
    const { logger, close } = await createLogger({ level: 'info', file, terminal: false });
    logger.debug('hidden at info');
    logger.level = 'debug';
    logger.debug('shown at debug');
    logger.level = 'warn';
    logger.info('hidden at warn');
    logger.warn('shown at warn');
    await close();
    const msgs = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { msg: string }).msg);
    assert.deepEqual(msgs, ['shown at debug', 'shown at warn']);
  });
});
