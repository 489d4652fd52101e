import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { AuditStore } from '../../core/actions/audit-store.js';
import { acknowledgeHold } from '../../core/actions/post-panic-hold.js';
import { EXIT_FAILURE } from '../usage-error.js';
import { openStores } from './store-access.js';

export function registerAck(program: Command): void {
  program
    .command('ack')
    .description('acknowledge the last panic: end the post-panic hold (safe mode)')
    .option('--json', 'print JSON')
    .action((_o: unknown, cmd: Command) => {
      const f = cmd.optsWithGlobals<{ json?: boolean; dataDir?: string }>();
      const s = openStores(f.dataDir, 'write');
      if ('error' in s) {
        process.stderr.write(`exo-sentinel: ${s.error}\n`);
        process.exitCode = EXIT_FAILURE;
        return;
      }
      try {
        const ended = acknowledgeHold(s.timeline, new AuditStore(s.db), Date.now(), userInfo().username);
        if (f.json) process.stdout.write(`${JSON.stringify({ ended })}\n`);
        else
          process.stdout.write(
            ended
              ? `post-panic hold ended (it began ${new Date(ended.since).toISOString()}: ${ended.reason})\n`
              : 'no post-panic hold is active\n',
          );
      } finally {
        s.db.close();
      }
    });
}
