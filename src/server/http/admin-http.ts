/**
 * The HTTP port (read-only; changes go through the gRPC AdminService):
 *   GET /             the live status page (status-page.ts; /ui/app.js and /ui/app.css)
 *   GET /status       lua-resty-checkups get_status JSON
 *   GET /api/status   every upstream and peer as the status page shows them (status-view.ts)
 *   GET /events       server-sent events: health transitions, admin changes, refused calls
 *   GET /metrics      Prometheus exposition (observability/metrics.ts)
 *   GET /healthz      200 while the process answers (liveness)
 *   GET /readyz       200 when every readiness check passes, else 503 naming the failing ones
 * A scrape or a status read never blocks on anything but the event loop: each answer is built
 * from in-memory state in one go.
 *
 * The read routes (the page, /status, /api/status, /events) follow the read rule of the gRPC
 * API (docs/security.md): when `authorize` refuses, 401 with a challenge for Bearer and Basic
 * (a browser asks for the token once, as the password, and sends it with the page's own
 * requests and its event stream). /healthz, /readyz and /metrics stay open: orchestrators and
 * scrapers call them, and they carry counts and check names, no upstream documents or secrets.
 * The page's script and style are open too: static code, no data.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ReadinessReport } from '../readiness.ts';
import type { StatusView } from '../status-view.ts';
import { luaStatus, type LuaStatusInput } from './lua-status.ts';
import { STATUS_PAGE_CSP, STATUS_PAGE_CSS, STATUS_PAGE_HTML, STATUS_PAGE_JS } from './status-page.ts';

export interface HttpSources {
  luaStatus(): LuaStatusInput;
  statusView(): StatusView;
  metrics(): Promise<{ contentType: string; body: string }>;
  readiness(): ReadinessReport;
  /** Serves `/events` (server-sent events) on this request; absent: 404. */
  events?(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void;
  /** For a read route: null to serve it, else the refusal (absent: every route is open). */
  authorize?(req: IncomingMessage, route: string): { status: 401; message: string } | null;
}

/** Routes that need the read right when the port is protected. */
const READ_ROUTES: ReadonlySet<string> = new Set(['/', '/index.html', '/status', '/api/status', '/events']);

/** Both schemes: curl and scripts send Bearer; a browser prompts only for Basic. */
const CHALLENGE = ['Basic realm="checkups", charset="UTF-8"', 'Bearer realm="checkups"'];

export interface RunningHttpServer {
  readonly port: number;
  close(): Promise<void>;
}

const ROUTES = 'GET /status, / (the status page), /api/status, /events, /metrics, /healthz, /readyz';

function asset(res: ServerResponse, contentType: string, body: string): void {
  res.writeHead(200, { 'content-type': `${contentType}; charset=utf-8`, 'cache-control': 'no-cache', 'content-security-policy': STATUS_PAGE_CSP, 'x-content-type-options': 'nosniff' }).end(body);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

export async function startHttpServer(listen: { host: string; port: number }, sources: HttpSources): Promise<RunningHttpServer> {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://checkups');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    if (READ_ROUTES.has(url.pathname)) {
      const refusal = sources.authorize?.(req, url.pathname) ?? null;
      if (refusal !== null) {
        res.writeHead(refusal.status, { 'content-type': 'text/plain', 'www-authenticate': CHALLENGE, 'cache-control': 'no-store' }).end(`${refusal.message}\n`);
        return;
      }
    }
    switch (url.pathname) {
      case '/':
      case '/index.html':
        asset(res, 'text/html', STATUS_PAGE_HTML);
        return;
      case '/ui/app.js':
        asset(res, 'text/javascript', STATUS_PAGE_JS);
        return;
      case '/ui/app.css':
        asset(res, 'text/css', STATUS_PAGE_CSS);
        return;
      case '/status':
        json(res, 200, luaStatus(sources.luaStatus()));
        return;
      case '/api/status':
        json(res, 200, sources.statusView());
        return;
      case '/metrics': {
        const { contentType, body } = await sources.metrics();
        res.writeHead(200, { 'content-type': contentType }).end(body);
        return;
      }
      case '/healthz':
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
        return;
      case '/readyz': {
        const report = sources.readiness();
        const lines = [...report.checks].map(([name, problem]) => (problem === null ? `[+] ${name} ok` : `[-] ${name}: ${problem}`));
        res.writeHead(report.ready ? 200 : 503, { 'content-type': 'text/plain' }).end(`${lines.join('\n')}\n${report.ready ? 'ready' : 'not ready'}\n`);
        return;
      }
      case '/events':
        if (sources.events !== undefined) {
          sources.events(req, res, url.searchParams);
          return;
        }
        break;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: try ${ROUTES}\n`);
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    });
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
