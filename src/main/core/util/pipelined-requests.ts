import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Requests a connection may pipeline behind the one being answered; past it the connection is closed. */
export const MAX_PIPELINED = 8;

/**
 * HTTP/1.1 pipelining taken one request at a time per connection, as EXO's server takes it (the guard and
 * the local API both). Node parses every
 * request a client writes at once and hands each to the handler before the one ahead of it is answered, so
 * forwarding them as they came made one connection thousands of concurrent requests to EXO (2000 `GET /state`
 * in one 66 KB write: 2000 upstream sockets, their answers held here until their turn on the connection), and
 * a generation request judged while the answer ahead of it streamed held its slot for as long as that answer
 * lasted. The API built every answer of 2000 pipelined `GET /api/v1/timeline` and held them for a client that
 * read none (480 MB for one connection, 1.7 GB for six). Now a request is handled only once every answer ahead
 * of it on its connection has ended.
 *
 * Requests waiting behind the one being answered are bounded per connection: past `maxWaiting`, the connection
 * is closed (its requests cannot be answered out of order). A waiting generation request's body is read ahead
 * by the guard (`onWait`): left unread, it filled its buffer past ~128 KB and Node stopped reading the
 * connection, so a client that left was not seen until the answer ahead ended (its slot held 12 s instead of
 * 1 s; a queued request reached EXO for nobody). Other waiting bodies stay unread.
 */
export class PipelinedRequests {
  private readonly lines = new WeakMap<Socket, Line>();

  constructor(
    private readonly maxWaiting: number,
    /** Called when a connection is closed for pipelining past the bound. */
    private readonly onOverflow: (req: IncomingMessage) => void,
    /** Called when a request is set to wait (the guard reads a generation request's body ahead). */
    private readonly onWait: (req: IncomingMessage, res: ServerResponse) => void = () => undefined,
  ) {}

  /** Runs `start` now, or when the answers ahead of this request on its connection have ended. */
  admit(req: IncomingMessage, res: ServerResponse, start: () => void): void {
    const socket = req.socket as Socket | null;
    if (!socket) {
      start();
      return;
    }
    if (socket.destroyed) {
      res.destroy();
      return;
    }
    let line = this.lines.get(socket);
    if (!line) {
      const created: Line = { busy: false, waiting: [] };
      line = created;
      this.lines.set(socket, created);
      // Requests still waiting when the connection ends are never started (Node aborts them).
      socket.once('close', () => {
        created.waiting.length = 0;
      });
    }
    if (!line.busy) {
      this.run(socket, line, res, start);
      return;
    }
    if (line.waiting.length >= this.maxWaiting) {
      line.waiting.length = 0;
      this.onOverflow(req);
      socket.destroy();
      res.destroy();
      return;
    }
    line.waiting.push({ res, start });
    this.onWait(req, res);
  }

  private run(socket: Socket, line: Line, res: ServerResponse, start: () => void): void {
    line.busy = true;
    res.once('close', () => {
      line.busy = false;
      const next = line.waiting.shift();
      if (!next) return;
      if (socket.destroyed) {
        line.waiting.length = 0;
        return;
      }
      this.run(socket, line, next.res, next.start);
    });
    start();
  }
}

interface Line {
  busy: boolean;
  waiting: Array<{ res: ServerResponse; start: () => void }>;
}
