// Original file: proto/checkups/v1/admin.proto

import type { Event as _checkups_v1_Event, Event__Output as _checkups_v1_Event__Output } from '../../checkups/v1/Event.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * WatchEventsResponse carries events in order.
 */
export interface WatchEventsResponse {
  /**
   * Events, oldest first.
   */
  'events'?: (_checkups_v1_Event)[];
  /**
   * Events this stream skipped before these (it fell behind the ring).
   */
  'missed'?: (number | string | Long);
}

/**
 * WatchEventsResponse carries events in order.
 */
export interface WatchEventsResponse__Output {
  /**
   * Events, oldest first.
   */
  'events': (_checkups_v1_Event__Output)[];
  /**
   * Events this stream skipped before these (it fell behind the ring).
   */
  'missed': (number);
}
