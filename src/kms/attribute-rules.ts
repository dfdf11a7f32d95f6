import { AttributeName as A, isCustomAttributeName } from '../kmip/attributes.js';

/**
 * Who may set which attribute, and when (KMIP 1.1 §3, the "Modifiable by client" and
 * "Multiple instances permitted" rows of each attribute's table, narrowed to what vmcrypt keeps).
 */

/** KMIP 1.2+ §3.40: a client-given alternative name (e.g. a tape library's serial number). */
const ALTERNATIVE_NAME = 'Alternative Name';

/** Attributes a client may put in a Create/Register template. */
const settableOnCreate = new Set<string>([
  A.Name,
  A.CryptographicAlgorithm,
  A.CryptographicLength,
  A.CryptographicUsageMask,
  A.CryptographicParameters,
  A.OperationPolicyName,
  A.ObjectGroup,
  A.ContactInformation,
  A.ActivationDate,
  A.DeactivationDate,
  A.ProcessStartDate,
  A.ProtectStopDate,
  A.ApplicationSpecificInformation,
  A.Link,
  ALTERNATIVE_NAME,
  // KMIP 1.4 §3.45, §3.47: the client may choose; the server defaults them (server-attributes.ts).
  A.Sensitive,
  A.Extractable,
  // §3.21: Total and Unit from the client; the server keeps the Count (crypto-services/usage-limits.ts).
  A.UsageLimits,
]);

/** Attributes a client may add, modify or delete after creation. */
const clientModifiable = new Set<string>([
  A.Name,
  A.ObjectGroup,
  A.ContactInformation,
  A.ApplicationSpecificInformation,
  A.Link,
  A.OperationPolicyName,
  ALTERNATIVE_NAME,
  A.Sensitive,
  A.Extractable,
]);

/** Client-modifiable attributes a client may still not delete (KMIP 1.4 §3.45, §3.47: "Deletable by client: No"). */
const notDeletable = new Set<string>([A.Sensitive, A.Extractable]);

const multiInstance = new Set<string>([A.Name, A.ObjectGroup, A.ApplicationSpecificInformation, A.Link, ALTERNATIVE_NAME]);

/** Attributes the server sets and keeps; clients only read them. */
export const serverManaged = new Set<string>([
  A.UniqueIdentifier,
  A.ObjectType,
  A.State,
  A.InitialDate,
  A.LastChangeDate,
  A.DestroyDate,
  A.CompromiseDate,
  A.CompromiseOccurrenceDate,
  A.RevocationReason,
  A.Digest,
  A.Fresh,
  A.LeaseTime,
  A.OriginalCreationDate,
  A.AlwaysSensitive,
  A.NeverExtractable,
  A.RandomNumberGenerator,
]);

/** Client custom attributes are `x-…`; `y-…` belong to the server. */
const isClientCustom = (name: string): boolean => name.startsWith('x-');

export function isKnownAttribute(name: string): boolean {
  return serverManaged.has(name) || settableOnCreate.has(name) || isCustomAttributeName(name);
}

export function canSetOnCreate(name: string): boolean {
  return settableOnCreate.has(name) || isClientCustom(name);
}

export function canClientModify(name: string): boolean {
  return clientModifiable.has(name) || isClientCustom(name);
}

export function allowsMultipleInstances(name: string): boolean {
  return multiInstance.has(name) || isCustomAttributeName(name);
}

export function canClientDelete(name: string): boolean {
  return canClientModify(name) && !notDeletable.has(name);
}
