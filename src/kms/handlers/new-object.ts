import { AttributeName as A, isCustomAttributeName, type Attribute } from '../../kmip/attributes.js';
import { CryptographicAlgorithm, CryptographicUsageMask, ObjectType, State } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import { Tag } from '../../kmip/tags.js';
import { ttlv } from '../../kmip/ttlv/index.js';
import { allowsMultipleInstances, canSetOnCreate, isKnownAttribute, serverManaged } from '../attribute-rules.js';
import type { OpContext } from '../context.js';
import { KmsError } from '../errors.js';
import { enumValue, firstValue, serializeAttributes, setSingle } from '../managed-object.js';
import { addServerAttributes } from '../server-attributes.js';
import { startUsageLimits } from '../crypto-services/usage-limits.js';
import type { KeyRecord } from '../store/types.js';

const AES_LENGTHS = new Set([128, 192, 256]);
const MAX_ATTRIBUTES = 256;
const MAX_ID_TRIES = 4;

/**
 * Checks a Create/Register template and returns the attributes to store: what the client set
 * plus what the server sets (KMIP 1.1 §3: Unique Identifier, Object Type, State, Initial Date,
 * Last Change Date; Activation Date ≤ now makes the object Active at once, §4.1; Fresh, Lease
 * Time, Sensitive / Extractable and their history, Random Number Generator: server-attributes.ts).
 */
export function buildAttributes(ctx: OpContext, id: string, template: readonly Attribute[], kind: NewObjectKind): Attribute[] {
  if (template.length > MAX_ATTRIBUTES) throw new KmipError('KMIP_INVALID_FIELD', `more than ${MAX_ATTRIBUTES} attributes`);
  const attrs: Attribute[] = [];
  for (const a of template) {
    if (serverManaged.has(a.name)) throw new KmipError('KMIP_INVALID_FIELD', `attribute '${a.name}' is set by the server`);
    if (!isKnownAttribute(a.name)) throw new KmipError('KMIP_INVALID_FIELD', `attribute '${a.name}' is not supported`);
    if (!canSetOnCreate(a.name)) throw new KmipError('KMIP_INVALID_FIELD', `attribute '${a.name}' cannot be set by a client`);
    if (!allowsMultipleInstances(a.name) && attrs.some((b) => b.name === a.name)) {
      throw new KmipError('KMIP_INVALID_FIELD', `attribute '${a.name}' given more than once`);
    }
    if (isCustomAttributeName(a.name) && a.name.length > 128) throw new KmipError('KMIP_INVALID_FIELD', 'custom attribute name too long');
    attrs.push({ name: a.name, value: { ...a.value, tag: Tag.AttributeValue } });
  }
  const v = Tag.AttributeValue;
  if (kind.algorithm !== undefined) {
    // A key's (or certificate's) algorithm and length come from the object itself (§3.4–3.5);
    // a template that names others is wrong. A length alias (3DES 168/192) keeps the client's.
    const alg = enumValue(attrs, A.CryptographicAlgorithm);
    if (alg !== undefined && alg !== kind.algorithm) {
      throw new KmipError('KMIP_INVALID_FIELD', `Cryptographic Algorithm ${alg} does not match the object (${kind.algorithm})`);
    }
    const len = enumValue(attrs, A.CryptographicLength);
    if (len !== undefined && len !== kind.lengthBits && !(kind.lengthAliases ?? []).includes(len)) {
      throw new KmipError('KMIP_INVALID_FIELD', `Cryptographic Length ${len} does not match the key (${kind.lengthBits ?? '?'} bits)`);
    }
    setSingle(attrs, A.CryptographicAlgorithm, ttlv.enumeration(v, kind.algorithm));
    if (kind.lengthBits !== undefined) setSingle(attrs, A.CryptographicLength, ttlv.int(v, len ?? kind.lengthBits));
    if (kind.defaultUsageMask !== undefined && firstValue(attrs, A.CryptographicUsageMask) === undefined) {
      setSingle(attrs, A.CryptographicUsageMask, ttlv.int(v, kind.defaultUsageMask));
    }
  } else {
    // KMIP 1.4 §3.4–3.5: Cryptographic Algorithm and Length apply to keys and certificates only.
    for (const name of [A.CryptographicAlgorithm, A.CryptographicLength, A.CryptographicParameters]) {
      if (firstValue(attrs, name) !== undefined) throw new KmipError('KMIP_INVALID_FIELD', `attribute '${name}' does not apply to object type ${kind.objectType}`);
    }
  }
  for (const a of kind.implicit ?? []) setSingle(attrs, a.name, a.value);
  const now = ctx.deps.now();
  const activation = firstValue(attrs, A.ActivationDate);
  const active = activation?.type === 'DateTime' && activation.value <= BigInt(Math.floor(now.getTime() / 1000));
  attrs.unshift(
    { name: A.UniqueIdentifier, value: ttlv.text(v, id) },
    { name: A.ObjectType, value: ttlv.enumeration(v, kind.objectType) },
  );
  setSingle(attrs, A.State, ttlv.enumeration(v, active ? State.Active : State.PreActive));
  setSingle(attrs, A.InitialDate, ttlv.date(v, now));
  setSingle(attrs, A.LastChangeDate, ttlv.date(v, now));
  addServerAttributes(attrs, kind.objectType, kind.generated === true);
  startUsageLimits(attrs);
  return attrs;
}

