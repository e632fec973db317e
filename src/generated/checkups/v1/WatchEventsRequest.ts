// Original file: proto/checkups/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

/**
 * WatchEventsRequest says which events to send.
 */
export interface WatchEventsRequest {
  /**
   * Keep the stream open and send new events as they happen.
   */
  'follow'?: (boolean);
  /**
   * Send held events with a larger sequence number (resume after a
   * reconnect). 0: send the newest `last` held events.
   */
  'afterSeq'?: (number | string | Long);
  /**
   * Without after_seq: how many of the newest held events to send first
   * (0 = none, only new ones; use a large number for all).
   */
  'last'?: (number);
  /**
   * Only these kinds (health, admin, auth, config); empty sends all.
   */
  'kinds'?: (string)[];
}

/**
 * WatchEventsRequest says which events to send.
 */
export interface WatchEventsRequest__Output {
  /**
   * Keep the stream open and send new events as they happen.
   */
  'follow': (boolean);
  /**
   * Send held events with a larger sequence number (resume after a
   * reconnect). 0: send the newest `last` held events.
   */
  'afterSeq': (number);
  /**
   * Without after_seq: how many of the newest held events to send first
   * (0 = none, only new ones; use a large number for all).
   */
  'last': (number);
  /**
   * Only these kinds (health, admin, auth, config); empty sends all.
   */
  'kinds': (string)[];
}
