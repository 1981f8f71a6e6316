// Original file: proto/biggan/v1/biggan.proto

import type { ClassMixture as _biggan_v1_ClassMixture, ClassMixture__Output as _biggan_v1_ClassMixture__Output } from '../../biggan/v1/ClassMixture.js';

/**
 * One class spec: exactly one of the fields must be set.
 */
export interface ClassSpec {
  /**
   * Class index, 0..num_classes-1 (207 = golden retriever).
   */
  'index'?: (number);
  /**
   * A class name or synonym ("golden retriever", case-insensitive), a WordNet id
   * ("n02099601") or an index as a decimal string ("207").
   */
  'name'?: (string);
  /**
   * A mixture of classes.
   */
  'mixture'?: (_biggan_v1_ClassMixture | null);
  'spec'?: "index"|"name"|"mixture";
}

/**
 * One class spec: exactly one of the fields must be set.
 */
export interface ClassSpec__Output {
  /**
   * Class index, 0..num_classes-1 (207 = golden retriever).
   */
  'index'?: (number);
  /**
   * A class name or synonym ("golden retriever", case-insensitive), a WordNet id
   * ("n02099601") or an index as a decimal string ("207").
   */
  'name'?: (string);
  /**
   * A mixture of classes.
   */
  'mixture'?: (_biggan_v1_ClassMixture__Output | null);
  'spec'?: "index"|"name"|"mixture";
}
