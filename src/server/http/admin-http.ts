/**
 * The HTTP admin endpoint: `GET /status` (lua-resty-checkups get_status JSON), `GET /healthz`
 * (the process answers) and `GET /readyz` (200 while in step with the store of admin changes,
 * 503 "unsynced since T: why" while not: the instance serves its last view then).
 * Read-only; changes go through the gRPC AdminService.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { luaStatus, type LuaStatusInput } from './lua-status.ts';

export interface RunningHttpServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Readiness: `null` when ready, else why not (one line). */
export type ReadinessProbe = () => string | null;

export async function startHttpServer(listen: { host: string; port: number }, status: () => LuaStatusInput, notReady: ReadinessProbe = () => null): Promise<RunningHttpServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    if (path === '/status') {
      const body = JSON.stringify(luaStatus(status()));
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const why = notReady();
      res.writeHead(why === null ? 200 : 503, { 'content-type': 'text/plain' }).end(why === null ? 'ready\n' : `${why}\n`);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try GET /status\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`cannot listen on ${listen.host}:${listen.port}: ${err.message}`)));
    server.listen(listen.port, listen.host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
