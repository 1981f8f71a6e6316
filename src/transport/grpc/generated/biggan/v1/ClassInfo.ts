// Original file: proto/biggan/v1/biggan.proto


/**
 * One class of the model.
 */
export interface ClassInfo {
  /**
   * Index in the class vector, 0..num_classes-1.
   */
  'index'?: (number);
  /**
   * WordNet id (e.g. "n02099601"); empty for models without ImageNet classes.
   */
  'wnid'?: (string);
  /**
   * Names, the main one first (e.g. ["golden retriever"]); empty without ImageNet classes.
   */
  'names'?: (string)[];
}

/**
 * One class of the model.
 */
export interface ClassInfo__Output {
  /**
   * Index in the class vector, 0..num_classes-1.
   */
  'index': (number);
  /**
   * WordNet id (e.g. "n02099601"); empty for models without ImageNet classes.
   */
  'wnid': (string);
  /**
   * Names, the main one first (e.g. ["golden retriever"]); empty without ImageNet classes.
   */
  'names': (string)[];
}
