/**
 * Demo backends for examples/checkups.yaml, on loopback: the `api` upstream's servers.
 *   12354  200 {"status":"up"}     -> ok
 *   12355  502 Bad Gateway         -> err ("502": false in http_opts.statuses)
 *   12356  200 {"status":"up"}     -> ok (level 2, used when level 1 has no usable server)
 */
import { createServer, type Server } from 'node:http';

const BACKENDS: Array<{ port: number; status: number }> = [
  { port: 12354, status: 200 },
  { port: 12355, status: 502 },
  { port: 12356, status: 200 },
];

export async function startDemoBackends(): Promise<{ close(): Promise<void> }> {
  const servers: Server[] = [];
  for (const { port, status } of BACKENDS) {
    const server = createServer((req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: status === 200 ? 'up' : 'down', port, path: req.url }));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new Error(`demo backend on 127.0.0.1:${port}: ${err.message}`)));
      server.listen(port, '127.0.0.1', resolve);
    });
    servers.push(server);
  }
  return {
    close: async () => {
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
