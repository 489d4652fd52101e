/**
 * Node flags the daemon runs with (npm start, the login agent, the CLI's shebang). V8's young generation
 * grows to 16 MiB semi-spaces by default, and start-up (module loading, the first report scan) fills it:
 * measured peak RSS 86 MiB → 78 MiB with 2 MiB semi-spaces, steady RSS and CPU unchanged. It has to be a
 * process flag: `v8.setFlagsFromString` after start-up does not shrink the heap's reservations.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];
