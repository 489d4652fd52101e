import type { PowerMonitor } from 'electron';

export interface PausableDaemon {
  pause(reason: string): void;
  resume(reason: string): void;
  stop(reason: string): Promise<void>;
}

/** Sleep, wake and shutdown go into the timeline; sampling pauses across sleep and the store is flushed on shutdown. */
export function wirePowerEvents(power: Pick<PowerMonitor, 'on'>, daemon: PausableDaemon): void {
  power.on('suspend', () => daemon.pause('the machine is going to sleep'));
  power.on('resume', () => daemon.resume('the machine woke up'));
  power.on('shutdown', () => void daemon.stop('shutdown'));
}