/** What the server sets on a new object beside the client's template. */
export interface NewObjectKind {
  readonly objectType: number;
  /** Cryptographic Algorithm of a key or certificate (absent: the object has none, and a template may not give one). */
  readonly algorithm?: number;
  /** Cryptographic Length in bits, with the other values a template may name the same key by. */
  readonly lengthBits?: number;
  readonly lengthAliases?: readonly number[];
  /** Cryptographic Usage Mask when the template has none. */
  readonly defaultUsageMask?: number;
  /** Server-set attributes of the type (Certificate Type, Certificate Length, Links of a key pair). */
  readonly implicit?: readonly Attribute[];
  /** True if the server drew the material from its RNG (Create, Create Key Pair): it gets a Random Number Generator attribute. */
  readonly generated?: boolean;
}

/** Seals `material` and stores a new AES key owned by the caller (the vSphere path: AES only). */
export async function storeNewKey(ctx: OpContext, template: readonly Attribute[], material: Buffer): Promise<KeyRecord> {
  const bits = material.length * 8;
  if (!AES_LENGTHS.has(bits)) throw new KmipError('KMIP_INVALID_FIELD', `AES keys are 128, 192 or 256 bits, not ${bits}`);
  return storeNewObject(ctx, template, symmetricKind(CryptographicAlgorithm.AES, bits), material);
}

/** The kind of a symmetric key of `alg` and Cryptographic Length `bits` (usable for Encrypt/Decrypt, or MAC for HMAC keys). */
export function symmetricKind(alg: number, bits: number): NewObjectKind {
  const hmac = alg >= CryptographicAlgorithm.HMAC_SHA1 && alg <= CryptographicAlgorithm.HMAC_MD5;
  const mask = hmac ? CryptographicUsageMask.MacGenerate | CryptographicUsageMask.MacVerify : CryptographicUsageMask.Encrypt | CryptographicUsageMask.Decrypt;
  return {
    objectType: ObjectType.SymmetricKey,
    algorithm: alg,
    lengthBits: bits,
    ...(alg === CryptographicAlgorithm.TripleDES ? { lengthAliases: [168, 192] } : {}),
    defaultUsageMask: mask,
  };
}

/**
 * Seals `sealedPlaintext` (see stored-content.ts) and stores a new object owned by the caller;
 * retries id allocation on collision. The caller zeroes `sealedPlaintext`.
 */
export async function storeNewObject(
  ctx: OpContext,
  template: readonly Attribute[],
  kind: NewObjectKind,
  sealedPlaintext: Buffer,
): Promise<KeyRecord> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await insertNewObject(ctx, ctx.deps.store.newId(), template, kind, sealedPlaintext);
    } catch (err) {
      if (err instanceof KmsError && err.code === 'STORE_ID_EXISTS' && attempt < MAX_ID_TRIES) continue;
      throw err;
    }
  }
}

/** storeNewObject with an id the caller drew (store.newId()), for objects that name each other (a key pair's Links). */
export async function insertNewObject(
  ctx: OpContext,
  id: string,
  template: readonly Attribute[],
  kind: NewObjectKind,
  sealedPlaintext: Buffer,
): Promise<KeyRecord> {
  const attrs = buildAttributes(ctx, id, template, kind);
  return ctx.deps.store.insert({ id, owner: ctx.identity, attributes: serializeAttributes(attrs), sealedKey: ctx.deps.sealer.seal(id, sealedPlaintext) });
}
