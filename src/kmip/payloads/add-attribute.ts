/** Add Attribute (KMIP 1.4 §4.14): same payload shapes as Modify Attribute. */
export {
  encodeAttributeChangeRequest as encodeAddAttributeRequest,
  decodeAttributeChangeRequest as decodeAddAttributeRequest,
  encodeAttributeChangeResponse as encodeAddAttributeResponse,
  decodeAttributeChangeResponse as decodeAddAttributeResponse,
} from './attribute-change.js';
export type {
  AttributeChangeRequest as AddAttributeRequest,
  AttributeChangeResponse as AddAttributeResponse,
} from './attribute-change.js';
