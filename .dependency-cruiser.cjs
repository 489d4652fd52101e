/**
 * The layers and the edges allowed between them (README: Architecture).
 *   shared        types and pure helpers; imports nothing of ours but shared
 *   main/core     probes <- store <- risk <- actions <- guard <- service <- api
 *                 daemon.ts composes them (its parts in core/daemon/); the shells use the service
 *   main/headless the CLI shell; main/app the Electron shell; renderer + preload the window
 * `npm run lint` runs: depcruise src --config .dependency-cruiser.cjs
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'Import cycles make start-up order and testing in isolation fragile. Cycles made only of ' +
        '`import type` (guard/endpoints/* <-> endpoint-family.ts, actions/notifier.ts <-> ' +
        'desktop-notifier.ts) vanish at run time and are allowed.',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'shared-imports-only-shared',
      severity: 'error',
      comment: 'src/shared sits below everything; it imports no process-specific code.',
      from: { path: '^src/shared/' },
      to: { path: '^src/(main|renderer|preload|native)/' },
    },
    {
      name: 'core-not-shells',
      severity: 'error',
      comment: 'The service core never depends on a shell (CLI, app) or on the window.',
      from: { path: '^src/main/core/' },
      to: { path: '^src/(main/headless|main/app|renderer|preload)/' },
    },
    {
      name: 'renderer-only-shared',
      severity: 'error',
      comment:
        'The renderer runs in a sandboxed window: only its own code, src/shared and the bundled ' +
        'browser libraries listed here (uplot: the charts).',
      from: { path: '^src/renderer/' },
      to: { pathNot: '^src/(renderer|shared)/|node_modules/uplot/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'renderer-no-node',
      severity: 'error',
      comment: 'No Node built-ins in the window (node:fs, node:child_process, ...).',
      from: { path: '^src/renderer/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'preload-only-shared',
      severity: 'error',
      comment: 'The preload bridge imports electron and src/shared only.',
      from: { path: '^src/preload/' },
      to: { path: '^src/(main|renderer)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'window-no-zod',
      severity: 'error',
      comment:
        'The renderer and the preload take the IPC channel map (src/shared/ipc.ts), never the zod schemas ' +
        '(src/shared/ipc-schemas.ts, guard-schemas.ts), directly or through another module: main validates, ' +
        'and the window bundles stay free of zod.',
      from: { path: '^src/(renderer|preload)/' },
      to: { path: 'node_modules/zod/', reachable: true },
    },
    {
      name: 'daemon-only-from-roots',
      severity: 'error',
      comment:
        'daemon.ts is the composition root; only the shells that build a daemon import it (the CLI\'s ' +
        '`daemon` command, the app\'s main.ts). Everything else talks to the SentinelService it builds.',
      from: { pathNot: '^src/main/(headless/commands/daemon-command[.]ts|app/main[.]ts)$' },
      to: { path: '^src/main/core/daemon[.]ts$' },
    },
    {
      name: 'daemon-parts-only-from-root',
      severity: 'error',
      comment:
        'core/daemon/* are the composition root\'s parts (runtime, scheduler, storage, guard decision, ' +
        'views, config application); only daemon.ts and its parts import them.',
      from: { pathNot: '^src/main/core/(daemon[.]ts$|daemon/)' },
      to: { path: '^src/main/core/daemon/' },
    },
    {
      name: 'electron-only-in-app',
      severity: 'error',
      comment: 'electron exists only in the app and preload processes; the CLI and core run without it.',
      from: { pathNot: '^src/(main/app|preload)/' },
      to: { path: '^electron$|node_modules/electron/', dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '[.]d[.]ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
