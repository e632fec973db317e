/**
 * `/metrics` as Prometheus sees it: a real Prometheus (Debian's `prometheus`) started on
 * loopback with a temporary config and data dir scrapes a running checkups every 250 ms; a
 * backend goes away, the health flip shows in Prometheus' query API; `promtool check metrics`
 * accepts the exposition as it is.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Checkups } from '../../src/main.ts';
import type { CheckupsEvent } from '../../src/observability/events.ts';
import { checkupsVersion } from '../../src/util/version.ts';
import { freePort, listen } from '../support/net.ts';
import { startTestServer } from '../support/test-server.ts';
import { waitFor } from '../support/xds-backends.ts';

async function text(url: string): Promise<string> {
  const res = await fetch(url);
  assert.equal(res.status, 200, `${url}: ${res.status}`);
  return res.text();
}

/** Instant query; the first sample's value, or undefined when the result is empty. */
async function promQuery(base: string, query: string): Promise<number | undefined> {
  const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await res.json()) as { status: string; data: { result: Array<{ value: [number, string] }> } };
  assert.equal(body.status, 'success');
  const first = body.data.result[0];
  return first === undefined ? undefined : Number(first.value[1]);
}

describe('Prometheus scraping /metrics', () => {
  let dir: string;
  let server: Checkups;
  let backend: Server;
  let backendPort: number;
  let prometheus: ChildProcess;
  let prometheusUrl: string;
  const events: CheckupsEvent[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'checkups-prom-'));
    // Closed at accept, as the other tests' live backends: the probe's reset finds no socket.
    backend = createServer((s) => s.destroy());
    backendPort = await listen(backend);
    writeFileSync(
      join(dir, 'checkups.yaml'),
      `global: { checkup_timer_interval: 0.2 }
upstreams:
  api: { typ: general, timeout: 1, protected: false, cluster: [ { servers: [ { host: 127.0.0.1, port: ${backendPort} } ] } ] }
`,
    );
    server = await startTestServer(dir, { healthChecks: true });
    server.events.follow({ afterSeq: 0, write: (e) => (events.push(e), true) });
    const promPort = await freePort();
    prometheusUrl = `http://127.0.0.1:${promPort}`;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global: { scrape_interval: 250ms, scrape_timeout: 200ms, evaluation_interval: 1s }
scrape_configs:
  - job_name: checkups
    static_configs: [ { targets: [ '${server.httpAddress}' ] } ]
`,
    );
    prometheus = spawn(
      'prometheus',
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    prometheus.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    prometheus.on('exit', (code) => {
      if (code !== null && code !== 0) process.stderr.write(`prometheus exited ${code}:\n${stderr}\n`);
    });
    await waitFor(async () => (await promQuery(prometheusUrl, 'up{job="checkups"}').catch(() => undefined)) === 1, 'Prometheus to scrape checkups', 30_000);
  });

  after(async () => {
    if (prometheus !== undefined && prometheus.exitCode === null) {
      prometheus.kill('SIGTERM');
      await once(prometheus, 'exit');
    }
    await server?.stop(100);
    backend?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows a health flip in Prometheus', async () => {
    // First verdict after start: ok, seen by Prometheus as a peer in state ok.
    await waitFor(() => events.some((e) => e.kind === 'health' && e.peer === `127.0.0.1:${backendPort}` && e.details['to'] === 'ok'), 'the first verdict', 10_000);
    await waitFor(async () => (await promQuery(prometheusUrl, 'checkups_peers{upstream="api",status="ok"}')) === 1, 'Prometheus to see the peer ok', 15_000);
    assert.equal(await promQuery(prometheusUrl, 'checkups_health_transitions_total{cause="active",to="err"}'), undefined);

    backend.close();
    await waitFor(() => events.some((e) => e.kind === 'health' && e.details['to'] === 'err'), 'the peer to go err', 10_000);
    await waitFor(async () => (await promQuery(prometheusUrl, 'checkups_peers{upstream="api",status="err"}')) === 1, 'Prometheus to see the peer err', 15_000);
    assert.equal(await promQuery(prometheusUrl, 'checkups_health_transitions_total{cause="active",to="err"}'), 1);
    assert.equal(await promQuery(prometheusUrl, 'checkups_peer_up{upstream="api"}'), 0);
    assert.ok(((await promQuery(prometheusUrl, 'sum(checkups_probes_total{typ="general",result="err"})')) ?? 0) >= 1);
    assert.ok(((await promQuery(prometheusUrl, 'checkups_probe_duration_seconds_count{typ="general",result="ok"}')) ?? 0) >= 1);
    assert.equal(await promQuery(prometheusUrl, `count(checkups_build_info{version="${checkupsVersion()}"})`), 1);
    assert.ok(((await promQuery(prometheusUrl, 'process_resident_memory_bytes{job="checkups"}')) ?? 0) > 0);
  });

  it('passes promtool check metrics', async () => {
    const body = await text(`http://${server.httpAddress}/metrics`);
    for (const name of ['checkups_scheduler_lateness_seconds_bucket', 'checkups_grpc_server_handled_total', 'checkups_streams', 'checkups_store_append_seconds', 'nodejs_eventloop_lag_seconds']) {
      assert.match(body, new RegExp(`^# (HELP|TYPE) ${name.replace(/_bucket$/, '')} `, 'm'), name);
    }
    const check = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    assert.equal(check.status, 0, `promtool check metrics:\n${check.stdout}${check.stderr}`);
  });
});
