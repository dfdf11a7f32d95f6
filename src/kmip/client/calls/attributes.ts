import { attr, AttributeName, type Attribute } from '../../attributes.js';
import { Operation } from '../../operation-codes.js';
import { decodeAddAttributeResponse, encodeAddAttributeRequest } from '../../payloads/add-attribute.js';
import { decodeGetAttributesResponse, encodeGetAttributesRequest } from '../../payloads/get-attributes.js';
import { decodeLocateResponse, encodeLocateRequest } from '../../payloads/locate.js';
import type { OpCall } from '../call.js';
import { KmipClientError, KmipClientErrorCode } from '../errors.js';

/** Get Attributes (KMIP 1.1 §4.12); no names = all of them. */
export function getAttributesCall(uid: string | undefined, names: readonly string[] = []): OpCall<Attribute[]> {
  return {
    operation: Operation.GetAttributes,
    name: 'GetAttributes',
    payload: encodeGetAttributesRequest({ ...(uid === undefined ? {} : { uniqueIdentifier: uid }), attributeNames: names }),
    decode: (p) => [...decodeGetAttributesResponse(p).attributes],
  };
}

/** Add Attribute (KMIP 1.1 §4.14); resolves to the attribute as the server stored it. */
export function addAttributeCall(uid: string | undefined, attribute: Attribute): OpCall<Attribute> {
  return {
    operation: Operation.AddAttribute,
    name: 'AddAttribute',
    payload: encodeAddAttributeRequest({ ...(uid === undefined ? {} : { uniqueIdentifier: uid }), attribute }),
    decode: (p) => decodeAddAttributeResponse(p).attribute,
  };
}

/** Locate filters; every given one must match (KMIP 1.1 §4.9). */
export interface LocateSpec {
  readonly name?: string;
  /** State enumeration value (§9.1.3.2.17). */
  readonly state?: number;
  readonly objectType?: number;
  readonly algorithm?: number;
  /** Further attributes to match, e.g. custom `x-…` ones. */
  readonly attributes?: readonly Attribute[];
  readonly maximumItems?: number;
}

/** Locate (KMIP 1.1 §4.9): the Unique Identifiers of matching objects. */
export function locateCall(spec: LocateSpec = {}): OpCall<string[]> {
  if (spec.maximumItems !== undefined && (!Number.isInteger(spec.maximumItems) || spec.maximumItems < 1)) {
    throw new KmipClientError(KmipClientErrorCode.invalidArgument, 'maximumItems must be a positive integer');
  }
  const attributes: Attribute[] = [
    ...(spec.objectType === undefined ? [] : [attr.enumeration(AttributeName.ObjectType, spec.objectType)]),
    ...(spec.algorithm === undefined ? [] : [attr.enumeration(AttributeName.CryptographicAlgorithm, spec.algorithm)]),
    ...(spec.state === undefined ? [] : [attr.enumeration(AttributeName.State, spec.state)]),
    ...(spec.name === undefined ? [] : [attr.name(spec.name)]),
    ...(spec.attributes ?? []),
  ];
  return {
    operation: Operation.Locate,
    name: 'Locate',
    payload: encodeLocateRequest({
      ...(spec.maximumItems === undefined ? {} : { maximumItems: spec.maximumItems }),
      attributes,
    }),
    decode: (p) => [...decodeLocateResponse(p).uniqueIdentifiers],
  };
}
