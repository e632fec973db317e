/**
 * `npm start`: demo backends plus `checkups serve` on examples/checkups.yaml (gRPC on
 * 127.0.0.1:7600, HTTP status on 127.0.0.1:7601, admin changes in ./checkups-data).
 * A newcomer sees ok and err servers at once: `npx checkups status`.
 *
 * Admin changes (`npx checkups update`, `peer down`, ...) outlive a restart, so the start log
 * names the data dir and says how to leave it behind: `npm start -- --fresh` empties it first.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { acquireLock, LOCK_FILE } from '../src/core/store/lock.ts';
import { DEFAULT_DATA_DIR, startCheckups } from '../src/main.ts';
import { startDemoBackends } from './demo-backends.ts';

const FRESH_HINT = 'npm start -- --fresh';
const { values: args } = parseArgs({ options: { fresh: { type: 'boolean', default: false } } });
const logger = pino(process.stdout.isTTY ? { transport: { target: 'pino-pretty' } } : {});
const dataDir = resolve(DEFAULT_DATA_DIR);

if (args.fresh) {
  // Under the store's own lock, so a demo still running on this dir is named, not pulled from under.
  await mkdir(dataDir, { recursive: true });
  const release = await acquireLock(dataDir);
  const entries = (await readdir(dataDir)).filter((name) => name !== LOCK_FILE);
  await Promise.all(entries.map((name) => rm(join(dataDir, name), { recursive: true, force: true })));
  await release();
  logger.info(`--fresh: emptied the data dir ${dataDir}; serving examples/checkups.yaml as written`);
}

const backends = await startDemoBackends();
const checkups = await startCheckups({ logger, dataDir });
if (checkups.restoredUpstreams > 0) {
  logger.warn(
    `data dir ${checkups.dataDir}: ${checkups.restoredUpstreams} upstream(s) changed through the admin API in earlier runs were restored over examples/checkups.yaml; to start from the file alone: ${FRESH_HINT}`,
  );
} else {
  logger.info(`data dir ${checkups.dataDir}: admin changes are kept here and restored on restart; to start from examples/checkups.yaml alone: ${FRESH_HINT}`);
}
logger.info(
  `try: npx checkups status | npx checkups select api | curl -s http://${checkups.httpAddress}/status | grpcurl -plaintext ${checkups.grpcAddress} list`,
);
const stop = async () => {
  await checkups.stop(3000);
  await backends.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
