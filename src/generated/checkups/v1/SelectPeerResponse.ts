// Original file: proto/checkups/v1/discovery.proto

import type { SelectedPeer as _checkups_v1_SelectedPeer, SelectedPeer__Output as _checkups_v1_SelectedPeer__Output } from '../../checkups/v1/SelectedPeer.ts';

/**
 * SelectPeerResponse carries the chosen peer.
 */
export interface SelectPeerResponse {
  /**
   * The chosen peer.
   */
  'peer'?: (_checkups_v1_SelectedPeer | null);
}

/**
 * SelectPeerResponse carries the chosen peer.
 */
export interface SelectPeerResponse__Output {
  /**
   * The chosen peer.
   */
  'peer': (_checkups_v1_SelectedPeer__Output | null);
}
