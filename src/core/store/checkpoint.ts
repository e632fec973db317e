/**
 * The acknowledged checkpoint: the highest seq the store has acknowledged, kept apart from the
 * log. The log alone cannot tell a record that was never acknowledged from one that was and was
 * lost: a log cut at a record boundary looks complete, and a log cut inside a record looks like a
 * crash mid-write. With the checkpoint, recovery knows how far acknowledgements went and stops
 * the start when snapshot + log end before that (see docs/durability.md).
 *
 * Layout: two fixed 64-byte slots, `ack <seq> <crc32 of "ack <seq>">` padded with spaces and a
 * newline. Seq n goes to slot n % 2, so a write torn by a crash damages one slot and the other
 * still holds the previous value; a slot with a bad checksum is ignored.
 */
import type { FileHandle } from 'node:fs/promises';
import { crc32Hex } from './crc32.ts';

export const CHECKPOINT_FILE = 'acknowledged';
const SLOT = 64;
const SLOT_RE = /^ack (\d{1,16}) ([0-9a-f]{8}) *\n$/;

export function encodeCheckpointSlot(seq: number): Buffer {
  const body = `ack ${seq}`;
  const text = `${body} ${crc32Hex(body)}`;
  return Buffer.from(`${text.padEnd(SLOT - 1, ' ')}\n`, 'latin1');
}

/**
 * The acknowledged seq held by a checkpoint file's content: the higher of its valid slots, or
 * null when no slot is valid (a file created but never written, or damaged beyond both slots).
 */
export function decodeCheckpoint(data: Buffer): number | null {
  let best: number | null = null;
  for (let at = 0; at + SLOT <= data.length && at < 2 * SLOT; at += SLOT) {
    const m = SLOT_RE.exec(data.subarray(at, at + SLOT).toString('latin1'));
    if (m === null || crc32Hex(`ack ${m[1]}`) !== m[2]) continue;
    const seq = Number(m[1]);
    if (Number.isSafeInteger(seq) && (best === null || seq > best)) best = seq;
  }
  return best;
}

/** Writes `seq` into its slot and syncs; resolves once it is durable. */
export async function writeCheckpoint(handle: FileHandle, seq: number): Promise<void> {
  const slot = encodeCheckpointSlot(seq);
  const { bytesWritten } = await handle.write(slot, 0, SLOT, (seq % 2) * SLOT);
  if (bytesWritten !== SLOT) throw new Error(`short write to the checkpoint (${bytesWritten} of ${SLOT} bytes)`);
  await handle.datasync();
}
