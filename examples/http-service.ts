/**
 * A small HTTP service that calls the `api` upstream through the client SDK's readyOk:
 * local picks, retries on failure (a 502 counts as failed: http_opts.statuses), every outcome
 * reported to checkups. With `npm start` running:
 *
 *   node --import tsx examples/http-service.ts      # listens on 127.0.0.1:8080
 *   curl -s http://127.0.0.1:8080/hello
 */
import { createServer } from 'node:http';
import { request } from 'undici';
import { CheckupsClient } from '../src/client/index.ts';

const checkups = new CheckupsClient({ servers: process.env['CHECKUPS_SERVER'] ?? '127.0.0.1:7600', upstreams: ['api'] });
await checkups.ready();

const server = createServer((req, res) => {
  checkups
    .readyOk(
      'api',
      async (peer, { signal }) => {
        const r = await request(`http://${peer.host}:${peer.port}${req.url ?? '/'}`, { signal: signal ?? null, headersTimeout: 2000, bodyTimeout: 2000 });
        return { status: r.statusCode, body: await r.body.text(), peer: `${peer.host}:${peer.port}` };
      },
      { try: 3, tryTimeoutMs: 3000, request: { path: req.url ?? '/' } },
    )
    .then(
      (r) => {
        res.writeHead(r.status, { 'content-type': 'application/json', 'x-upstream-peer': r.peer });
        res.end(r.body);
      },
      (err: Error) => {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end(`no usable api peer: ${err.message}\n`);
      },
    );
});
server.listen(Number(process.env['PORT'] ?? 8080), '127.0.0.1', () => {
  console.log(`http-service on http://127.0.0.1:${process.env['PORT'] ?? 8080} -> upstream "api" via checkups at ${checkups.status().connectedTo}`);
});
const stop = () => {
  server.close();
  void checkups.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
