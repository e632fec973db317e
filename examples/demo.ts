/**
 * `npm start`: demo backends plus `checkups serve` on examples/checkups.yaml (gRPC on
 * 127.0.0.1:7600, HTTP status on 127.0.0.1:7601, admin changes in ./checkups-data).
 * A newcomer sees ok and err servers at once: `npx checkups status`.
 */
import pino from 'pino';
import { startCheckups } from '../src/main.ts';
import { startDemoBackends } from './demo-backends.ts';

const logger = pino(process.stdout.isTTY ? { transport: { target: 'pino-pretty' } } : {});
const backends = await startDemoBackends();
const checkups = await startCheckups({ logger });
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
