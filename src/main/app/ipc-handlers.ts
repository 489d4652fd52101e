import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { z } from 'zod';
import { IPC_INVOKE_CHANNELS, type IpcInvokeChannel, ipcChannel } from '../../shared/ipc.js';
import type { GuardMode } from '../../shared/risk.js';
import { GuardChoice } from '../core/actions/guard-override.js';
import { type GuardProfile, GuardProfileSchema } from '../core/actions/guard-profile.js';
import type { AppBackend } from './app-backend.js';

const time = z.number().int().nonnegative();
/** Every payload the renderer may send, by channel. Anything else is refused. */
export const IPC_SCHEMAS: Record<IpcInvokeChannel, z.ZodType> = {
  status: z.undefined(),
  timeline: z.object({ from: time, to: time }).strict(),
  events: z
    .object({
      kind: z.string().regex(/^[a-z][a-z0-9.-]{0,63}$/),
      from: time,
      before: z.number().int().positive().optional(),
    })
    .strict(),
  panics: z.object({ before: z.number().int().positive().optional() }).strict().optional(),
  panicReport: z.object({ id: z.number().int().positive() }).strict(),
  cluster: z.undefined(),
  advisory: z.undefined(),
  config: z.undefined(),
  configSchema: z.undefined(),
  saveConfig: z.record(z.string(), z.unknown()),
  ack: z.undefined(),
  setGuardMode: z.object({ mode: GuardChoice }).strict(),
  guardProfile: z.undefined(),
  setGuardProfile: z.object({ profile: GuardProfileSchema }).strict(),
};

export class IpcRejection extends Error {}

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
      const p = parsed.data as Record<string, unknown>;
      switch (channel) {
        case 'status':
          return backend.status();
        case 'timeline':
          return backend.timeline(p['from'] as number, p['to'] as number);
        case 'events':
          return backend.events(p['kind'] as string, p['from'] as number, p['before'] as number | undefined);
        case 'panics':
          return backend.panics((p as Record<string, unknown> | undefined)?.['before'] as number | undefined);
        case 'panicReport': {
          const md = backend.panicReport(p['id'] as number);
          if (md === null) throw new IpcRejection(`report ${String(p['id'])} is not a readable kernel panic`);
          return md;
        }
        case 'cluster':
          return backend.cluster();
        case 'advisory':
          return backend.advisory();
        case 'config':
          return backend.config();
        case 'configSchema':
          return backend.configSchema();
        case 'saveConfig':
          return backend.saveConfig(p);
        case 'ack':
          return backend.ack();
        case 'setGuardMode':
          return backend.setGuardMode(p['mode'] as GuardMode | null);
        case 'guardProfile':
          return backend.guardProfile();
        case 'setGuardProfile':
          return backend.setGuardProfile(p['profile'] as GuardProfile);
      }
    });
  }
}

/** The dashboard is loaded from the app's files; a frame from anywhere else is not ours. */
export function trustedSender(dashboardWebContentsId: () => number | null, appRoot: string) {
  return (event: Pick<IpcMainInvokeEvent, 'senderFrame' | 'sender'>): boolean => {
    const url = event.senderFrame?.url ?? '';
    return (
      event.sender.id === dashboardWebContentsId() &&
      url.startsWith('file://') &&
      decodeURI(new URL(url).pathname).startsWith(appRoot)
    );
  };
}
