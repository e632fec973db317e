/**
 * A checkups server in its own process for benchmarks (so clients and server do not share an
 * event loop): prints {"grpc": "..."} once serving, stops on SIGTERM. argv: configFile dataDir
 */
import pino from 'pino';
import { startCheckups } from '../src/main.ts';

const [configFile, dataDir] = process.argv.slice(2);
const server = await startCheckups({
  configFile: configFile!,
  dataDir: dataDir!,
  grpcListen: '127.0.0.1:0',
  httpListen: '127.0.0.1:0',
  healthChecks: false,
  logger: pino({ level: 'silent' }),
});
process.stdout.write(`${JSON.stringify({ grpc: server.grpcAddress, pid: process.pid })}\n`);
process.on('SIGTERM', () => void server.stop(500).then(() => process.exit(0)));
