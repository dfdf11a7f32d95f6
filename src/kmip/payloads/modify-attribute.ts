/** Modify Attribute (KMIP 1.4 §4.15): same payload shapes as Add Attribute. */
export {
  encodeAttributeChangeRequest as encodeModifyAttributeRequest,
  decodeAttributeChangeRequest as decodeModifyAttributeRequest,
  encodeAttributeChangeResponse as encodeModifyAttributeResponse,
  decodeAttributeChangeResponse as decodeModifyAttributeResponse,
} from './attribute-change.js';
export type {
  AttributeChangeRequest as ModifyAttributeRequest,
  AttributeChangeResponse as ModifyAttributeResponse,
} from './attribute-change.js';
