/**
 * Forwards a stream only up to its last complete frame and holds the rest (a bounded tail), so that when the
 * guard cancels a request its error frame lands on a frame boundary and every client parses it: SSE frames end
 * with a blank line (`\n\n` or `\r\n\r\n`), NDJSON records with `\n`. A tail longer than `maxHold` is passed
 * on anyway (memory stays bounded); then `atBoundary` is false and the canceller closes the frame first.
 */
export type Framing = 'sse' | 'ndjson';

const EMPTY = Buffer.alloc(0);

function lastBoundary(buf: Buffer, framing: Framing): number {
  if (framing === 'ndjson') {
    const i = buf.lastIndexOf(0x0a);
    return i < 0 ? -1 : i + 1;
  }
  const a = buf.lastIndexOf('\n\n');
  const b = buf.lastIndexOf('\n\r\n');
  const c = buf.lastIndexOf('\r\r');
  return Math.max(a < 0 ? -1 : a + 2, b < 0 ? -1 : b + 3, c < 0 ? -1 : c + 2);
}

export class FrameAligner {
  private tail: Buffer = EMPTY;
  /** Whether everything forwarded so far ends on a frame boundary. */
  atBoundary = true;

  constructor(
    private readonly framing: Framing,
    private readonly maxHold = 256 * 1024,
  ) {}

  /** The bytes that may go to the client now. */
  push(chunk: Buffer): Buffer {
    const all = this.tail.length ? Buffer.concat([this.tail, chunk]) : chunk;
    const end = lastBoundary(all, this.framing);
    if (end < 0) {
      if (all.length <= this.maxHold) {
        this.tail = all;
        return EMPTY;
      }
      this.tail = EMPTY;
      this.atBoundary = false;
      return all;
    }
    this.tail = end === all.length ? EMPTY : Buffer.from(all.subarray(end));
    this.atBoundary = true;
    return end === all.length ? all : all.subarray(0, end);
  }

  /** What is left when the upstream ends normally. */
  flush(): Buffer {
    const t = this.tail;
    this.tail = EMPTY;
    return t;
  }

  /** Drops the held partial frame (cancellation) and says what closes the frame already forwarded, if any. */
  discard(): string {
    this.tail = EMPTY;
    if (this.atBoundary) return '';
    return this.framing === 'sse' ? '\n\n' : '\n';
  }
}
