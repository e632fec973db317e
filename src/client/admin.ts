/**
 * AdminClient: typed AdminService calls (plus GetStatus and a server-side pick) taking and
 * returning plain objects in the config's vocabulary (checkups.yaml names, seconds). No
 * google.protobuf.Struct by hand. Each call is one RPC; writes return the upstream's new version,
 * which `CheckupsClient.synced(version)` waits for (read-your-writes).
 *
 *   const admin = new AdminClient({ servers: '127.0.0.1:7600', token });
 *   const { version } = await admin.peers.down('api', { host: '10.0.0.1', port: 80 });
 */
import type { SelectedPeer, SelectOptions } from '../balance/selection-engine.ts';
import type { RawServer, RawUpstream, StoredUpstream } from '../core/document.ts';
import type { AddPeerResponse__Output } from '../generated/checkups/v1/AddPeerResponse.ts';
import type { DeleteUpstreamResponse__Output } from '../generated/checkups/v1/DeleteUpstreamResponse.ts';
import type { GetServersResponse__Output } from '../generated/checkups/v1/GetServersResponse.ts';
import type { GetStatusResponse__Output } from '../generated/checkups/v1/GetStatusResponse.ts';
import type { GetUpstreamResponse__Output } from '../generated/checkups/v1/GetUpstreamResponse.ts';
import type { ListUpstreamsResponse__Output } from '../generated/checkups/v1/ListUpstreamsResponse.ts';
import type { RemovePeerResponse__Output } from '../generated/checkups/v1/RemovePeerResponse.ts';
import type { SelectPeerResponse__Output } from '../generated/checkups/v1/SelectPeerResponse.ts';
import type { SetPeerDownResponse__Output } from '../generated/checkups/v1/SetPeerDownResponse.ts';
import type { SetPeerUpResponse__Output } from '../generated/checkups/v1/SetPeerUpResponse.ts';
import type { UpdatePeerResponse__Output } from '../generated/checkups/v1/UpdatePeerResponse.ts';
import type { UpdateUpstreamResponse__Output } from '../generated/checkups/v1/UpdateUpstreamResponse.ts';
import type { WatchEventsResponse__Output } from '../generated/checkups/v1/WatchEventsResponse.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import { CheckupsError } from '../util/errors.ts';
import { addPeerToWire, storedUpstreamFromWire, updatePeerToWire, updateUpstreamToWire, type ServerChange, type UpstreamWrite } from '../wire/admin.ts';
import { clustersReport, eventReport, type EventReport, selectedReport, statusReport, summaryReport, type ClusterReport, type StatusReport, type UpstreamSummaryReport } from '../wire/report.ts';
import { Connection, type ConnectionOptions } from './connection.ts';

export interface EventsOptions {
  /** Keep reading new events as they happen. */
  readonly follow?: boolean;
  /** How many of the newest held events come first (default 20). */
  readonly last?: number;
  /** Only these kinds (health, admin, auth, config); default all. */
  readonly kinds?: readonly string[];
  /** Ends a followed stream. */
  readonly signal?: AbortSignal;
}

export interface AdminClientOptions extends ConnectionOptions {
  readonly clock?: Clock;
}

/** A write's result: the upstream's version after it (the revision of a deletion). */
export interface WriteResult {
  readonly skey: string;
  readonly version: number;
}

/** One server, as the config names it. */
export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

export interface UpstreamDocument {
  readonly skey: string;
  readonly version: number;
  /** The stored document, defaults filled in, clusters as a map ("1", "2", ... and names). */
  readonly upstream: StoredUpstream;
}

export interface ServersReport {
  readonly skey: string;
  readonly version: number;
  readonly clusters: ClusterReport[];
}

export class AdminClient {
  private readonly connection: Connection;
  private readonly owned: boolean;
  private readonly rpcTimeoutMs: number;

  /** Peer operations (ngx_dynamic_upstream add / remove / update / down / up). */
  readonly peers = {
    /** Adds a server to `cluster` (level "1" when unset); a new level or named cluster is created. */
    add: (skey: string, server: RawServer, opts: { cluster?: string | number } = {}): Promise<WriteResult> =>
      this.write(skey, (c, md, o, cb) => c.AddPeer(addPeerToWire(skey, opts.cluster === undefined ? '' : String(opts.cluster), server), md, o, cb)),
    /** Removes a server from one cluster, or from every cluster listing it. */
    remove: (skey: string, peer: PeerAddress, opts: { cluster?: string | number } = {}): Promise<WriteResult> =>
      this.write(skey, (c, md, o, cb) => c.RemovePeer({ skey, host: peer.host, port: peer.port, cluster: opts.cluster === undefined ? '' : String(opts.cluster) }, md, o, cb)),
    /** Changes weight, max_fails or fail_timeout (seconds) everywhere the server is listed. */
    update: (skey: string, peer: PeerAddress, change: ServerChange): Promise<WriteResult> =>
      this.write(skey, (c, md, o, cb) => c.UpdatePeer(updatePeerToWire(skey, peer.host, peer.port, change), md, o, cb)),
    /** Takes a server out of rotation everywhere it is listed. */
    down: (skey: string, peer: PeerAddress): Promise<WriteResult> =>
      this.write(skey, (c, md, o, cb) => c.SetPeerDown({ skey, host: peer.host, port: peer.port }, md, o, cb)),
    /** Puts a server back into rotation. */
    up: (skey: string, peer: PeerAddress): Promise<WriteResult> =>
      this.write(skey, (c, md, o, cb) => c.SetPeerUp({ skey, host: peer.host, port: peer.port }, md, o, cb)),
  };

