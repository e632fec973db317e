/**
 * A checkups server in a child process, for tests that kill it: prints one JSON line
 * {"grpc": "...", "http": "..."} once serving. argv: configFile dataDir [adminToken].
 * SERVE_CHILD_GRPC_LISTEN fixes the gRPC address, so a restarted server is found where it was.
 */
import pino from 'pino';
import { startCheckups } from '../../src/main.ts';

const [configFile, dataDir, adminToken] = process.argv.slice(2);
const server = await startCheckups({
  configFile: configFile!,
  dataDir: dataDir!,
  grpcListen: process.env['SERVE_CHILD_GRPC_LISTEN'] ?? '127.0.0.1:0',
  httpListen: '127.0.0.1:0',
  healthChecks: false,
  ...(adminToken !== undefined ? { adminToken } : {}),
  logger: pino({ level: 'silent' }),
});
process.stdout.write(`${JSON.stringify({ grpc: server.grpcAddress, http: server.httpAddress })}\n`);
process.on('SIGTERM', () => {
  void server.stop(1000).then(() => process.exit(0));
});
