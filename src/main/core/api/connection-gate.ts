import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ConnectionSlots } from './connection-slots.js';
import type { ShedTally } from './shed-tally.js';

/**
 * Sockets above the cap Node itself may hold before it drops new ones unseen: a backstop only. The gate
 * closes sockets as they come, so the server never holds more than the cap (a destroyed socket leaves
 * Node's count at once).
 */
const BACKSTOP_MARGIN = 16;

/**
 * Puts `server`'s connections under `cap` slots (connection-slots.ts): each new socket takes a free slot or
 * the slot of the socket idle longest, which is closed; with none idle, the slot of a socket whose request
 * is still arriving (its body not all sent: it waits on its client, as an idle one does, and is counted as
 * one); with every slot busy serving a whole request the new socket is closed. What was closed is counted in
 * `tally`. Returns the slots (for counts).
 */
export function gateConnections(
  server: Server,
  cap: number,
  tally: ShedTally,
  now: () => number = Date.now,
): ConnectionSlots<Socket> {
  const slots = new ConnectionSlots<Socket>(cap);
  server.maxConnections = slots.cap + BACKSTOP_MARGIN;
  // The request each socket is on; `complete` is false until its body has all arrived.
  const current = new WeakMap<Socket, IncomingMessage>();
  const sending = (socket: Socket): boolean => current.get(socket)?.complete === false;
  server.on('connection', (socket: Socket) => {
    const arrival = slots.arrive(socket, now(), sending);
    if (arrival.kind === 'refused') {
      tally.count('connectionRefused');
      socket.destroy();
      return;
    }
    if (arrival.kind === 'evicted' || arrival.kind === 'sending') {
      tally.count('idleConnectionClosed');
      arrival.evicted.destroy();
    }
    socket.once('close', () => slots.leave(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    current.set(socket, req);
    slots.requestStarted(socket);
    // 'close' comes once the response is done, or when the connection goes first.
    res.once('close', () => slots.requestEnded(socket, now()));
  });
  return slots;
}
