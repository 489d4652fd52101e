/**
 * The dashboard window's IPC contract: one invoke channel per request (the renderer asks, main answers)
 * and one push channel for live events. Main validates every payload (the schemas in ./ipc-schemas.ts, kept
 * apart so that the window's bundles never pull zod) and checks every sender.
 */
export const IPC_INVOKE_CHANNELS = [
  'status',
  'timeline',
  'events',
  'panics',
  'panicReport',
  'cluster',
  'advisory',
  'config',
  'configSchema',
  'saveConfig',
  'patchConfig',
  'ack',
  'setGuardMode',
  'guardProfile',
  'setGuardProfile',
] as const;

export type IpcInvokeChannel = (typeof IPC_INVOKE_CHANNELS)[number];

/** Main → renderer: `{ event, data }` with event `sample`, `level`, `panic`, `event` or `navigate`. */
export const IPC_PUSH_CHANNEL = 'exo-sentinel:push';
export const ipcChannel = (c: IpcInvokeChannel): string => `exo-sentinel:${c}`;
