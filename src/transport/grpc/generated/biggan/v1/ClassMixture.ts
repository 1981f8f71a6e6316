// Original file: proto/biggan/v1/biggan.proto


/**
 * A weighted mixture of classes, e.g. {"207": 0.7, "golden retriever": 0.3}.
 */
export interface ClassMixture {
  /**
   * Class (index as a decimal string, WordNet id or name) -> weight. Weights are finite and >= 0,
   * at least one > 0, and are used as given (not renormalised); a class named twice gets the sum.
   */
  'weights'?: ({[key: string]: number | string});
}

/**
 * A weighted mixture of classes, e.g. {"207": 0.7, "golden retriever": 0.3}.
 */
export interface ClassMixture__Output {
  /**
   * Class (index as a decimal string, WordNet id or name) -> weight. Weights are finite and >= 0,
   * at least one > 0, and are used as given (not renormalised); a class named twice gets the sum.
   */
  'weights': ({[key: string]: number});
}
