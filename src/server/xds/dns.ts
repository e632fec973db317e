/**
 * Host names -> IP literals for ClusterLoadAssignments (gRPC NACKs host names, docs/envoy.md). The resolver is injected, so tests are deterministic; the default is the system's
 * (node:dns lookup, what every other client on the host sees).
 *
 * - A name is resolved when first used; its CLA waits for that first answer (endpoint.ts).
 * - Every `refreshMs` all names in use are resolved again; a change of address set calls
 *   `onChange(host)` so the CLAs using it are rebuilt. Names no longer used are forgotten.
 * - A failed first resolution counts as "no addresses" (the server is left out, retried at the
 *   next refresh); a failed refresh keeps the last good addresses (DNS hiccups must not empty
 *   a level).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Clock, Timer } from '../../util/clock.ts';
import type { XdsLogger } from './status.ts';

export type ResolveHost = (host: string) => Promise<readonly string[]>;

export const systemResolveHost: ResolveHost = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

export const DEFAULT_DNS_REFRESH_MS = 30_000;

interface HostEntry {
  /** Sorted; undefined until the first resolution finished. */
  addresses: readonly string[] | undefined;
  inFlight: boolean;
}

export interface HostAddressBookOptions {
  readonly resolve: ResolveHost;
  readonly clock: Clock;
  readonly refreshMs: number;
  /** The host names in use right now (the cache's index). */
  readonly inUse: () => Iterable<string>;
  readonly onChange: (host: string) => void;
  readonly logger?: XdsLogger;
}

export class HostAddressBook {
  private readonly entries = new Map<string, HostEntry>();
  private timer: Timer | undefined;
  private closed = false;

  constructor(private readonly opts: HostAddressBookOptions) {}

  /** IP literals of `host`, starting its resolution if needed; undefined until the first answer. */
  addresses(host: string): readonly string[] | undefined {
    let entry = this.entries.get(host);
    if (entry === undefined) {
      entry = { addresses: undefined, inFlight: false };
      this.entries.set(host, entry);
      void this.resolve(host, entry);
      this.schedule();
    }
    return entry.addresses;
  }

  /** Resolves every name in use again now (also what the periodic refresh does). */
  async refresh(): Promise<void> {
    const used = new Set(this.opts.inUse());
    for (const host of this.entries.keys()) if (!used.has(host)) this.entries.delete(host);
    await Promise.all([...this.entries].map(([host, entry]) => this.resolve(host, entry)));
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = this.opts.clock.setTimer(this.opts.refreshMs, () => {
      this.timer = undefined;
      void this.refresh().finally(() => {
        if (this.entries.size > 0) this.schedule();
      });
    });
  }

  private async resolve(host: string, entry: HostEntry): Promise<void> {
    if (entry.inFlight) return;
    entry.inFlight = true;
    let next: readonly string[] | undefined;
    try {
      // Anything but an IP literal would make clients NACK the whole CLA.
      next = (await this.opts.resolve(host)).filter((a) => isIP(a) !== 0).sort();
    } catch (err) {
      this.opts.logger?.warn({ host, err: (err as Error).message }, 'xds: cannot resolve host name');
      next = entry.addresses === undefined ? [] : entry.addresses;
    } finally {
      entry.inFlight = false;
    }
    if (this.closed || this.entries.get(host) !== entry) return;
    const before = entry.addresses;
    if (before !== undefined && before.length === next.length && before.every((a, i) => a === next[i])) return;
    entry.addresses = next;
    this.opts.onChange(host);
  }
}
