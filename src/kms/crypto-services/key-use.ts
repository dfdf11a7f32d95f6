import { AttributeName as A } from '../../kmip/attributes.js';
import { CryptographicAlgorithm, KeyFormatType, ObjectType, State } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import { decodeCryptographicParameters, type CryptographicParameters } from '../../kmip/payloads/crypto-parameters.js';
import type { OpContext } from '../context.js';
import { enumValue, firstValue, stateOf, type ManagedObject } from '../managed-object.js';
import { loadOwned } from '../object-access.js';
import type { KeyObject } from 'node:crypto';
import { storedKeyObject, unpackContent } from '../handlers/stored-content.js';

/**
 * Protect operations (Encrypt, Sign, MAC, Derive Key, wrapping) need an Active key; process
 * operations (Decrypt, Signature Verify, MAC Verify, unwrapping) also accept a Deactivated or
 * Compromised one — KMIP 1.4 §3.22: such keys "may be used to process cryptographically-protected
 * information", never to apply protection.
 */
export type KeyUse = 'protect' | 'process';

const usableStates: Record<KeyUse, readonly number[]> = {
  protect: [State.Active],
  process: [State.Active, State.Deactivated, State.Compromised],
};

/** A key ready for one operation. `material` is secret: the caller zeroes it. */
export interface KeyForUse {
  readonly id: string;
  readonly object: ManagedObject;
  readonly objectType: number;
  readonly algorithm: number | undefined;
  readonly material: Buffer;
  /** A public or private key, as OpenSSL holds it (`material` is then empty). */
  readonly keyObject?: KeyObject;
  /** The key's Cryptographic Parameters attribute, the default of a request that gives none. */
  readonly parameters: CryptographicParameters | undefined;
}

export interface KeyUseRule {
  readonly use: KeyUse;
  /** Cryptographic Usage Mask bit(s) the key must carry (KMIP 1.4 §3.19). */
  readonly mask: number;
  readonly operation: string;
  readonly objectTypes?: readonly number[];
}

/**
 * Loads the key of a cryptographic operation: the caller must own it or hold a grant (a grantee
 * could Get the key anyway); its state, usage mask and the Process Start / Protect Stop dates
 * (§3.25–3.26) must allow the use. Errors never carry key bytes.
 */
export async function loadKeyForUse(ctx: OpContext, uid: string | undefined, rule: KeyUseRule): Promise<KeyForUse> {
  const obj = await loadOwned(ctx, uid, 'read');
  return keyForUse(ctx, obj, rule);
}

export function keyForUse(ctx: OpContext, obj: ManagedObject, rule: KeyUseRule): KeyForUse {
  const id = obj.record.id;
  const objectType = enumValue(obj.attributes, A.ObjectType) ?? ObjectType.SymmetricKey;
  const types = rule.objectTypes ?? [ObjectType.SymmetricKey];
  if (!types.includes(objectType)) {
    throw new KmipError('KMIP_ILLEGAL_OPERATION', `${rule.operation}: object ${id} is object type ${objectType}, not a key this operation uses`);
  }
  const state = stateOf(obj.attributes);
  if (!usableStates[rule.use].includes(state)) {
    throw new KmipError('KMIP_PERMISSION_DENIED', `${rule.operation}: object ${id} is in state ${state}; ${rule.use === 'protect' ? 'only an Active key' : 'only an Active, Deactivated or Compromised key'} may be used`);
  }
  const mask = enumValue(obj.attributes, A.CryptographicUsageMask) ?? 0;
  if ((mask & rule.mask) !== rule.mask) {
    throw new KmipError('KMIP_PERMISSION_DENIED', `${rule.operation}: the Cryptographic Usage Mask of object ${id} does not allow it`);
  }
  const now = BigInt(Math.floor(ctx.deps.now().getTime() / 1000));
  const dateName = rule.use === 'protect' ? A.ProtectStopDate : A.ProcessStartDate;
  const date = firstValue(obj.attributes, dateName);
  if (date?.type === 'DateTime' && (rule.use === 'protect' ? date.value <= now : date.value > now)) {
    throw new KmipError('KMIP_PERMISSION_DENIED', `${rule.operation}: object ${id} ${rule.use === 'protect' ? 'is past its Protect Stop Date' : 'is before its Process Start Date'}`);
  }
  if (obj.record.sealedKey === null) throw new KmipError('KMIP_ITEM_NOT_FOUND', `object ${id} is destroyed; its content is gone`);
  const algorithm = enumValue(obj.attributes, A.CryptographicAlgorithm) ?? (objectType === ObjectType.SymmetricKey ? CryptographicAlgorithm.AES : undefined);
  const paramsAttr = firstValue(obj.attributes, A.CryptographicParameters);
  const parameters = paramsAttr === undefined ? undefined : decodeCryptographicParameters(paramsAttr);
  const base = { id, object: obj, objectType, algorithm, parameters };
  if (objectType === ObjectType.PublicKey || objectType === ObjectType.PrivateKey) {
    const plain = ctx.deps.sealer.unseal(id, obj.record.sealedKey);
    try {
      return { ...base, material: Buffer.alloc(0), keyObject: storedKeyObject(objectType, plain) };
    } finally {
      plain.fill(0);
    }
  }
  return { ...base, material: keyBytes(ctx, id, objectType, obj.record.sealedKey) };
}

/** The key bytes of a stored symmetric key or secret data, as a fresh buffer. */
function keyBytes(ctx: OpContext, id: string, objectType: number, sealed: Buffer): Buffer {
  const plain = ctx.deps.sealer.unseal(id, sealed);
  try {
    const content = unpackContent(objectType, plain, () => ({ objectType: ObjectType.SymmetricKey, symmetricKey: { formatType: KeyFormatType.Raw, material: plain } }));
    if (content.objectType === ObjectType.SymmetricKey) return Buffer.from(content.symmetricKey.material);
    if (content.objectType === ObjectType.SecretData) return Buffer.from(content.secretData.value);
    throw new KmipError('KMIP_ILLEGAL_OPERATION', `object ${id} holds no key material`);
  } finally {
    plain.fill(0);
  }
}
