import { Argument, type Command } from 'commander';
import { GUARD_MODES } from '../../../shared/risk.js';
import { GUARD_PROFILES } from '../../core/actions/guard-profile.js';
import { configKeys } from '../../core/config/config-json-schema.js';
import { completionScript, SHELLS, type Shell } from '../completion.js';

/** `exo-sentinel completion bash|zsh|fish`: the script, generated from this program's commands. */
export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description(
      'print a shell completion script (bash, zsh or fish) for every command, option and config key',
    )
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(SHELLS))
    .addHelpText(
      'after',
      '\nLoad it in this shell:\n  bash: source <(exo-sentinel completion bash)\n  zsh:  source <(exo-sentinel completion zsh)\n  fish: exo-sentinel completion fish | source\n',
    )
    .action((shell: Shell) => {
      const keys = configKeys();
      process.stdout.write(
        completionScript(shell, program, {
          '/config/get': keys,
          '/config/set': keys,
          '/config/unset': keys,
          '/guard': ['auto', ...GUARD_MODES],
          '/guard/profile': [...GUARD_PROFILES],
        }),
      );
    });
}
