import { nodeCrypto } from '../util/node-crypto.js';

/** The hash covers this much of a file (and its size): the identity of a report across names. */
export const MAX_REPORT_BYTES = 16 * 1024 * 1024;
/** The text kept from the start of a file: header, body fields and an Apple-silicon `panicString`. */
export const HEAD_BYTES = 2 * 1024 * 1024;
/** Kept from a panic-string key found past the head (Intel bodies put it after the stackshot). */
export const PANIC_CAPTURE_BYTES = 1024 * 1024;
/** A file is never read past this, whatever its size. */
export const MAX_SCAN_BYTES = 256 * 1024 * 1024;
export const CHUNK_BYTES = 1024 * 1024;
/** A key this close to the end of the head may have its panic line cut off: capture from the key. */
const HEAD_MARGIN = 64 * 1024;
const PANIC_KEYS = ['"panicString"', '"macOSPanicString"'].map((k) => Buffer.from(k));
const OVERLAP = Math.max(...PANIC_KEYS.map((k) => k.length)) - 1;

/** Where the next chunk of the file goes (the arguments of `read(fd, buffer, offset, length, position)`). */
export interface ChunkRequest {
  buffer: Buffer;
  offset: number;
  length: number;
  position: number;
}

export interface CollectedHead {
  text: string;
  sha256: string;
  truncated: boolean;
}

/** Index of the first panic-string key in `buf`, or -1. */
function findPanicKey(buf: Buffer): number {
  let at = -1;
  for (const k of PANIC_KEYS) {
    const i = buf.indexOf(k);
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  return at;
}

/**
 * What a scan keeps of a report file, fed chunk by chunk (by a synchronous or an asynchronous reader, the
 * same way): hashes the first `hashBytes` (plus the size, as the ledger always has), keeps the head, and
 * looks for a panic-string key until one is found, the file ends or MAX_SCAN_BYTES. When the key lies
 * past the head, the text is the header line followed by `{` and the bytes from the key on: a (truncated)
 * JSON body holding the panic string, which the container reads. The chunk buffer is sized to the file, so
 * a small report costs a small allocation.
 */
export class HeadCollector {
  private readonly hash = nodeCrypto().createHash('sha256');
  private readonly head: Buffer;
  private readonly window: Buffer;
  private readonly limit: number;
  private capture: Buffer | null = null;
  private captured = 0;
  private keyAt = -1;
  private headLength = 0;
  /** Bytes kept at the start of the window from the previous chunk, so a key split across two is found. */
  private carry = 0;
  private pos = 0;
  private done = false;

  constructor(
    private readonly size: number,
    private readonly hashBytes: number,
  ) {
    this.head = Buffer.allocUnsafe(Math.min(size, HEAD_BYTES));
    this.limit = Math.min(size, MAX_SCAN_BYTES);
    this.window = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(this.limit, 1)) + OVERLAP);
  }

  /** The next read to make, or null when enough has been read. */
  next(): ChunkRequest | null {
    if (this.done || this.pos >= this.limit) return null;
    return {
      buffer: this.window,
      offset: this.carry,
      length: Math.min(CHUNK_BYTES, this.limit - this.pos),
      position: this.pos,
    };
  }

  /** `n` bytes were read into the window at next()'s offset; 0: the file ended. */
  took(n: number): void {
    if (n === 0) {
      this.done = true;
      return;
    }
    const { window, carry, pos, head } = this;
    const data = window.subarray(carry, carry + n);
    if (pos < this.hashBytes) this.hash.update(data.subarray(0, Math.min(n, this.hashBytes - pos)));
    if (pos < head.length) this.headLength += data.copy(head, pos, 0, Math.min(n, head.length - pos));
    if (this.capture !== null) {
      if (this.captured < this.capture.length)
        this.captured += data.copy(this.capture, this.captured, 0, this.capture.length - this.captured);
    } else if (this.keyAt < 0) {
      const i = findPanicKey(window.subarray(0, carry + n));
      if (i >= 0) {
        this.keyAt = pos - carry + i;
        if (this.keyAt + HEAD_MARGIN > head.length) {
          this.capture = Buffer.allocUnsafe(PANIC_CAPTURE_BYTES);
          this.captured = window.copy(this.capture, 0, i, Math.min(carry + n, i + PANIC_CAPTURE_BYTES));
        }
      }
    }
    this.pos += n;
    const kept = Math.min(OVERLAP, carry + n);
    window.copy(window, 0, carry + n - kept, carry + n);
    this.carry = kept;
    const panicDone = this.keyAt >= 0 && (this.capture === null || this.captured >= this.capture.length);
    if (this.pos >= this.hashBytes && this.pos >= head.length && panicDone) this.done = true;
  }

  finish(): CollectedHead {
    this.hash.update(`:${this.size}`);
    let text = this.head.subarray(0, this.headLength).toString('utf8');
    if (this.capture !== null) {
      const nl = text.indexOf('\n');
      const headerLine = nl < 0 ? '' : text.slice(0, nl);
      text = `${headerLine}\n{${this.capture.subarray(0, this.captured).toString('utf8')}`;
    }
    return { text, sha256: this.hash.digest('hex'), truncated: this.size > this.headLength };
  }
}
