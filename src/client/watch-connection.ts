/**
 * The SDK's Watch stream: connects to one of the configured servers, resumes with the versions
 * the cache holds (so a reconnect costs only what changed), and on any failure moves to the next
 * server after an exponential backoff with full jitter. A server that refuses the stream with a
 * pushback (its admission line during a reconnect storm) is tried again when it said, not before.
 * Publishes state changes on the `checkups:client:connection` diagnostics channel; logs nothing.
 */
import * as grpc from '@grpc/grpc-js';
import { channel } from 'node:diagnostics_channel';
import type { WatchResponse__Output } from '../generated/checkups/v1/WatchResponse.ts';
import type { Clock, Timer } from '../util/clock.ts';
import { pushbackMs } from '../wire/errors.ts';
import type { Connection } from './connection.ts';

export const connectionChannel = channel('checkups:client:connection');
/** Snapshots the client could not use (the previous one of that upstream is kept). */
export const errorChannel = channel('checkups:client:error');

export interface WatchConnectionOptions {
  /** Its current server is where the watch connects; on failure it moves to the next one. */
  readonly connection: Connection;
  readonly clock: Clock;
  readonly random: () => number;
  /** Upstreams to watch; null = all. Read at every (re)connect. */
  readonly skeys: () => string[] | null;
  /** Versions held, sent on (re)connect. */
  readonly known: () => Record<string, number>;
  readonly onMessage: (m: WatchResponse__Output) => void;
  /** Synced with a server, or lost it. */
  readonly onState?: (state: 'synced' | 'disconnected', address: string, why?: string) => void;
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
}

/**
 * Exponential backoff with full jitter (a uniform draw below base * 2^attempt, capped): clients
 * that lost the same server at once come back spread out instead of together.
 */
export function backoffDelayMs(attempt: number, random: () => number, baseMs = 100, maxMs = 5000): number {
  return random() * Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 16));
}

/**
 * The wait before opening a stream again after a failure: the backoff, or when the server gave a
 * pushback, that (plus up to a tenth more, so streams given nearby places do not come back in
 * the same instant) if it is longer.
 */
export function retryDelayMs(attempt: number, random: () => number, pushback: number | undefined, baseMs?: number, maxMs?: number): number {
  const backoff = backoffDelayMs(attempt, random, baseMs, maxMs);
  return pushback === undefined ? backoff : Math.max(backoff, pushback * (1 + random() / 10));
}

export class WatchConnection {
  private attempt = 0;
  private stream: grpc.ClientReadableStream<WatchResponse__Output> | undefined;
  private retry: Timer | undefined;
  private stopped = false;
  private restarting = false;
  /** Address of the server the stream is synced with, or null while disconnected. */
  connectedTo: string | null = null;

  constructor(private readonly opts: WatchConnectionOptions) {}

  start(): void {
    this.connect();
  }

  /** Reconnects at once (for example with a new set of upstreams), resuming from the versions held. */
  restart(): void {
    if (this.stream === undefined) return; // between attempts: the next one reads the new set anyway
    this.restarting = true;
    this.stream.cancel();
  }

  stop(): void {
    this.stopped = true;
    this.retry?.cancel();
    this.stream?.cancel();
  }

  private connect(): void {
    if (this.stopped) return;
    const { address, discovery: client } = this.opts.connection.current;
    const skeys = this.opts.skeys();
    const stream = client.Watch({ skeys: skeys ?? [], knownVersions: this.opts.known() });
    this.stream = stream;
    stream.on('data', (m: WatchResponse__Output) => {
      if (m.syncComplete) {
        this.attempt = 0;
        this.connectedTo = address;
      }
      this.opts.onMessage(m);
      if (m.syncComplete) {
        connectionChannel.publish({ state: 'synced', address });
        this.opts.onState?.('synced', address);
      }
    });
    let done = false;
    const end = (why: string, pushback?: number) => {
      if (done) return;
      done = true;
      if (this.stream === stream) this.stream = undefined;
      const wasConnected = this.connectedTo !== null;
      this.connectedTo = null;
      if (wasConnected) {
        connectionChannel.publish({ state: 'disconnected', address, why });
        this.opts.onState?.('disconnected', address, why);
      }
      if (this.stopped) return;
      if (this.restarting) {
        this.restarting = false;
        return this.connect();
      }
      // A pushback is this server's place in line for us: wait for it there.
      if (pushback === undefined) this.opts.connection.next();
      const delay = retryDelayMs(this.attempt++, this.opts.random, pushback, this.opts.backoffBaseMs, this.opts.backoffMaxMs);
      this.retry = this.opts.clock.setTimer(delay, () => this.connect());
    };
    stream.on('error', (err: grpc.ServiceError) => end(err.message, pushbackMs(err.metadata)));
    stream.on('end', () => end('stream ended'));
  }
}
