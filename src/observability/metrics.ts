/**
 * Every Prometheus metric checkups exports, defined in this one module (served at `/metrics` on
 * the HTTP port; docs/operations.md lists them). To add one: define it below next to its
 * neighbours with `registers: [metricsRegistry]`, import it where the event happens, and call
 * `.inc()` / `.observe()` there. Nothing else to wire.
 *
 * Conventions (https://prometheus.io/docs/practices/naming/): `checkups_` prefix, base units
 * (seconds, bytes), `_total` on counters, label values from closed sets (probe type, result,
 * cause, gRPC method and code, xDS type) so series stay bounded. The one open-ended label,
 * `upstream`, appears only on state gauges that the server fills at scrape time; per-peer
 * series (`checkups_peer_up`) are switched off with `server.metrics_per_peer: false` for very
 * large fleets.
 *
 * One registry per process (like prom-client's default, but our own so an application that
 * embeds checkups keeps its registry apart). Gauges of live state are filled by scrape hooks
 * that the running server registers (`onScrape`), so a scrape reads the state as it is.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });
// prom-client also exports three gauges named `*_total`, which the naming rules (and `promtool
// check metrics`) reserve for counters; the same facts stay in nodejs_active_handles,
// nodejs_active_requests and nodejs_active_resources (by type).
for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) metricsRegistry.removeSingleMetric(name);

const registers = [metricsRegistry];
/** Latency buckets, seconds: 0.5 ms .. 10 s. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

// --- build -------------------------------------------------------------------------------

export const buildInfo = new Gauge({ name: 'checkups_build_info', help: 'Always 1; labels carry the checkups and Node versions.', labelNames: ['version', 'node_version'], registers });

// --- health checking ---------------------------------------------------------------------

export const probesTotal = new Counter({ name: 'checkups_probes_total', help: 'Active health probes run, by probe type and result (ok, err, unstable, timeout).', labelNames: ['typ', 'result'], registers });
export const probeDuration = new Histogram({ name: 'checkups_probe_duration_seconds', help: 'Active health probe latency, by probe type and result.', labelNames: ['typ', 'result'], buckets: LATENCY_BUCKETS, registers });

/** The two series of one (probe type, result): counted and timed. */
export interface ProbeSeries {
  readonly count: { inc(): void };
  readonly duration: { observe(seconds: number): void };
}
const probeSeriesKept = new Map<string, Map<string, ProbeSeries>>();

/**
 * The probe series of `typ` and `result`, kept: thousands of probes a second would otherwise
 * each build and hash a label set twice (prom-client looks children up by a string of the labels).
 */
export function probeSeries(typ: string, result: string): ProbeSeries {
  let byResult = probeSeriesKept.get(typ);
  if (byResult === undefined) probeSeriesKept.set(typ, (byResult = new Map()));
  let series = byResult.get(result);
  if (series === undefined) {
    const labels = { typ, result };
    byResult.set(result, (series = { count: probesTotal.labels(labels), duration: probeDuration.labels(labels) }));
  }
  return series;
}
export const schedulerLateness = new Histogram({
  name: 'checkups_scheduler_lateness_seconds',
  help: 'How late probes start against their planned time.',
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
  registers,
});
export const healthTransitions = new Counter({
  name: 'checkups_health_transitions_total',
  help: 'Peer status changes, by cause (active probes, passive request outcomes, admin up/down) and new status.',
  labelNames: ['cause', 'to'],
  registers,
});
export const peersByStatus = new Gauge({ name: 'checkups_peers', help: 'Peers per upstream by status (ok, unstable, err, unchecked, down by an operator, passive: excluded by max_fails).', labelNames: ['upstream', 'status'], registers });
/**
 * Per peer, labels `upstream` and `peer`: rendered as text by the server's StateMetrics (kept
 * per upstream and redone only when it changed), not held in prom-client; see scrapeMetrics.
 */
export const PEER_UP_NAME = 'checkups_peer_up';
export const PEER_UP_HELP = 'Per peer: 1 when selectable by heartbeat and admin state, else 0 (off with server.metrics_per_peer: false).';
export const probesInFlight = new Gauge({ name: 'checkups_probes_in_flight', help: 'Active health probes running now.', registers });
export const probeTargets = new Gauge({ name: 'checkups_probe_targets', help: 'Distinct probe targets scheduled.', registers });

// --- gRPC API ----------------------------------------------------------------------------

