/**
 * RPC metrics for a whole service: wraps each unary handler to count it by status code and
 * time it (checkups_grpc_server_handled_total, checkups_grpc_server_handling_seconds). Done once
 * here, at registration, so no handler carries its own bookkeeping.
 */
import * as grpc from '@grpc/grpc-js';
import { grpcHandled, grpcHandling } from '../../observability/metrics.ts';
import type { Clock } from '../../util/clock.ts';

const CODE_NAMES = new Map<number, string>(Object.entries(grpc.status).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v as number, k]));

export function instrumentUnary(service: string, definition: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation, clock: Clock): grpc.UntypedServiceImplementation {
  const out: grpc.UntypedServiceImplementation = { ...handlers };
  for (const [method, def] of Object.entries(definition)) {
    const handler = handlers[method];
    if (def.requestStream || def.responseStream || handler === undefined) continue;
    const unary = handler as grpc.handleUnaryCall<unknown, unknown>;
    const timer = grpcHandling.labels({ grpc_service: service, grpc_method: method });
    out[method] = ((call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const started = clock.now();
      unary(call, (err, value, trailer, flags) => {
        const code = err === null || err === undefined ? grpc.status.OK : (err.code ?? grpc.status.UNKNOWN);
        grpcHandled.inc({ grpc_service: service, grpc_method: method, grpc_code: CODE_NAMES.get(code) ?? String(code) });
        timer.observe((clock.now() - started) / 1000);
        callback(err, value, trailer, flags);
      });
    }) as grpc.UntypedHandleCall;
  }
  return out;
}
