import { AttributeName as A, type Attribute } from '../../kmip/attributes.js';
import { CryptographicAlgorithm as Alg, CryptographicUsageMask as Usage, KeyFormatType as F, LinkType, ObjectType, State } from '../../kmip/enums.js';
import { KmipError } from '../../kmip/errors.js';
import { decodeCreateKeyPairRequest, encodeCreateKeyPairResponse } from '../../kmip/payloads/create-key-pair.js';
import { Tag } from '../../kmip/tags.js';
import { ttlv } from '../../kmip/ttlv/index.js';
import type { OpContext, OperationHandler } from '../context.js';
import { keyFromDer, type AsymmetricObjectType } from '../keygen/asymmetric-formats.js';
import { keyDigest } from '../keygen/digest.js';
import { newKeyPair } from '../keygen/key-pair.js';
import { enumValue, setSingle } from '../managed-object.js';
import { updateOwned } from '../object-access.js';
import { insertNewObject, type NewObjectKind } from './new-object.js';
import { algorithmFor } from './register-content.js';
import { packKey } from './stored-content.js';
import { mergeAttributeLayers, resolveTemplateAttribute } from './template-names.js';

const EMPTY = { templateNames: [], attributes: [] };

/**
 * Create Key Pair (KMIP 1.4 §4.2): an RSA (2048/3072/4096) or EC (P-256/384/521) key pair from
 * OpenSSL. Each key gets the Common Template-Attribute overridden by its own one (templates named
 * in any of them resolved first); Cryptographic Algorithm and Length must agree between the two.
 * The private key links to the public one (Public Key Link) and back (Private Key Link, §3.35);
 * both are sealed like every key; the private key's DER is zeroed once sealed. Get returns the
 * public key as PKCS#1 (RSA) or X.509 (EC) and the private key as PKCS#8 by default, as PyKMIP's
 * server does. The ID Placeholder becomes the private key's id (§4.2).
 */
export const handleCreateKeyPair: OperationHandler = async (ctx, payload) => {
  const req = decodeCreateKeyPairRequest(payload);
  const common = await resolveTemplateAttribute(ctx, req.common ?? EMPTY);
  const privAttrs = mergeAttributeLayers([common, await resolveTemplateAttribute(ctx, req.privateKey ?? EMPTY)]);
  const pubAttrs = mergeAttributeLayers([common, await resolveTemplateAttribute(ctx, req.publicKey ?? EMPTY)]);
  const alg = agreed(privAttrs, pubAttrs, A.CryptographicAlgorithm);
  const bits = agreed(privAttrs, pubAttrs, A.CryptographicLength);
  const family = alg === Alg.RSA ? 'rsa' : 'ec';
  const algorithm = algorithmFor(family, alg);

  const pair = await newKeyPair(family, bits);
  const privId = ctx.deps.store.newId();
  const pubId = ctx.deps.store.newId();
  const privPlain = packKey({ registeredFormat: F.PKCS8, derFormat: F.PKCS8, der: pair.privateDer });
  const pubPlain = packKey({ registeredFormat: family === 'rsa' ? F.PKCS1 : F.X509, derFormat: F.X509, der: pair.publicDer });
  pair.privateDer.fill(0);
  try {
    const kind = (objectType: AsymmetricObjectType, defaultUsageMask: number, der: Buffer): NewObjectKind => {
      const key = keyFromDer(objectType, objectType === ObjectType.PrivateKey ? F.PKCS8 : F.X509, der);
      return { objectType, algorithm, lengthBits: bits, defaultUsageMask, implicit: [keyDigest(objectType, key)], generated: true };
    };
    // Ids are random UUIDs drawn up front so each key can name the other; a collision is refused by the store.
    await insertNewObject(ctx, privId, [...privAttrs, linkAttribute(LinkType.PublicKeyLink, pubId)], kind(ObjectType.PrivateKey, Usage.Sign, privPlain.subarray(8)), privPlain);
    try {
      await insertNewObject(ctx, pubId, [...pubAttrs, linkAttribute(LinkType.PrivateKeyLink, privId)], kind(ObjectType.PublicKey, Usage.Verify, pair.publicDer), pubPlain);
    } catch (err) {
      await destroyHalfPair(ctx, privId);
      throw err;
    }
  } finally {
    privPlain.fill(0);
    pubPlain.fill(0);
  }
  ctx.batch.idPlaceholder = privId;
  return { objectId: privId, payload: encodeCreateKeyPairResponse({ privateKeyUniqueIdentifier: privId, publicKeyUniqueIdentifier: pubId }) };
};

/**
 * A private key whose public half could not be stored: its content is deleted and it is marked
 * Destroyed (best effort: if the store is down, this fails too and the key stays, with a Link to
 * an id that does not exist).
 */
async function destroyHalfPair(ctx: OpContext, privId: string): Promise<void> {
  try {
    await updateOwned(ctx, privId, (o) => {
      setSingle(o.attributes, A.State, ttlv.enumeration(Tag.AttributeValue, State.Destroyed));
      setSingle(o.attributes, A.DestroyDate, ttlv.date(Tag.AttributeValue, ctx.deps.now()));
      return { sealedKey: null };
    });
  } catch {
    // The original failure is what the client gets.
  }
}

/** The value both keys' attributes give `name`; Invalid Field if missing or different. */
function agreed(a: readonly Attribute[], b: readonly Attribute[], name: string): number {
  const x = enumValue(a, name);
  const y = enumValue(b, name);
  if (x === undefined || y === undefined) throw new KmipError('KMIP_INVALID_FIELD', `Create Key Pair needs a ${name}`);
  if (x !== y) throw new KmipError('KMIP_INVALID_FIELD', `the private and public keys' ${name} differ`);
  return x;
}

/** A Link attribute value (KMIP 1.4 §3.35). */
function linkAttribute(linkType: number, id: string): Attribute {
  return {
    name: A.Link,
    value: ttlv.struct(Tag.AttributeValue, [ttlv.enumeration(Tag.LinkType, linkType), ttlv.text(Tag.LinkedObjectIdentifier, id)]),
  };
}
