import { AttributeName as A, type Attribute } from '../kmip/attributes.js';
import { CryptographicAlgorithm, ObjectType } from '../kmip/enums.js';
import { KmipError } from '../kmip/errors.js';
import { Tag } from '../kmip/tags.js';
import { ttlv, type TtlvItem } from '../kmip/ttlv/index.js';
import { constantValue, firstValue, setSingle } from './managed-object.js';

/**
 * The KMIP 1.4 attributes the server keeps on every cryptographic object it creates or registers
 * (§3.15 Lease Time, §3.34 Fresh, §3.44 Random Number Generator, §3.45–3.48 Sensitive, Always
 * Sensitive, Extractable, Never Extractable), and the rules that go with them.
 */

/** KMIP "cryptographic objects": the managed objects with key material (not opaque objects, not templates). */
const CRYPTOGRAPHIC_OBJECTS = new Set<number>([
  ObjectType.Certificate,
  ObjectType.SymmetricKey,
  ObjectType.PublicKey,
  ObjectType.PrivateKey,
  ObjectType.SplitKey,
  ObjectType.SecretData,
]);

/**
 * Lease Time (§3.15) policy: one hour, the value every OASIS 1.4 case shows. Advisory: it tells a
 * client how long it may use the key material before asking again; the server does not track leases.
 */
export const LEASE_TIME_SECONDS = 3600;

const RNG_ALGORITHM_DRBG = 0x03; // RNG Algorithm (§9.1.3.2.48)
const DRBG_ALGORITHM_CTR = 0x05; // DRBG Algorithm (§9.1.3.2.49)

/**
 * Random Number Generator (§3.44) of what the server generates: Node's crypto draws from OpenSSL's
 * CSPRNG, whose default (OpenSSL 3) is the NIST SP 800-90A CTR_DRBG with AES-256.
 */
export function openSslRng(): TtlvItem {
  return ttlv.struct(Tag.AttributeValue, [
    ttlv.enumeration(Tag.RNGAlgorithm, RNG_ALGORITHM_DRBG),
    ttlv.enumeration(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
    ttlv.int(Tag.CryptographicLength, 256),
    ttlv.enumeration(Tag.DRBGAlgorithm, DRBG_ALGORITHM_CTR),
  ]);
}

export function isCryptographicObject(objectType: number): boolean {
  return CRYPTOGRAPHIC_OBJECTS.has(objectType);
}

// Shared, frozen values with their stored encoding computed once (managed-object.ts).
const TRUE = constantValue(ttlv.bool(Tag.AttributeValue, true));
const FALSE = constantValue(ttlv.bool(Tag.AttributeValue, false));
const bool = (b: boolean): TtlvItem => (b ? TRUE : FALSE);
const LEASE_TIME = constantValue(ttlv.interval(Tag.AttributeValue, LEASE_TIME_SECONDS));
const OPENSSL_RNG = constantValue(openSslRng());

function boolOf(attrs: readonly Attribute[], name: string): boolean | undefined {
  const v = firstValue(attrs, name);
  return v?.type === 'Boolean' ? v.value : undefined;
}

/**
 * Adds the server-set attributes of a new object to `attrs` (the client's template, checked):
 * Fresh true, Lease Time, Sensitive false / Extractable true unless the client set them, Always
 * Sensitive and Never Extractable from those, and the Random Number Generator when the server drew
 * the key material itself (`generated`: Create, Create Key Pair). Other objects get nothing.
 */
export function addServerAttributes(attrs: Attribute[], objectType: number, generated: boolean): void {
  if (!isCryptographicObject(objectType)) return;
  const sensitive = boolOf(attrs, A.Sensitive) ?? false;
  const extractable = boolOf(attrs, A.Extractable) ?? true;
  setSingle(attrs, A.Fresh, bool(true));
  setSingle(attrs, A.LeaseTime, LEASE_TIME);
  setSingle(attrs, A.Sensitive, bool(sensitive));
  setSingle(attrs, A.AlwaysSensitive, bool(sensitive));
  setSingle(attrs, A.Extractable, bool(extractable));
  setSingle(attrs, A.NeverExtractable, bool(!extractable));
  if (generated) setSingle(attrs, A.RandomNumberGenerator, OPENSSL_RNG);
}

/**
 * After a client changed Sensitive or Extractable (§3.46, §3.48): Always Sensitive turns false once
 * Sensitive is false, Never Extractable turns false once Extractable is true; neither turns back.
 */
export function followSensitivity(attrs: Attribute[]): void {
  if (boolOf(attrs, A.Sensitive) === false && boolOf(attrs, A.AlwaysSensitive) === true) setSingle(attrs, A.AlwaysSensitive, bool(false));
  if (boolOf(attrs, A.Extractable) === true && boolOf(attrs, A.NeverExtractable) === true) setSingle(attrs, A.NeverExtractable, bool(false));
}

/**
 * Get of the key material in clear (§3.45, §3.47): refused for a Sensitive or non-Extractable
 * object; `wrapped` (a Key Wrapping Specification) is the way such material may leave.
 */
export function checkExtractable(attrs: readonly Attribute[], wrapped: boolean): void {
  if (wrapped) return;
  if (boolOf(attrs, A.Sensitive) === true) throw new KmipError('KMIP_SENSITIVE', 'the object is Sensitive: Get it wrapped under another key');
  if (boolOf(attrs, A.Extractable) === false) throw new KmipError('KMIP_NOT_EXTRACTABLE', 'the object is not Extractable: Get it wrapped under another key');
}

/** True if the object is still Fresh (§3.34): its material has not been served by Get yet. */
export function isFresh(attrs: readonly Attribute[]): boolean {
  return boolOf(attrs, A.Fresh) === true;
}

/** Marks the object no longer Fresh (its material was returned by Get). */
export function markServed(attrs: Attribute[]): void {
  setSingle(attrs, A.Fresh, bool(false));
}

/** Attributes a protocol version older than KMIP 1.x minor `since` does not define (§3.44: 1.3; §3.45–3.48: 1.4). */
const SINCE_MINOR = new Map<string, number>([
  [A.RandomNumberGenerator, 3],
  [A.Sensitive, 4],
  [A.AlwaysSensitive, 4],
  [A.Extractable, 4],
  [A.NeverExtractable, 4],
]);

/**
 * True if a client speaking KMIP `major.minor` knows the attribute `name`: Get Attributes and Get
 * Attribute List answer an older client without the attributes its version does not define (a
 * KMIP 1.2 client such as PyKMIP's cannot decode a 1.4 attribute and fails the whole response).
 */
export function definedIn(name: string, version: { readonly major: number; readonly minor: number }): boolean {
  const since = SINCE_MINOR.get(name);
  return since === undefined || version.major > 1 || version.minor >= since;
}
