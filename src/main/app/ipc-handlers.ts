import { sep } from 'node:path';
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { IPC_INVOKE_CHANNELS, type IpcInvokeChannel, ipcChannel } from '../../shared/ipc.js';
import { IPC_SCHEMAS, type IpcRequest } from '../../shared/ipc-schemas.js';
import type { AppBackend } from './app-backend.js';

export class IpcRejection extends Error {}

type Handlers = { [C in IpcInvokeChannel]: (backend: AppBackend, p: IpcRequest<C>) => unknown };

/** One handler per channel, each given its validated payload. */
const HANDLERS: Handlers = {
  status: (b) => b.status(),
  timeline: (b, p) => b.timeline(p.from, p.to),
  events: (b, p) => b.events(p.kind, p.from, p.before),
  panics: (b, p) => b.panics(p?.before),
  panicReport: (b, p) => {
    const md = b.panicReport(p.id);
    if (md === null) throw new IpcRejection(`report ${p.id} is not a readable kernel panic`);
    return md;
  },
  cluster: (b) => b.cluster(),
  advisory: (b) => b.advisory(),
  config: (b) => b.config(),
  configSchema: (b) => b.configSchema(),
  saveConfig: (b, p) => b.saveConfig(p),
  patchConfig: (b, p) => b.patchConfig(p),
  ack: (b) => b.ack(),
  setGuardMode: (b, p) => b.setGuardMode(p.mode),
  guardProfile: (b) => b.guardProfile(),
  setGuardProfile: (b, p) => b.setGuardProfile(p.profile),
};

/** Dispatches a validated payload: the schema of `channel` parsed it, so it is that channel's request. */
function answer<C extends IpcInvokeChannel>(channel: C, backend: AppBackend, payload: unknown): unknown {
  return (HANDLERS[channel] as (b: AppBackend, p: unknown) => unknown)(backend, payload);
}

/**
 * Registers one handler per channel. Each checks the sender (only the dashboard window, loaded from the
 * app's own files) and validates the payload with its schema before the backend sees it.
 */
export function registerIpcHandlers(
  ipcMain: Pick<IpcMain, 'handle'>,
  backend: AppBackend,
  isTrustedSender: (event: Pick<IpcMainInvokeEvent, 'senderFrame' | 'sender'>) => boolean,
): void {
  for (const channel of IPC_INVOKE_CHANNELS) {
    ipcMain.handle(ipcChannel(channel), async (event, payload: unknown) => {
      if (!isTrustedSender(event))
        throw new IpcRejection(`${channel}: refused an IPC message from an unknown sender`);
      const parsed = IPC_SCHEMAS[channel].safeParse(payload);
      if (!parsed.success) {
        throw new IpcRejection(
          `${channel}: malformed message: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`).join('; ')}`,
        );
      }
      return answer(channel, backend, parsed.data);
    });
  }
}

/** The dashboard is loaded from the app's files; a frame from anywhere else is not ours. */
export function trustedSender(dashboardWebContentsId: () => number | null, appRoot: string) {
  return (event: Pick<IpcMainInvokeEvent, 'senderFrame' | 'sender'>): boolean => {
    const url = event.senderFrame?.url ?? '';
    if (event.sender.id !== dashboardWebContentsId() || !url.startsWith('file://')) return false;
    // Inside the renderer's folder: `…/dist/renderer-x/` must not pass for `…/dist/renderer`.
    const root = appRoot.endsWith(sep) ? appRoot : appRoot + sep;
    try {
      return decodeURI(new URL(url).pathname).startsWith(root);
    } catch {
      return false;
    }
  };
}
