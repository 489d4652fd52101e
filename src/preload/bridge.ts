import type { IpcRenderer, IpcRendererEvent } from 'electron';
import type { SentinelBridge } from '../shared/bridge.js';
import { IPC_INVOKE_CHANNELS, IPC_PUSH_CHANNEL, type IpcInvokeChannel, ipcChannel } from '../shared/ipc.js';

/** What the preload exposes on `window.exoSentinel`: two functions, never ipcRenderer itself. */
export type ExposedBridge = SentinelBridge;

/**
 * Builds the bridge over an ipcRenderer. Only the contract's channels can be invoked; anything else is
 * refused here, before it reaches main (which validates again).
 */
export function createBridge(ipc: Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>): ExposedBridge {
  return {
    invoke(channel: string, payload?: unknown): Promise<unknown> {
      if (!(IPC_INVOKE_CHANNELS as readonly string[]).includes(channel)) {
        return Promise.reject(new Error(`unknown channel "${channel}"`));
      }
      return ipc.invoke(ipcChannel(channel as IpcInvokeChannel), payload);
    },
    onEvent(listener) {
      const handler = (_e: IpcRendererEvent, message: unknown): void => {
        const m = message as { event?: unknown; data?: unknown };
        if (typeof m?.event === 'string' && m.data !== null && typeof m.data === 'object')
          listener(m.event, m.data as Record<string, unknown>);
      };
      ipc.on(IPC_PUSH_CHANNEL, handler);
      return () => {
        ipc.removeListener(IPC_PUSH_CHANNEL, handler);
      };
    },
  };
}
