declare module 'pino-roll' {
  import type { Writable } from 'node:stream';
  export interface PinoRollOptions {
    file: string | (() => string);
    size?: string | number;
    frequency?: 'daily' | 'hourly' | number;
    extension?: string;
    mkdir?: boolean;
    symlink?: boolean;
    limit?: { count?: number; removeOtherLogFiles?: boolean };
    dateFormat?: string;
  }
  export type RollStream = Writable & { flushSync(): void };
  export function build(options: PinoRollOptions): Promise<RollStream>;
  export default build;
}