export const grpcHandled = new Counter({ name: 'checkups_grpc_server_handled_total', help: 'Unary RPCs completed, by service, method and status code.', labelNames: ['grpc_service', 'grpc_method', 'grpc_code'], registers });
export const grpcHandling = new Histogram({ name: 'checkups_grpc_server_handling_seconds', help: 'Unary RPC latency, by service and method.', labelNames: ['grpc_service', 'grpc_method'], buckets: LATENCY_BUCKETS, registers });
export const feedbackOutcomes = new Counter({
  name: 'checkups_feedback_outcomes_total',
  help:
    'Request outcomes reported by Feedback/FeedbackBatch: applied; rejected (unknown upstream or peer, bad port); batch_too_large (in a FeedbackBatch over server.feedback.max_batch); rate_limited (over the caller\'s rate); peer_limited (a failure one caller may not add to that peer now: server.feedback.peers_per_caller); busy (a FeedbackBatch refused whole: too many outcomes of other batches were waiting to be applied).',
  labelNames: ['result'],
  registers,
});
export const feedbackOutcomesWaiting = new Gauge({ name: 'checkups_feedback_outcomes_waiting', help: 'FeedbackBatch outcomes accepted and not applied yet (batches are applied one after the other, a chunk per turn of the event loop; the number is bounded, docs/security.md).', registers });
export const feedbackCallers = new Gauge({ name: 'checkups_feedback_callers', help: 'Callers whose feedback limits are tracked now (at most 10,000; the least recently seen are evicted).', registers });
export const feedbackCallersEvicted = new Counter({ name: 'checkups_feedback_callers_evicted_total', help: 'Callers whose feedback limit state was dropped to keep the table bounded (least recently seen first).', registers });
export const authRefusals = new Counter({
  name: 'checkups_auth_refusals_total',
  help: 'Calls refused for their credential, by port (grpc, http) and code (unauthenticated: no or unknown token; permission_denied: a token without the right).',
  labelNames: ['port', 'code'],
  registers,
});
export const storeAppendDuration = new Histogram({ name: 'checkups_store_append_seconds', help: 'Durable store append latency (until the admin write is on disk).', buckets: LATENCY_BUCKETS, registers });

// --- streams and pushes ------------------------------------------------------------------

export const streamsOpen = new Gauge({ name: 'checkups_streams', help: 'Open streams, by kind (watch, xds, events).', labelNames: ['kind'], registers });
export const pushesTotal = new Counter({ name: 'checkups_pushes_total', help: 'Change fan-outs (one per coalescing window with changes), by kind (watch, xds).', labelNames: ['kind'], registers });
export const pushDuration = new Histogram({
  name: 'checkups_push_duration_seconds',
  help: 'From the first change of a coalescing window until every stream has been written, by kind (watch, xds).',
  labelNames: ['kind'],
  buckets: LATENCY_BUCKETS,
  registers,
});
export const streamStalls = new Counter({
  name: 'checkups_stream_stalls_total',
  help: 'Streams closed because their client stopped reading for server.stream_stall_timeout, by kind (watch, xds).',
  labelNames: ['kind'],
  registers,
});
export const streamsRefused = new Counter({
  name: 'checkups_streams_refused_total',
  help: 'New Watch and xDS streams refused, by kind (watch, xds) and reason (admission: server.stream_admission during a reconnect storm; per_connection: the connection already held server.stream_admission.per_connection open streams).',
  labelNames: ['kind', 'reason'],
  registers,
});
export const streamsHeld = new Counter({
  name: 'checkups_streams_held_total',
  help: 'New Watch and xDS streams held in the admission line (server.stream_admission) before they started, by kind (watch, xds).',
  labelNames: ['kind'],
  registers,
});
export const streamsWaiting = new Gauge({
  name: 'checkups_streams_waiting',
  help: 'New Watch and xDS streams held in the admission line (server.stream_admission) now, waiting for their turn.',
  registers,
});
/**
 * Counts made once per message of a fan-out (20,000 in one flip of a big fleet) are plain
 * additions here, handed to prom-client when it collects: its inc() hashes the label object
 * every time, 2% of the server's CPU in the fleet bench's flips.
 */
function addPending(pending: Map<string, number>, label: string): void {
  pending.set(label, (pending.get(label) ?? 0) + 1);
}
function collectPending(counter: Counter, labelName: string, pending: Map<string, number>): void {
  for (const [label, n] of pending) counter.inc({ [labelName]: label }, n);
  pending.clear();
}
const pendingMessages = new Map<string, number>();
const pendingAcks = new Map<string, number>();
export const streamMessages = new Counter({
  name: 'checkups_stream_messages_total',
  help: 'Messages written to streams, by kind (watch, xds).',
  labelNames: ['kind'],
  registers,
  collect() {
    collectPending(this, 'kind', pendingMessages);
  },
});
/** One message written to a stream (streamMessages). */
export function countStreamMessage(kind: 'watch' | 'xds'): void {
  addPending(pendingMessages, kind);
}
export const xdsAcks = new Counter({
  name: 'checkups_xds_acks_total',
  help: 'xDS ACKs received, by resource type.',
  labelNames: ['type'],
  registers,
  collect() {
    collectPending(this, 'type', pendingAcks);
  },
});
/** One xDS ACK received (xdsAcks). */
export function countXdsAck(typeUrl: string): void {
  addPending(pendingAcks, xdsTypeLabel(typeUrl));
}
export const xdsNacks = new Counter({ name: 'checkups_xds_nacks_total', help: 'xDS NACKs received, by resource type.', labelNames: ['type'], registers });
export const xdsResponseParts = new Counter({
  name: 'checkups_xds_response_parts_total',
  help: 'xDS responses that carried part of a push too large for server.max_response_bytes (the rest followed after their ACK), by resource type.',
  labelNames: ['type'],
  registers,
});
export const xdsOversized = new Counter({
  name: 'checkups_xds_oversized_responses_total',
  help: 'xDS responses sent over server.max_response_bytes, by resource type and reason (full_state: a SotW Listener or Cluster set, which cannot be split; resource: one resource alone).',
  labelNames: ['type', 'reason'],
  registers,
});

