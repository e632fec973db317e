/**
 * One load-generating process for `bench rpc`: `callers` concurrent closed-loop callers of one
 * unary method for `ms`, on a channel of its own. Prints one JSON line: calls, errors and the
 * latencies (ms) of every call, after a `ready` line and a go (any byte) on stdin.
 * argv: address method(select|noop) callers ms
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { checkupsProto } from '../src/wire/proto.ts';
import { closedLoop } from './harness.ts';

const [address, method, callers, ms] = process.argv.slice(2) as [string, 'select' | 'noop', string, string];
const proto = checkupsProto();
const discovery = new proto.DiscoveryService(address, grpc.credentials.createInsecure());
const healthPkg = grpc.loadPackageDefinition(protoLoader.loadSync(healthProtoPath)) as unknown as { grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } } };
const health = new healthPkg.grpc.health.v1.Health(address, grpc.credentials.createInsecure(), { channelOverride: discovery.getChannel() }) as unknown as {
  Check(req: object, cb: (e: Error | null) => void): void;
};
const call = method === 'select' ? (done: (e: unknown) => void) => discovery.SelectPeer({ skey: 'api' }, (e) => done(e)) : (done: (e: unknown) => void) => health.Check({ service: '' }, (e) => done(e));
// Warm the connection, say so, and start measuring when the parent says go (all generators at once).
await closedLoop(4, 200, call);
process.stdout.write('ready\n');
await new Promise((resolve) => process.stdin.once('data', resolve));
const res = await closedLoop(Number(callers), Number(ms), call);
process.stdout.write(`${JSON.stringify({ calls: res.latencies.length, errors: res.errors, latencies: res.latencies })}\n`);
discovery.close();
