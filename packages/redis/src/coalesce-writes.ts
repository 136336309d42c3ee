/** The part of a socket (net.Socket, tls.TLSSocket) that coalesceWrites uses. */
export interface CorkableSocket {
  write(...args: never[]): boolean;
  cork(): void;
  uncork(): void;
}

const coalesced = new WeakSet<object>();

/**
 * Every write made to `socket` in one turn of the event loop goes out in one `writev` syscall: the first write of a
 * turn corks the socket and the next tick uncorks it. ioredis writes each command as its own syscall; a decide or
 * apply worker at concurrency 50 issues many commands per turn, and those syscalls were a sixth of its CPU
 * (docs/performance.md). Data and order are unchanged: the writes are only held until the current turn's
 * synchronous code and microtasks have run. Applying it twice to one socket is a no-op.
 */
export function coalesceWrites(socket: CorkableSocket): void {
  if (coalesced.has(socket)) return;
  coalesced.add(socket);
  const write = socket.write;
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  socket.write = function coalescedWrite(this: CorkableSocket, ...args: never[]): boolean {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    return write.apply(socket, args);
  };
}
