/**
 * `GET /events`: the event trail as server-sent events (text/event-stream), what the status
 * page and `curl -N` follow. Each event is `id: <seq>`, `event: <kind>`, `data: <JSON event>`;
 * a reader that fell behind the ring first gets `event: missed` with the count. Reconnecting
 * EventSources send `Last-Event-ID` and resume after it.
 *
 * Query: `after=SEQ` (resume; also Last-Event-ID), `last=N` (the newest N held events first,
 * default 0 = only new ones), `kinds=health,admin` (filter). A comment line every
 * `keepaliveMs` keeps proxies from closing an idle stream.
 *
 * Writes follow the socket: while it is full the follower pauses (nothing is queued for it but
 * the socket's own buffer) and resumes on 'drain' from its cursor (observability/events.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseEventKinds, type CheckupsEvent, type EventKind, type EventLog } from '../../observability/events.ts';
import { streamsOpen } from '../../observability/metrics.ts';
import type { Clock } from '../../util/clock.ts';

export const SSE_KEEPALIVE_MS = 15_000;

function frame(e: CheckupsEvent): string {
  return `id: ${e.seq}\nevent: ${e.kind}\ndata: ${JSON.stringify(e)}\n\n`;
}

function seqParam(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

export function serveEventStream(events: EventLog, clock: Clock, req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
  let kinds: Set<EventKind> | undefined;
  try {
    kinds = parseEventKinds(query.getAll('kinds'));
  } catch (err) {
    res.writeHead(400, { 'content-type': 'text/plain' }).end(`${(err as Error).message}\n`);
    return;
  }
  const lastEventId = req.headers['last-event-id'];
  const after = seqParam(query.get('after')) ?? seqParam(Array.isArray(lastEventId) ? lastEventId[0] : lastEventId);
  const last = Math.min(seqParam(query.get('last')) ?? 0, events.capacity);
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  res.write(`retry: 2000\n: checkups events, newest seq ${events.lastSeq}\n\n`);
  const start = after ?? (last > 0 ? (events.since(0, last, kinds)[0]?.seq ?? events.lastSeq + 1) - 1 : events.lastSeq);
  const follower = events.follow({
    afterSeq: start,
    ...(kinds !== undefined ? { kinds } : {}),
    write: (e, missed) => {
      if (missed > 0) res.write(`event: missed\ndata: ${missed}\n\n`);
      return res.write(frame(e));
    },
  });
  streamsOpen.inc({ kind: 'events' });
  res.on('drain', () => follower.resume());
  const beat = () => {
    if (!follower.blocked) res.write(': keepalive\n\n');
    keepaliveTimer = clock.setTimer(SSE_KEEPALIVE_MS, beat);
  };
  let keepaliveTimer = clock.setTimer(SSE_KEEPALIVE_MS, beat);
  res.on('close', () => {
    keepaliveTimer.cancel();
    follower.close();
    streamsOpen.dec({ kind: 'events' });
  });
}
