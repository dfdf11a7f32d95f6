import { AttributeName as A, type Attribute } from '../../kmip/attributes.js';
import { CryptographicAlgorithm, CryptographicUsageMask, LinkType, ObjectType, SecretDataType } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import { decodeDeriveKeyRequest, encodeDeriveKeyResponse } from '../../kmip/payloads/derive-key.js';
import { Tag } from '../../kmip/tags.js';
import { ttlv } from '../../kmip/ttlv/index.js';
import type { OperationHandler } from '../context.js';
import { derive } from '../crypto-services/derivation.js';
import { hmacDigest } from '../crypto-services/hashes.js';
import { keyForUse } from '../crypto-services/key-use.js';
import { enumValue } from '../managed-object.js';
import { loadOwned, updateOwned } from '../object-access.js';
import type { KeyRecord } from '../store/types.js';
import { storeNewKey, storeNewObject, symmetricKind } from './new-object.js';
import { packContent } from './stored-content.js';

/** A Link attribute (KMIP 1.4 §3.35) to `id`. */
export function linkAttribute(linkType: number, id: string): Attribute {
  return { name: A.Link, value: ttlv.struct(Tag.AttributeValue, [ttlv.enumeration(Tag.LinkType, linkType), ttlv.text(Tag.LinkedObjectIdentifier, id)]) };
}

/**
 * Derive Key (KMIP 1.4 §4.6): a new Symmetric Key or Secret Data from one base object (symmetric
 * key or secret data, Active, with the Derive Key usage bit, owned by the caller — it gains a
 * link). Methods: crypto-services/derivation.ts. The template's Cryptographic Length (bits) gives
 * the size. The new object links to its base (Derivation Base Object Link), the base to it
 * (Derived Key Link). Every derived and base byte is zeroed before returning.
 */
export const handleDeriveKey: OperationHandler = async (ctx, payload) => {
  const req = decodeDeriveKeyRequest(payload);
  if (req.objectType !== ObjectType.SymmetricKey && req.objectType !== ObjectType.SecretData) {
    throw new KmipError('KMIP_INVALID_FIELD', `Derive Key makes a Symmetric Key or Secret Data, not object type ${req.objectType}`);
  }
  if (req.templateAttribute.templateNames.length > 0) throw new KmipError('KMIP_FEATURE_NOT_SUPPORTED', 'Template objects are not supported; send attributes');
  if (req.uniqueIdentifiers.length > 1) throw new KmipError('KMIP_INVALID_FIELD', 'the supported derivation methods take one base object');
  const template = req.templateAttribute.attributes;
  const bits = enumValue(template, A.CryptographicLength);
  if (bits === undefined || bits <= 0 || bits % 8 !== 0) throw new KmipError('KMIP_INVALID_FIELD', 'Derive Key needs a Cryptographic Length (bits, a multiple of 8) in its template');
  const baseObj = await loadOwned(ctx, req.uniqueIdentifiers[0], 'write');
  const base = keyForUse(ctx, baseObj, {
    use: 'protect',
    mask: CryptographicUsageMask.DeriveKey,
    operation: 'Derive Key',
    objectTypes: [ObjectType.SymmetricKey, ObjectType.SecretData],
  });
  let derived: Buffer | undefined;
  try {
    derived = await derive({
      method: req.derivationMethod,
      parameters: req.derivationParameters,
      key: base.material,
      keyAlgorithm: base.algorithm,
      lengthBytes: bits / 8,
      randomBytes: ctx.deps.randomBytes,
    });
    const linked = [...template, linkAttribute(LinkType.DerivationBaseObjectLink, base.id)];
    let record: KeyRecord;
    if (req.objectType === ObjectType.SymmetricKey) {
      // An AES key (the default), or an HMAC key of any length the template asks for.
      const alg = enumValue(template, A.CryptographicAlgorithm) ?? CryptographicAlgorithm.AES;
      if (alg === CryptographicAlgorithm.AES) record = await storeNewKey(ctx, linked, derived);
      else if (hmacDigest(alg) !== undefined) record = await storeNewObject(ctx, linked, symmetricKind(alg, bits), derived);
      else throw new KmipError('KMIP_INVALID_FIELD', `Derive Key makes AES or HMAC keys, not Cryptographic Algorithm ${alg}`);
    } else {
      // Cryptographic Length only sized the secret: KMIP 1.4 §3.4–3.5 keep it off secret data.
      const attrs = linked.filter((a) => a.name !== A.CryptographicLength && a.name !== A.CryptographicAlgorithm);
      const packed = packContent({ objectType: ObjectType.SecretData, secretData: { secretDataType: SecretDataType.Seed, value: derived } });
      try {
        record = await storeNewObject(ctx, attrs, { objectType: ObjectType.SecretData }, packed);
      } finally {
        packed.fill(0);
      }
    }
    await updateOwned(ctx, base.id, (obj) => {
      obj.attributes.push(linkAttribute(LinkType.DerivedKeyLink, record.id));
    });
    ctx.batch.idPlaceholder = record.id;
    return { objectId: record.id, payload: encodeDeriveKeyResponse({ uniqueIdentifier: record.id }) };
  } finally {
    base.material.fill(0);
    derived?.fill(0);
  }
};
