import { readSmallFile, type SmallFileText } from '../util/small-file.js';

/** A configuration file is a few KiB; one far larger is not one (and is never read whole). */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export type ConfigFileText = SmallFileText;

/**
 * The configuration file's text, read as `readSmallFile` reads (non-blocking, a regular file only, at most
 * `MAX_CONFIG_BYTES`): a FIFO or /dev/zero linked where config.json was cannot hold the event loop or fill
 * memory. A link to a regular file is read (dotfile managers link config files). ENOENT is its own code: an
 * absent file means the defaults to the callers.
 */
export function readConfigText(path: string, maxBytes = MAX_CONFIG_BYTES): ConfigFileText {
  return readSmallFile(path, maxBytes);
}
