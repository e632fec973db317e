/**
 * kill -9 during a burst of UpdateUpstream loses no acknowledged change: a server in a child
 * process takes concurrent writes; it is SIGKILLed mid-burst; a new server on the same data
 * dir must hold every write that was acknowledged, exactly as written. Three rounds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { jsonToValue, structToJson } from '../../src/wire/struct.ts';
import { call, clients } from '../support/grpc-clients.ts';

const dir = mkdtempSync(join(tmpdir(), 'checkups-crash-'));
writeFileSync(join(dir, 'checkups.yaml'), 'upstreams:\n  seed: { cluster: [ { servers: [ { host: 127.0.0.1, port: 1 } ] } ] }\n');

async function startChild(): Promise<{ child: ChildProcess; address: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/serve-child.ts', join(dir, 'checkups.yaml'), join(dir, 'data')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [line] = (await once(lines, 'line')) as [string];
  clearTimeout(timer);
  return { child, address: (JSON.parse(line) as { grpc: string }).grpc };
}

/** The document written for write number n: unique skey, content derived from n. */
const docFor = (n: number) => [{ servers: [{ host: '127.0.0.1', port: 1000 + n, weight: 1 + (n % 7) }] }];

after(() => rmSync(dir, { recursive: true, force: true }));

describe('durability under kill -9', () => {
  it('every acknowledged UpdateUpstream survives, over three crashes', async () => {
    const acked = new Set<number>();
    let next = 0;
    for (let round = 0; round < 3; round++) {
      const { child, address } = await startChild();
      const c = clients(address);
      // Everything acknowledged in earlier rounds is there.
      for (const n of acked) {
        const got = await call(c.admin, c.admin.GetUpstream, { skey: `w${n}` });
        assert.deepEqual((structToJson(got.upstream)['cluster'] as Record<string, { servers: Array<{ port: number; weight: number }> }>)['1']!.servers.map((s) => [s.port, s.weight]), [[1000 + n, 1 + (n % 7)]]);
      }
      // A burst: 16 writers in parallel until the kill.
      let killed = false;
      const roundAcks: number[] = [];
      const writer = async () => {
        while (!killed) {
          const n = next++;
          try {
            await call(c.admin, c.admin.UpdateUpstream, { skey: `w${n}`, cluster: jsonToValue(docFor(n)) });
            if (!killed) roundAcks.push(n);
          } catch {
            return; // the server is gone: unacknowledged, may or may not be stored
          }
        }
      };
      const writers = Array.from({ length: 16 }, writer);
      while (roundAcks.length < 150) await new Promise((r) => setTimeout(r, 5));
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      killed = true;
      await exited;
      await Promise.all(writers);
      c.close();
      for (const n of roundAcks) acked.add(n);
    }
    // A last start verifies the final round.
    const { child, address } = await startChild();
    const c = clients(address);
    const list = await call(c.admin, c.admin.ListUpstreams, {});
    const present = new Set(list.upstreams.map((u) => u.skey));
    const lost = [...acked].filter((n) => !present.has(`w${n}`));
    assert.deepEqual(lost, [], `${lost.length} of ${acked.size} acknowledged writes lost`);
    assert.ok(acked.size >= 450);
    c.close();
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0, 'SIGTERM drains and exits 0');
  });
});
