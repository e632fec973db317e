/**
 * Counting TCP listeners for the cluster benchmark, in their own process: argv = first address
 * index, address count, first port, port count. Listens on 127.0.1.<i>:<port> (loopback only),
 * accepts and closes, and remembers when each connection (= one probe) came. Prints "ready" once
 * all listen, then answers one JSON line per command line on stdin:
 * - `count FROM TO`: connections in [FROM, TO) (epoch ms), in total;
 * - `spread FROM TO`: how many targets had k connections in [FROM, TO), k -> targets;
 * - `first FROM`: per target "host:port" -> first connection at or after FROM (0 = none);
 * - `close N`: stops listening on the first N targets (refused from now on); answers their keys;
 * - `open N`: listens on the first N targets again; answers their count once all listen.
 */
import { createServer, type Server } from 'node:net';
import { createInterface } from 'node:readline';

const [addrFrom, addrCount, portFrom, portCount] = process.argv.slice(2).map(Number) as [number, number, number, number];
const targets: Array<{ key: string; server: Server; hits: number[] }> = [];
let pending = addrCount * portCount;
for (let a = 0; a < addrCount; a++) {
  for (let p = 0; p < portCount; p++) {
    const hits: number[] = [];
    const server = createServer((s) => {
      hits.push(Date.now());
      s.on('error', () => {});
      s.destroy();
    });
    const host = `127.0.1.${addrFrom + a}`;
    targets.push({ key: `${host}:${portFrom + p}`, server, hits });
    server.listen(portFrom + p, host, () => {
      if (--pending === 0) process.stdout.write('ready\n');
    });
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, a, b] = line.trim().split(/\s+/);
  if (cmd === 'count') {
    const from = Number(a);
    const to = Number(b);
    let n = 0;
    for (const t of targets) for (const h of t.hits) if (h >= from && h < to) n++;
    process.stdout.write(`${JSON.stringify({ count: n, targets: targets.length })}\n`);
  } else if (cmd === 'spread') {
    const from = Number(a);
    const to = Number(b);
    const out: Record<number, number> = {};
    for (const t of targets) {
      let n = 0;
      for (const h of t.hits) if (h >= from && h < to) n++;
      out[n] = (out[n] ?? 0) + 1;
    }
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } else if (cmd === 'first') {
    const from = Number(a);
    const out: Record<string, number> = {};
    for (const t of targets) out[t.key] = t.hits.find((h) => h >= from) ?? 0;
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } else if (cmd === 'close') {
    const closed = targets.slice(0, Number(a)).map((t) => {
      t.server.close();
      return t.key;
    });
    process.stdout.write(`${JSON.stringify(closed)}\n`);
  } else if (cmd === 'open') {
    const again = targets.slice(0, Number(a));
    let waiting = again.length;
    if (waiting === 0) process.stdout.write('0\n');
    for (const t of again) {
      const [host, port] = t.key.split(':') as [string, string];
      t.server.listen(Number(port), host, () => {
        if (--waiting === 0) process.stdout.write(`${again.length}\n`);
      });
    }
  }
});
process.on('SIGTERM', () => process.exit(0));
