/// <reference lib="dom" />
/**
 * The status page behind the read rule, in a real browser (Debian's chromium, driven by
 * playwright-core): without credentials the page is refused; with the read token given once
 * as the Basic password (what a person types into the browser's prompt) the page renders,
 * its /api/status fetches and its /events stream carry the credential, and it stays live.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import type { Checkups } from '../../src/main.ts';
import { bearer, call, clients } from '../support/grpc-clients.ts';
import { startTestServer } from '../support/test-server.ts';

const READ = 'page-read-token-0123456789abcdef';
const ADMIN = 'page-admin-token-0123456789abcde';

describe('status page with discovery_auth required (real chromium)', () => {
  let dir: string;
  let server: Checkups;
  let browser: Browser;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'checkups-page-auth-'));
    await writeFile(join(dir, 'checkups.yaml'), 'upstreams:\n  api:\n    enable: false\n    cluster: [ { servers: [ { host: 127.0.0.1, port: 9101 }, { host: 127.0.0.1, port: 9102 } ] } ]\n');
    server = await startTestServer(dir, { discoveryAuth: 'required', readToken: READ, adminToken: ADMIN });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
  });

  after(async () => {
    await browser?.close();
    await server?.stop(0);
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses the page without credentials, with a challenge a browser prompts for', async () => {
    // (Headless chromium without credentials cancels the prompt: the refusal is checked here.)
    const res = await fetch(`http://127.0.0.1:${server.http.port}/`);
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Basic realm="checkups"/);
    assert.match(await res.text(), /needs 'Authorization: Bearer <token>' \(or HTTP Basic with the token as password\)/);
  });

  it('with the read token as the Basic password: renders, follows /events live, shows an admin change', async () => {
    const context = await browser.newContext({ httpCredentials: { username: 'ops', password: READ } });
    const page = await context.newPage();
    const refused: string[] = [];
    page.on('response', (r) => r.status() === 401 && refused.push(r.url()));
    try {
      await page.goto(`http://127.0.0.1:${server.http.port}/`);
      await page.waitForFunction(() => document.querySelectorAll('tr[data-peer]').length === 2);
      await page.waitForFunction(() => document.getElementById('live')?.textContent === 'live');
      // A change made now reaches the page through the authenticated event stream.
      const c = clients(server.grpcAddress);
      try {
        await call(c.admin, c.admin.SetPeerDown, { skey: 'api', host: '127.0.0.1', port: 9102 }, bearer(ADMIN));
      } finally {
        c.close();
      }
      await page.waitForFunction(() => Array.from(document.querySelectorAll('#events li')).some((li) => /SetPeerDown api by admin-token/.test(li.textContent ?? '')), undefined, { timeout: 5000 });
      const open = server.events.since().filter((e) => e.kind === 'auth' && /\/(api\/status|events)$/.test(String(e.details['method'])) && e.details['reason'] === 'token rejected');
      assert.deepEqual(open, [], 'the credential was never wrong');
      // Each route was challenged at most once (then the browser sends the credential itself).
      assert.ok(refused.length <= 3, refused.join(' '));
    } finally {
      await context.close();
    }
  });
});
