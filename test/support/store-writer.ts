/**
 * Child process for the crash test: `node --import tsx store-writer.ts DIR [CONCURRENCY]
 * [COMPACT_EVERY]` opens a FileStore in DIR and appends changes in a tight loop from several
 * concurrent workers (so group commit batches them), printing "ack <seq>" right after each
 * append resolved, until it is killed. Every change is a pure function of its seq (opForSeq),
 * so the parent can compute the exact state any recovered seq must give.
 */
import { pathToFileURL } from 'node:url';
import type { RawUpstream } from '../../src/core/document.ts';
import { FileStore } from '../../src/core/store/file-store.ts';
import type { UpstreamDocument } from '../../src/core/store/change-store.ts';
import type { StoreOp } from '../../src/core/store/types.ts';

const SKEYS = 50;

export function opForSeq(seq: number): StoreOp {
  const skey = `s${seq % SKEYS}`;
  if (seq % 11 === 0) return { op: 'delete', skey };
  const upstream: RawUpstream = {
    typ: 'http',
    try: seq % 5,
    name: `written at seq ${seq}`,
    cluster: [{ servers: [{ host: '10.0.0.1', port: 1 + (seq % 65535) }, { host: 'backup.internal', port: 8080 }] }],
  };
  return { op: 'put', skey, upstream };
}

/** The state after applying seqs 1..lastSeq, in first-touch order. */
export function expectedState(lastSeq: number): Map<string, UpstreamDocument | null> {
  const state = new Map<string, UpstreamDocument | null>();
  for (let seq = 1; seq <= lastSeq; seq++) {
    const op = opForSeq(seq);
    state.set(op.skey, op.op === 'put' ? op.upstream : null);
  }
  return state;
}

async function main(dir: string, concurrency: number, compactEvery: number): Promise<void> {
  // A writer whose parent died must not run forever.
  setTimeout(() => process.exit(3), 30_000).unref();
  const store = new FileStore(dir, { compactEvery });
  const { lastSeq } = await store.open();
  process.stdout.write(`ready ${lastSeq}\n`);
  let next = lastSeq + 1;
  const worker = async (): Promise<void> => {
    for (;;) {
      // Read and used synchronously with append(), so seqs are handed out in this order.
      const seq = next++;
      const got = await store.append(opForSeq(seq));
      if (got !== seq) {
        process.stderr.write(`expected seq ${seq}, store assigned ${got}\n`);
        process.exit(2);
      }
      // Synchronous on Linux for pipes: once the parent reads it, the ack was really given.
      process.stdout.write(`ack ${seq}\n`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

const script = process.argv[1];
if (script !== undefined && import.meta.url === pathToFileURL(script).href) {
  const [dir, concurrency = '4', compactEvery = '64'] = process.argv.slice(2);
  if (dir === undefined) {
    process.stderr.write('usage: store-writer.ts DIR [CONCURRENCY] [COMPACT_EVERY]\n');
    process.exit(64);
  }
  main(dir, Number(concurrency), Number(compactEvery)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
