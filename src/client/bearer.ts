/**
 * The SDK's credential: `authorization: Bearer <token>` on every call of a client (Watch,
 * SelectPeer, FeedbackBatch, ...), added by a client interceptor where the gRPC clients are
 * built, so no call site has to remember it. Which token: the read token for a client that
 * only picks, the feedback token for one that also reports outcomes (the SDK does by default),
 * or the admin token (docs/security.md).
 */
import * as grpc from '@grpc/grpc-js';

/** The environment variable the SDK and the CLI read a token from when none is given. */
export const TOKEN_ENV = 'CHECKUPS_TOKEN';

/** `token`, else CHECKUPS_TOKEN; undefined when neither is set (or both are empty). */
export function tokenOrEnv(token: string | undefined): string | undefined {
  const t = token ?? process.env[TOKEN_ENV];
  return t === undefined || t === '' ? undefined : t;
}

/** Client options that send `token` with every call (none: no change). */
export function withBearer(options: grpc.ClientOptions, token: string | undefined): grpc.ClientOptions {
  if (token === undefined) return options;
  const interceptor: grpc.Interceptor = (callOptions, nextCall) =>
    new grpc.InterceptingCall(nextCall(callOptions), {
      start(metadata, listener, next) {
        // A token the call brings itself wins.
        if (metadata.get('authorization').length === 0) metadata.set('authorization', `Bearer ${token}`);
        next(metadata, listener);
      },
    });
  return { ...options, interceptors: [...(options.interceptors ?? []), interceptor] };
}
