import type { AddressInfo, Server } from 'node:net';

/** Starts listening and resolves with the address it got as a URL authority (`127.0.0.1:3000`, `[::1]:3000`). */
export async function listen(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port: bound } = server.address() as AddressInfo;
  return `${address.includes(':') ? `[${address}]` : address}:${bound}`;
}
