/**
 * What each xDS client holds, per node id and type, as CSDS reports it: the version last sent,
 * the version last ACKed, and the last NACK (version and the client's message). NACKs are also
 * counted and logged: a NACK means a client runs on older config than we serve.
 *
 * Nodes without streams are kept (the most recent MAX_IDLE_NODES of them) so a status page still
 * shows why a client that went away had rejected something. They wait in a queue of their own,
 * oldest first, so a closing stream evicts in O(1): a scan of every node on each close made a
 * reconnect storm of 10,000 xDS clients quadratic.
 *
 * Each node carries a revision, bumped by every change of what it reports, so GetStatus encodes
 * again only the nodes that changed (discovery.ts); the tracker's own `revision` moves with any
 * node's and when nodes come and go, so GetStatus keeps its whole list of nodes while it stays.
 */
import { countXdsAck, xdsNacks, xdsTypeLabel } from '../../observability/metrics.ts';
import { clip } from '../../util/bounded-text.ts';
import { shortName } from './type-urls.ts';

/** The pino subset the xDS server logs through. */
export interface XdsLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export const MAX_IDLE_NODES = 1024;
/** A client's NACK message as kept for status (GetStatus lists it per node and type). */
export const MAX_NACK_MESSAGE_CHARS = 512;
/** ... and as logged. */
const MAX_LOGGED_NACK_CHARS = 2048;
/** Type URLs one stream (and one node's status) may hold; requests for more are counted and ignored. */
export const MAX_TYPES_PER_STREAM = 16;
/**
 * Resource names one stream may subscribe to, all types together. Every name holds state on the
 * stream and in the hub, so a client naming ever more (existing or not) is closed beyond this;
 * a real client of 10,000 clusters names about 10,000.
 */
export const MAX_NAMES_PER_STREAM = 50_000;
/** Warnings logged per stream; later ones are counted (xds stats `suppressedWarnings`). */
export const MAX_WARNINGS_PER_STREAM = 10;
/** Node ids and user agents are kept up to this length. */
export const MAX_NODE_TEXT_CHARS = 256;

export interface NackRecord {
  /** The version the client rejected (of the response whose nonce it answered). */
  readonly version: string;
  readonly message: string;
  readonly code: number;
  /** Wall-clock ms. */
  readonly at: number;
}

export interface TypeStatus {
  readonly typeUrl: string;
  sentVersion: string | undefined;
  ackedVersion: string | undefined;
  lastNack: NackRecord | undefined;
  /** Whether the latest answer to the latest response was a NACK. */
  nacked: boolean;
}

export interface NodeStatus {
  readonly nodeId: string;
  userAgent: string;
  streams: number;
  readonly types: Map<string, TypeStatus>;
  /** Bumped on every change of the fields above (or of a type's), by XdsStatus. */
  revision: number;
}

/** What GetStatus reads of the nodes (XdsStatus). */
export interface XdsNodeSource {
  /** Moves whenever liveNodes() would list other nodes, in another order, or a node that changed. */
  readonly revision: number;
  liveNodes(): ReadonlyArray<Readonly<NodeStatus>>;
}

export class XdsStatus implements XdsNodeSource {
  private readonly byNode = new Map<string, NodeStatus>();
  private changes = 0;
  /** The nodes of byNode without streams, least recently closed (or created) first: evicted from the front. */
  private readonly idle = new Map<string, NodeStatus>();
  private nackCount = 0;
  private suppressed = 0;
  private ignored = 0;

  constructor(
    private readonly wallNow: () => number,
    private readonly logger?: XdsLogger,
  ) {}

  get revision(): number {
    return this.changes;
  }

  get nacks(): number {
    return this.nackCount;
  }

  /** Warnings not logged because their stream had used its budget. */
  get suppressedWarnings(): number {
    return this.suppressed;
  }

  /** Requests for a type URL beyond MAX_TYPES_PER_STREAM, ignored. */
  get ignoredTypes(): number {
    return this.ignored;
  }

  typeIgnored(): void {
    this.ignored++;
  }

  /** One warning a stream could not log; the first over budget says so once. */
  warningSuppressed(nodeId: string, first: boolean): void {
    this.suppressed++;
    if (first) this.warn({ nodeId, limit: MAX_WARNINGS_PER_STREAM }, 'xds: this stream reached its warning limit; further NACKs are counted, not logged');
  }

  /** A stream of the node opened; the node's record is the stream's to pass to recordSent, recordAck and recordNack. */
  streamOpened(nodeId: string, userAgent: string): NodeStatus {
    const node = this.node(nodeId);
    if (node.streams++ === 0) this.idle.delete(nodeId);
    if (userAgent !== '') node.userAgent = clip(userAgent, MAX_NODE_TEXT_CHARS);
    this.changed(node);
    return node;
  }

