/**
 * TCP listeners for the probe benchmark, in their own process: argv = first address index,
 * address count, first port, port count. Listens on 127.0.1.<i> for each address and port
 * (loopback only), accepts and closes. Prints "ready" when all listen.
 */
import { createServer } from 'node:net';

const [addrFrom, addrCount, portFrom, portCount] = process.argv.slice(2).map(Number) as [number, number, number, number];
let pending = addrCount * portCount;
for (let a = 0; a < addrCount; a++) {
  for (let p = 0; p < portCount; p++) {
    const server = createServer((s) => {
      s.on('error', () => {});
      s.destroy();
    });
    server.listen(portFrom + p, `127.0.1.${addrFrom + a}`, () => {
      if (--pending === 0) process.stdout.write('ready\n');
    });
  }
}
process.on('SIGTERM', () => process.exit(0));
