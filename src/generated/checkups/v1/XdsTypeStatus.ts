// Original file: proto/checkups/v1/discovery.proto


/**
 * XdsTypeStatus is one resource type's state for one node.
 */
export interface XdsTypeStatus {
  /**
   * The type URL.
   */
  'typeUrl'?: (string);
  /**
   * Version last sent.
   */
  'sentVersion'?: (string);
  /**
   * Version last ACKed.
   */
  'ackedVersion'?: (string);
  /**
   * True when the latest answer was a NACK.
   */
  'nacked'?: (boolean);
  /**
   * The error_detail of the last NACK, if any.
   */
  'lastNack'?: (string);
}

/**
 * XdsTypeStatus is one resource type's state for one node.
 */
export interface XdsTypeStatus__Output {
  /**
   * The type URL.
   */
  'typeUrl': (string);
  /**
   * Version last sent.
   */
  'sentVersion': (string);
  /**
   * Version last ACKed.
   */
  'ackedVersion': (string);
  /**
   * True when the latest answer was a NACK.
   */
  'nacked': (boolean);
  /**
   * The error_detail of the last NACK, if any.
   */
  'lastNack': (string);
}
