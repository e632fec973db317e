/** Loopback servers and probe contexts for integration tests. Everything binds 127.0.0.1. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProbeType, UpstreamSpec } from '../../src/core/model.ts';
import { ProbeDeadline } from '../../src/health/probes/deadline.ts';
import { upstream } from './builders.ts';

/** Anything with listen/address/close: net, http, https, tls servers. */
interface Listenable {
  listen(port: number, host: string): unknown;
  address(): AddressInfo | string | null;
  once(event: 'listening', cb: () => void): unknown;
}

export async function listen(server: Listenable): Promise<number> {
  const listening = new Promise<void>((resolve) => server.once('listening', resolve));
  server.listen(0, '127.0.0.1');
  await listening;
  return (server.address() as AddressInfo).port;
}

/** A port that was free a moment ago: connecting to it is refused. */
export async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  server.close();
  await once(server, 'close');
  return port;
}

/** Accepts connections, never writes and never closes (not even on FIN); counts the bytes it receives. */
export async function blackhole(): Promise<{ port: number; bytesReceived(): number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let bytes = 0;
  const server: Server = createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('data', (d) => (bytes += d.length));
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  const port = await listen(server);
  return {
    port,
    bytesReceived: () => bytes,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A probe deadline that expires `timeoutMs` from now, as the scheduler's does. */
export function ctx(timeoutMs: number): ProbeDeadline {
  const deadline = new ProbeDeadline(timeoutMs);
  setTimeout(() => deadline.expire(), timeoutMs).unref();
  return deadline;
}

export function spec(typ: ProbeType, extra: Partial<UpstreamSpec> = {}): UpstreamSpec {
  return upstream('probe', [], { typ, ...extra });
}

export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Polls (bounded) until the fd count is within `slack` of `baseline`; returns the last count. */
export async function settleFds(baseline: number, slack = 2, maxMs = 500): Promise<number> {
  const deadline = Date.now() + maxMs;
  let n = openFds();
  while (Math.abs(n - baseline) > slack && Date.now() < deadline) {
    await sleep(20);
    n = openFds();
  }
  return n;
}

const SINK = `
const [mode] = process.argv.slice(1);
// A blackhole ignores FIN too (allowHalfOpen), as a hung peer would: a client that only
// half-closes keeps its socket open.
const server = require('node:net').createServer({ allowHalfOpen: mode === 'blackhole' }, (s) => s.on('error', () => {}));
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => console.log(server.address().port));
process.stdin.on('end', () => process.exit(0)).resume();
`;

/**
 * A TCP server in a child process: `sink` accepts and closes when the client does; `blackhole`
 * accepts and never answers or closes. Server-side sockets then do not count in this process's
 * fds, and connect storms work: a server in the test's own process accepts too slowly while the
 * same event loop runs the probes, its accept queue overflows, the kernel drops SYNs and
 * connects stall for the 1 s SYN retransmit. The child exits when its stdin closes.
 */
export async function startTcpServerChild(mode: 'sink' | 'blackhole'): Promise<{ port: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['-e', SINK, mode], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  return {
    port: Number(line.toString().trim()),
    stop: async () => {
      child.stdin!.end();
      await exited;
    },
  };
}

/**
 * A port whose SYNs are dropped: a listener (in a python3 child, since Node accepts every
 * connection itself) with a backlog of 0 that never accepts, its queue filled at once, so the
 * kernel drops further SYNs and a connect stays in SYN-SENT until the client gives up.
 */
export async function synDropper(host = '127.0.0.1'): Promise<{ port: number; close(): void }> {
  const child = spawn('python3', ['-c', `
import socket, sys
s = socket.socket()
s.bind((sys.argv[1], 0))
s.listen(0)
port = s.getsockname()[1]
fill = []
for i in range(4):
    c = socket.socket()
    c.setblocking(False)
    try:
        c.connect(('127.0.0.1', port))
    except BlockingIOError:
        pass
    fill.append(c)
print(port, flush=True)
sys.stdin.read()
`, host], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  return { port: Number(line.toString().trim()), close: () => child.kill() };
}
