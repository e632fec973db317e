/**
 * The one status table: the model's words (`ok`, `err`, ...) <-> checkups.v1 enums. Server
 * encoders, the SDK's decoders and the CLI all go through here; a new status is one row.
 */
import type { HeartbeatStatus } from '../core/model.ts';
import type { HealthStatus } from '../generated/checkups/v1/HealthStatus.ts';
import type { PassiveStatus } from '../generated/checkups/v1/PassiveStatus.ts';

type EnumName<E> = E & string;

const HEALTH: Record<HeartbeatStatus, EnumName<HealthStatus>> = {
  unchecked: 'HEALTH_STATUS_UNCHECKED',
  ok: 'HEALTH_STATUS_OK',
  unstable: 'HEALTH_STATUS_UNSTABLE',
  err: 'HEALTH_STATUS_ERR',
};

const HEALTH_BACK = new Map<string, HeartbeatStatus>(Object.entries(HEALTH).map(([word, name]) => [name, word as HeartbeatStatus]));

/** Passive (max_fails / fail_timeout) state of a peer: excluded until its window ends, or not. */
export type PassiveWord = 'ok' | 'err';

const PASSIVE: Record<PassiveWord, EnumName<PassiveStatus>> = {
  ok: 'PASSIVE_STATUS_OK',
  err: 'PASSIVE_STATUS_ERR',
};

const PASSIVE_BACK = new Map<string, PassiveWord>(Object.entries(PASSIVE).map(([word, name]) => [name, word as PassiveWord]));

export function healthToWire(status: HeartbeatStatus): EnumName<HealthStatus> {
  return HEALTH[status];
}

/** Unknown or unspecified values (a newer server) read as unchecked: selectable, never probed. */
export function healthFromWire(status: HealthStatus | string | null | undefined): HeartbeatStatus {
  return HEALTH_BACK.get(String(status)) ?? 'unchecked';
}

export function passiveToWire(status: PassiveWord): EnumName<PassiveStatus> {
  return PASSIVE[status];
}

/** Unknown values read as ok (not excluded). */
export function passiveFromWire(status: PassiveStatus | string | null | undefined): PassiveWord {
  return PASSIVE_BACK.get(String(status)) ?? 'ok';
}
