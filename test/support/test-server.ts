/**
 * A real checkups server for integration tests: loopback, ports chosen by the OS, health checks
 * off unless asked, no tokens unless given (a CHECKUPS_ADMIN_TOKEN, CHECKUPS_READ_TOKEN or
 * CHECKUPS_FEEDBACK_TOKEN in the shell must not leak in), silent logs. `dir` holds `checkups.yaml` and the data dir.
 */
import { join } from 'node:path';
import pino from 'pino';
import { startCheckups, type Checkups, type ServeOptions } from '../../src/main.ts';

export function startTestServer(dir: string, overrides: ServeOptions = {}): Promise<Checkups> {
  return startCheckups({
    configFile: join(dir, 'checkups.yaml'),
    grpcListen: '127.0.0.1:0',
    httpListen: '127.0.0.1:0',
    dataDir: join(dir, 'data'),
    healthChecks: false,
    adminToken: '',
    readToken: '',
    feedbackToken: '',
    logger: pino({ level: 'silent' }),
    ...overrides,
  });
}
