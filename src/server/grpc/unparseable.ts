/**
 * Requests that do not deserialize get INVALID_ARGUMENT. grpc-js answers a throwing request
 * deserializer with INTERNAL ("Error deserializing request"), which tells the client the server
 * broke when the client did. So deserializers never throw here: a bad message becomes a marker
 * value that the handler turns into INVALID_ARGUMENT before any of its own code runs.
 */
import * as grpc from '@grpc/grpc-js';
import { clip } from '../../util/bounded-text.ts';
import { CheckupsError } from '../../util/errors.ts';
import { errorToWire } from '../../wire/errors.ts';

const UNPARSEABLE = Symbol('unparseable request');

export interface Unparseable {
  readonly [UNPARSEABLE]: string;
}

export function isUnparseable(value: unknown): value is Unparseable {
  return typeof value === 'object' && value !== null && UNPARSEABLE in value;
}

/** `decode`, returning a marker instead of throwing. */
export function tolerantDeserializer<T>(decode: (bytes: Buffer) => T): (bytes: Buffer) => T | Unparseable {
  return (bytes) => {
    try {
      return decode(bytes);
    } catch (err) {
      return { [UNPARSEABLE]: err instanceof Error ? err.message : String(err) };
    }
  };
}

export function unparseableError(what: string, marker: Unparseable): grpc.ServiceError {
  return errorToWire(new CheckupsError('INVALID_ARGUMENT', `the request does not parse as ${what}: ${clip(marker[UNPARSEABLE])}`));
}

/**
 * A service definition whose deserializers never throw, and handlers that answer an
 * unparseable request with INVALID_ARGUMENT (unary and server-streaming calls; client-streaming
 * and bidi handlers see the marker as a message and must check `isUnparseable` themselves).
 */
export function guardService(definition: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation): [grpc.ServiceDefinition, grpc.UntypedServiceImplementation] {
  const defs: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  const impl: grpc.UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition)) {
    defs[name] = { ...method, requestDeserialize: tolerantDeserializer(method.requestDeserialize) };
    const handler = handlers[name] as unknown;
    if (handler === undefined) continue;
    const what = method.path.replace(/^\//, '').replace('/', ' ') + ' request';
    if (!method.requestStream && !method.responseStream) {
      impl[name] = ((call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        if (isUnparseable(call.request)) callback(unparseableError(what, call.request));
        else (handler as grpc.handleUnaryCall<unknown, unknown>)(call, callback);
      }) as grpc.UntypedHandleCall;
    } else if (!method.requestStream) {
      impl[name] = ((call: grpc.ServerWritableStream<unknown, unknown>) => {
        if (isUnparseable(call.request)) call.emit('error', unparseableError(what, call.request));
        else (handler as grpc.handleServerStreamingCall<unknown, unknown>)(call);
      }) as grpc.UntypedHandleCall;
    } else {
      impl[name] = handler as grpc.UntypedHandleCall;
    }
  }
  return [defs as grpc.ServiceDefinition, impl];
}