export const xdsStreamsClosed = new Counter({
  name: 'checkups_xds_streams_closed_total',
  help: 'xDS streams the server closed for what their client asked, by reason (too_many_names: more subscribed resource names than one stream may hold, 50,000).',
  labelNames: ['reason'],
  registers,
});

/** Short, bounded label for an xDS type URL ("cluster", ...; "other" for anything else). */
export function xdsTypeLabel(typeUrl: string): string {
  let label = typeLabels.get(typeUrl);
  if (label !== undefined) return label;
  const m = /\.v3\.(Listener|RouteConfiguration|Cluster|ClusterLoadAssignment)$/.exec(typeUrl);
  label = m === null ? 'other' : { Listener: 'listener', RouteConfiguration: 'route', Cluster: 'cluster', ClusterLoadAssignment: 'endpoint' }[m[1] as 'Listener'];
  // Clients name the type URLs: remember a few (the served ones), not whatever they send.
  if (typeLabels.size < 16) typeLabels.set(typeUrl, label);
  return label;
}
const typeLabels = new Map<string, string>();

// --- events, config ----------------------------------------------------------------------

export const eventsTotal = new Counter({ name: 'checkups_events_total', help: 'Events recorded (health, admin, auth, config), by kind.', labelNames: ['kind'], registers });
export const eventsDropped = new Counter({
  name: 'checkups_events_dropped_total',
  help: 'Events lost to a reader: overwritten in the ring before it was read, or not delivered to a follower that fell behind.',
  labelNames: ['reason'],
  registers,
});
export const configReloads = new Counter({ name: 'checkups_config_reloads_total', help: 'Config file reloads (SIGHUP), by result (applied, rejected).', labelNames: ['result'], registers });

// --- cluster mode ------------------------------------------------------------------------

export const clusterMembers = new Gauge({ name: 'checkups_cluster_members', help: 'Live instances of this instance\'s cluster, as of its last renewal (cluster mode).', registers });
export const clusterShardsHeld = new Gauge({ name: 'checkups_cluster_shards_held', help: 'Probe shards whose lease this instance holds (of 256; cluster mode).', registers });
export const clusterRevision = new Gauge({ name: 'checkups_cluster_revision', help: 'Revision of the last change-stream entry this instance applied (cluster mode); equal on every instance when they are in step.', registers });
export const clusterVerdicts = new Counter({
  name: 'checkups_cluster_verdicts_total',
  help: 'Heartbeat verdicts this instance sent to Redis, by result (published; refused: the shard lease had moved on, a stale fencing epoch).',
  labelNames: ['result'],
  registers,
});
export const clusterVerdictDelay = new Histogram({
  name: 'checkups_cluster_verdict_delay_seconds',
  help: 'From an owner publishing a verdict (its entry\'s time) to this instance applying it, by this instance\'s clock (cluster mode; instances on other machines add their clock offset).',
  buckets: LATENCY_BUCKETS,
  registers,
});
export const clusterBadEntries = new Counter({ name: 'checkups_cluster_bad_entries_total', help: 'Verdict entries of the change stream that did not parse and were skipped.', registers });

// --- scrape hooks --------------------------------------------------------------------------

const scrapeHooks = new Set<() => void>();

/** Registers `fill` to run before every scrape (to set gauges of live state); returns its removal. */
export function onScrape(fill: () => void): () => void {
  scrapeHooks.add(fill);
  return () => scrapeHooks.delete(fill);
}

/**
 * The exposition text (Prometheus 0.0.4 format) and its content type; `extra` adds metric
 * families rendered elsewhere (checkups_peer_up), after every hook ran.
 */
export async function scrapeMetrics(extra: () => string = () => ''): Promise<{ contentType: string; body: string }> {
  for (const fill of scrapeHooks) fill();
  return { contentType: metricsRegistry.contentType, body: (await metricsRegistry.metrics()) + extra() };
}