  /** Standalone, or sharing the connection of a CheckupsClient (`client.admin`). */
  constructor(opts: AdminClientOptions | Connection) {
    if (opts instanceof Connection) {
      this.connection = opts;
      this.owned = false;
      this.rpcTimeoutMs = opts.rpcTimeoutMs;
    } else {
      this.connection = new Connection(opts, opts.clock ?? systemClock);
      this.owned = true;
      this.rpcTimeoutMs = this.connection.rpcTimeoutMs;
    }
  }

  /** Creates or replaces an upstream (`{ upstream }`), or replaces only its clusters (`{ cluster }`). */
  update(skey: string, body: UpstreamWrite): Promise<WriteResult> {
    return this.write(skey, (c, md, o, cb) => c.UpdateUpstream(updateUpstreamToWire(skey, body), md, o, cb));
  }

  delete(skey: string): Promise<WriteResult> {
    return this.write(skey, (c, md, o, cb) => c.DeleteUpstream({ skey }, md, o, cb));
  }

  async get(skey: string): Promise<UpstreamDocument> {
    const res = await this.connection.adminCall<GetUpstreamResponse__Output>((c, md, o, cb) => c.GetUpstream({ skey }, md, o, cb));
    return { skey, version: res.version, upstream: storedUpstreamFromWire(res) };
  }

  async list(): Promise<UpstreamSummaryReport[]> {
    const res = await this.connection.adminCall<ListUpstreamsResponse__Output>((c, md, o, cb) => c.ListUpstreams({}, md, o, cb));
    return res.upstreams.map(summaryReport);
  }

  /** An upstream's servers per cluster with heartbeat and passive state. */
  async servers(skey: string): Promise<ServersReport> {
    const res = await this.connection.adminCall<GetServersResponse__Output>((c, md, o, cb) => c.GetServers({ skey }, md, o, cb));
    return { skey, version: res.version, clusters: clustersReport(res.clusters) };
  }

  /** GetStatus: every upstream with peer health and passive state, the checker, xDS nodes. */
  async status(): Promise<StatusReport> {
    return statusReport(await this.connection.discoveryCall<GetStatusResponse__Output>((c, md, o, cb) => c.GetStatus({}, md, o, cb)));
  }

  /**
   * The event and audit trail (WatchEvents): `onEvents` per batch, with how many events this
   * reader missed because it fell behind the server's bounded buffer. Without `follow` it ends
   * after the held events (within the RPC deadline); with it, when `signal` fires.
   */
  events(opts: EventsOptions, onEvents: (events: EventReport[], missed: number) => void): Promise<void> {
    const follow = opts.follow === true;
    return this.connection.adminStream<WatchEventsResponse__Output>(
      (c, md, o) => c.WatchEvents({ follow, last: opts.last ?? 20, kinds: [...(opts.kinds ?? [])] }, md, o),
      (res) => onEvents(res.events.map(eventReport), res.missed),
      follow ? undefined : this.rpcTimeoutMs,
      opts.signal,
    );
  }

  /** A pick made by the server (SelectPeer; counts as a success there). */
  async select(skey: string, opts: SelectOptions = {}): Promise<SelectedPeer> {
    const res = await this.connection.discoveryCall<SelectPeerResponse__Output>((c, md, o, cb) =>
      c.SelectPeer(
        {
          skey,
          hashKey: opts.hashKey ?? '',
          clusterKey: (opts.clusterKey ?? []).map(String),
          ...(opts.request !== undefined ? { request: { path: opts.request.path ?? '', clientIp: opts.request.clientIp ?? '', headerHashKey: opts.request.headerHashKey ?? '' } } : {}),
        },
        md,
        o,
        cb,
      ),
    );
    if (res.peer === null) throw new CheckupsError('INTERNAL', `${this.connection.current.address} answered SelectPeer without a peer`);
    return selectedReport(res.peer);
  }

  /** Closes the channels (only those this client opened itself). */
  close(): void {
    if (this.owned) this.connection.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  private async write(skey: string, invoke: Parameters<Connection['adminCall']>[0]): Promise<WriteResult> {
    const res = (await this.connection.adminCall(invoke)) as { version: number };
    return { skey, version: res.version };
  }
}

export type { RawServer, RawUpstream, ServerChange, UpstreamWrite };
