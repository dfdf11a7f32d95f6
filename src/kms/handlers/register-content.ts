import { AttributeName as A, attr, type Attribute } from '../../kmip/attributes.js';
import { CryptographicAlgorithm as Alg, KeyFormatType as F, ObjectType } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import type { AsymmetricKey } from '../../kmip/objects/asymmetric-key.js';
import type { ObjectContent } from '../../kmip/objects/object-content.js';
import { enumValue } from '../managed-object.js';
import { exportKey, formatsFor, isDerFormat, keyFacts, parseKey, type AsymmetricObjectType, type KeyFamily } from '../keygen/asymmetric-formats.js';
import { checkCertificate } from '../keygen/certificate-check.js';
import { digestAttribute, keyDigest } from '../keygen/digest.js';
import { registeredLength } from '../keygen/symmetric-algorithms.js';
import { symmetricKind, type NewObjectKind } from './new-object.js';
import { packContent, packKey } from './stored-content.js';
import { checkTemplateContent } from './template-names.js';

/** RSA moduli Register accepts (Create Key Pair makes 2048/3072/4096; older keys of 1024 bits are still registered). */
const RSA_REGISTER_MIN_BITS = 1024;
const RSA_REGISTER_MAX_BITS = 8192;
const EC_ALGORITHMS: readonly number[] = [Alg.EC, Alg.ECDSA, Alg.ECDH, Alg.ECMQV];

/** A registration ready to store: its kind (server-set attributes) and the bytes to seal, which the caller zeroes. */
export interface Registration {
  readonly kind: NewObjectKind;
  readonly plaintext: Buffer;
}

/** Checks a registered object against its template and the profiles vmcrypt serves (KMIP 1.4 §4.3). */
export function prepareRegistration(content: ObjectContent, attrs: readonly Attribute[]): Registration {
  const templateAlg = enumValue(attrs, A.CryptographicAlgorithm);
  switch (content.objectType) {
    case ObjectType.SymmetricKey: {
      const key = content.symmetricKey;
      if (key.formatType !== F.Raw && key.formatType !== F.TransparentSymmetricKey) {
        throw new KmipError('KMIP_KEY_FORMAT_NOT_SUPPORTED', `key format type ${key.formatType} is not supported`);
      }
      const alg = key.algorithm ?? templateAlg ?? Alg.AES;
      const bits = registeredLength(alg, key.material, key.length ?? enumValue(attrs, A.CryptographicLength));
      return { kind: symmetricKind(alg, bits), plaintext: packContent(content) };
    }
    case ObjectType.SecretData:
    case ObjectType.OpaqueObject:
      return { kind: { objectType: content.objectType }, plaintext: packContent(content) };
    case ObjectType.Certificate: {
      const { certificateType, value } = content.certificate;
      const facts = checkCertificate(certificateType, value);
      const algorithm = facts.algorithm === Alg.EC && templateAlg !== undefined && EC_ALGORITHMS.includes(templateAlg) ? templateAlg : facts.algorithm;
      const implicit = [attr.enumeration('Certificate Type', certificateType), attr.int('Certificate Length', value.length), digestAttribute(value)];
      return { kind: { objectType: content.objectType, algorithm, lengthBits: facts.lengthBits, implicit }, plaintext: packContent(content) };
    }
    case ObjectType.PublicKey:
      return registerAsymmetric(content.objectType, content.publicKey, templateAlg);
    case ObjectType.PrivateKey:
      return registerAsymmetric(content.objectType, content.privateKey, templateAlg);
    case ObjectType.SplitKey: {
      const block = content.splitKey.keyBlock;
      if (block.formatType !== F.Raw && block.formatType !== F.Opaque) {
        throw new KmipError('KMIP_KEY_FORMAT_NOT_SUPPORTED', `a split key part is Raw or Opaque, not key format type ${block.formatType}`);
      }
      const algorithm = block.algorithm ?? templateAlg;
      const lengthBits = block.length ?? enumValue(attrs, A.CryptographicLength);
      const kind: NewObjectKind = {
        objectType: content.objectType,
        ...(algorithm === undefined ? {} : { algorithm }),
        ...(algorithm === undefined || lengthBits === undefined ? {} : { lengthBits }),
      };
      return { kind, plaintext: packContent(content) };
    }
    case ObjectType.Template:
      checkTemplateContent(content.template.attributes);
      return { kind: { objectType: content.objectType }, plaintext: packContent(content) };
  }
}

/** The algorithm to record for a key of `family`: the client's if it names that family, else RSA / EC. */
export function algorithmFor(family: KeyFamily, given: number | undefined): number {
  if (family === 'rsa') {
    if (given !== undefined && given !== Alg.RSA) throw new KmipError('KMIP_INVALID_FIELD', `Cryptographic Algorithm ${given} does not match an RSA key`);
    return Alg.RSA;
  }
  if (given !== undefined && !EC_ALGORITHMS.includes(given)) throw new KmipError('KMIP_INVALID_FIELD', `Cryptographic Algorithm ${given} does not match an EC key`);
  return given ?? Alg.EC;
}

function registerAsymmetric(objectType: AsymmetricObjectType, k: AsymmetricKey, templateAlg: number | undefined): Registration {
  const block = k.keyBlock;
  const key = parseKey(objectType, block.formatType, block.material);
  const facts = keyFacts(key);
  if (!formatsFor(objectType, facts.family).includes(block.formatType)) {
    throw new KmipError('KMIP_KEY_FORMAT_NOT_SUPPORTED', `key format type ${block.formatType} is not supported for this key`);
  }
  if (facts.family === 'rsa' && (facts.lengthBits < RSA_REGISTER_MIN_BITS || facts.lengthBits > RSA_REGISTER_MAX_BITS)) {
    throw new KmipError('KMIP_INVALID_FIELD', `RSA keys are ${RSA_REGISTER_MIN_BITS} to ${RSA_REGISTER_MAX_BITS} bits, not ${facts.lengthBits}`);
  }
  if (block.length !== undefined && block.length !== facts.lengthBits) {
    throw new KmipError('KMIP_INVALID_FIELD', `Cryptographic Length ${block.length} does not match the key (${facts.lengthBits} bits)`);
  }
  const algorithm = algorithmFor(facts.family, block.algorithm ?? templateAlg);
  const isPrivate = objectType === ObjectType.PrivateKey;
  // DER as sent is kept byte for byte; a transparent key is kept as PKCS#8 / SubjectPublicKeyInfo.
  const derFormat = isDerFormat(block.formatType) ? block.formatType : isPrivate ? F.PKCS8 : F.X509;
  const exported = isDerFormat(block.formatType) ? undefined : exportKey(objectType, key, derFormat);
  const der = exported !== undefined && 'bytes' in exported ? exported.bytes : 'bytes' in block.material ? block.material.bytes : Buffer.alloc(0);
  try {
    return {
      kind: { objectType, algorithm, lengthBits: facts.lengthBits, implicit: [keyDigest(objectType, key)] },
      plaintext: packKey({ registeredFormat: block.formatType, derFormat, der }),
    };
  } finally {
    if (exported !== undefined) der.fill(0);
  }
}
