/**
 * node:http and node:https as the daemon loads them: through `process.getBuiltinModule`, not an ES `import`.
 * On Node 26 an ES import of node:http builds the module's ES facade, which reads every export, and the
 * WebSocket/EventSource exports are getters that load undici: 13 MiB of RSS and 44 ms of start-up for a
 * client the daemon never uses (measured: an ES module importing node:http, 58.0 MiB, against 45.1 MiB
 * through getBuiltinModule; 43.0 MiB on Node 20). Types still come from the modules (`import type`).
 */
import type * as Http from 'node:http';
import type * as Https from 'node:https';

export const http: typeof Http = process.getBuiltinModule('node:http');

/** node:https (and TLS, about 6 MiB) only when an https URL is asked for. */
export function https(): typeof Https {
  return process.getBuiltinModule('node:https');
}
