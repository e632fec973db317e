/**
 * Probe hygiene against a target that drops SYNs: every probe type gives up at its deadline and
 * closes its socket then, whatever state it is in, so the process's fds stay flat however many
 * probes time out. (A gRPC probe used to leave one SYN-SENT socket per probe for the kernel's
 * whole retry time.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ProbeType } from '../../src/core/model.ts';
import { runProbe } from '../../src/health/probes/index.ts';
import { ctx, openFds, settleFds, spec, synDropper } from '../support/net.ts';

const TYPES: readonly ProbeType[] = ['general', 'http', 'redis', 'mysql', 'grpc'];
const PROBES_PER_TYPE = 12;
const TIMEOUT_MS = 150;

describe('probes against a SYN-dropping target', () => {
  let target: Awaited<ReturnType<typeof synDropper>>;
  before(async () => {
    target = await synDropper();
  });
  after(() => target?.close());

  for (const typ of TYPES) {
    it(`${typ}: each probe is "timeout" at its deadline and fds stay flat`, async () => {
      const baseline = openFds();
      for (let i = 0; i < PROBES_PER_TYPE; i++) {
        const t0 = performance.now();
        const result = await runProbe({ host: '127.0.0.1', port: target.port }, spec(typ), ctx(TIMEOUT_MS));
        const ms = performance.now() - t0;
        assert.deepEqual({ status: result.status, msg: result.msg }, { status: 'err', msg: 'timeout' });
        assert.ok(ms < TIMEOUT_MS + 250, `${typ} probe ${i} took ${ms.toFixed(0)} ms`);
      }
      const after = await settleFds(baseline, 1);
      assert.ok(after - baseline <= 1, `${typ}: ${PROBES_PER_TYPE} timed-out probes left ${after - baseline} fds open`);
    });
  }
});
