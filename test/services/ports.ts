import { createServer } from 'node:net';

/**
 * A TCP port free on the loopback address right now: bound with port 0, read, and released.
 * Another process may take it before the service binds it, so services started on it retry
 * with a new port when their bind fails.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port was given'));
      });
    });
  });
}