  streamClosed(nodeId: string): void {
    const node = this.byNode.get(nodeId);
    if (node === undefined) return;
    node.streams = Math.max(0, node.streams - 1);
    this.changed(node);
    // Re-insert: Map order is then "least recently closed first" for eviction.
    this.byNode.delete(nodeId);
    this.byNode.set(nodeId, node);
    if (node.streams === 0) {
      this.idle.delete(nodeId);
      this.idle.set(nodeId, node);
    }
    this.evictIdle();
  }

  // Records take the node's record, not its id: once per message of a fan-out, the id's lookup
  // among thousands of nodes was most of their cost.
  recordSent(node: NodeStatus, typeUrl: string, version: string): void {
    this.type(node, typeUrl).sentVersion = version;
  }

  recordAck(node: NodeStatus, typeUrl: string, version: string): void {
    const t = this.type(node, typeUrl);
    t.ackedVersion = version;
    t.nacked = false;
    countXdsAck(typeUrl);
  }

  /** Records a NACK; logs it when `log` (the stream's warning budget allows). Messages are clipped. */
  recordNack(node: NodeStatus, typeUrl: string, version: string, code: number, message: string, log = true): void {
    const t = this.type(node, typeUrl);
    t.lastNack = { version: clip(version, MAX_NODE_TEXT_CHARS), message: clip(message, MAX_NACK_MESSAGE_CHARS), code, at: this.wallNow() };
    t.nacked = true;
    this.nackCount++;
    xdsNacks.inc({ type: xdsTypeLabel(typeUrl) });
    if (log) this.warn({ nodeId: node.nodeId, type: shortName(clip(typeUrl, MAX_NODE_TEXT_CHARS)), version: clip(version, MAX_NODE_TEXT_CHARS), code, error: clip(message, MAX_LOGGED_NACK_CHARS) }, 'xds: client rejected a response (NACK)');
  }

  /** Logs an xDS warning (the process warning when no logger was given). */
  warn(detail: object, msg: string): void {
    if (this.logger !== undefined) this.logger.warn(detail, msg);
    else process.emitWarning(`checkups ${msg}: ${JSON.stringify(detail)}`);
  }

  /** Every known node, connected ones first; a copy. */
  nodes(): NodeStatus[] {
    return this.liveNodes().map((n) => ({ ...n, types: new Map([...n.types].map(([k, v]) => [k, { ...v }])) }));
  }

  /**
   * Every known node in the order of `nodes()` (connected ones first, then as held), not copied:
   * for reading at once (GetStatus keeps per node what it encoded, while `revision` stays).
   */
  liveNodes(): ReadonlyArray<Readonly<NodeStatus>> {
    const out: NodeStatus[] = [];
    for (const n of this.byNode.values()) if (n.streams > 0) out.push(n);
    for (const n of this.byNode.values()) if (n.streams === 0) out.push(n);
    return out;
  }

  node(nodeId: string): NodeStatus {
    let node = this.byNode.get(nodeId);
    if (node === undefined) {
      node = { nodeId, userAgent: '', streams: 0, types: new Map(), revision: 0 };
      this.byNode.set(nodeId, node);
      this.changes++;
      // Without streams until one opens: idle, as the eviction has always counted it (evicted at
      // the next close, as before).
      this.idle.set(nodeId, node);
    }
    return node;
  }

  /** `node` changed: its revision and the tracker's move together (GetStatus keeps entries by the one and the list by the other). */
  private changed(node: NodeStatus): void {
    node.revision++;
    this.changes++;
  }

  /** A type of the node for a change: the node's revision moves (the caller changes the type next). */
  private type(node: NodeStatus, typeUrl: string): TypeStatus {
    this.changed(node);
    let t = node.types.get(typeUrl);
    if (t === undefined) {
      t = { typeUrl, sentVersion: undefined, ackedVersion: undefined, lastNack: undefined, nacked: false };
      // Several streams of one node id could spray different type URLs: the node keeps a few.
      if (node.types.size < MAX_TYPES_PER_STREAM) node.types.set(typeUrl, t);
    }
    return t;
  }

  /** Drops the least recently closed idle nodes beyond MAX_IDLE_NODES. */
  private evictIdle(): void {
    while (this.idle.size > MAX_IDLE_NODES) {
      const id = this.idle.keys().next().value!;
      this.idle.delete(id);
      this.byNode.delete(id);
      this.changes++;
    }
  }
}
