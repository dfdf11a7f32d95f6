import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { attr, AttributeName } from '../../src/kmip/attributes.js';
import { CertificateType, CryptographicAlgorithm as Alg, KeyFormatType as F, ObjectType, SplitKeyMethod } from '../../src/kmip/enums.js';
import { KmipError } from '../../src/kmip/errors.js';
import { decodeObjectContent, encodeObjectContent, type ObjectContent } from '../../src/kmip/objects/object-content.js';
import { decodeTtlv, encodeTtlv } from '../../src/kmip/ttlv/index.js';
import { exportKey } from '../../src/kms/keygen/asymmetric-formats.js';
import { prepareRegistration } from '../../src/kms/handlers/register-content.js';
import { createSelfSigned } from '../../src/pki/index.js';
import { prng } from '../kmip/fuzz-lib.js';

/**
 * Mutated encodings of every new object type through the decoders and the server's Register
 * checks (DER and transparent key parsing by OpenSSL, certificate parsing): whatever the bytes,
 * the only failure is a KmipError (a KMIP answer), never a crash or a TypeError.
 */
const seeds: ObjectContent[] = [];
beforeAll(async () => {
  const cert = new X509Certificate((await createSelfSigned({ commonName: 'fuzz', usage: 'client' })).certPem).raw;
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const block = (formatType: number, material: ReturnType<typeof exportKey>) => ({ keyBlock: { formatType, material } });
  seeds.push(
    { objectType: ObjectType.Certificate, certificate: { certificateType: CertificateType.X509, value: cert } },
    { objectType: ObjectType.PrivateKey, privateKey: block(F.PKCS8, { bytes: rsa.privateKey.export({ format: 'der', type: 'pkcs8' }) }) },
    { objectType: ObjectType.PrivateKey, privateKey: block(F.TransparentRSAPrivateKey, exportKey(ObjectType.PrivateKey, rsa.privateKey, F.TransparentRSAPrivateKey)) },
    { objectType: ObjectType.PublicKey, publicKey: block(F.TransparentECPublicKey, exportKey(ObjectType.PublicKey, ec.publicKey, F.TransparentECPublicKey)) },
    { objectType: ObjectType.PrivateKey, privateKey: block(F.ECPrivateKey, { bytes: ec.privateKey.export({ format: 'der', type: 'sec1' }) }) },
    { objectType: ObjectType.SplitKey, splitKey: { parts: 3, keyPartIdentifier: 1, threshold: 2, method: SplitKeyMethod.XOR, keyBlock: { formatType: F.Raw, material: { bytes: Buffer.alloc(16, 9) }, algorithm: Alg.AES, length: 128 } } },
    { objectType: ObjectType.Template, template: { attributes: [attr.enumeration(AttributeName.CryptographicAlgorithm, Alg.AES), attr.int(AttributeName.CryptographicLength, 128)] } },
  );
});

describe('object decoders and Register checks under mutation', () => {
  // Longer runs: OBJECTS_FUZZ_SEED=<n> OBJECTS_FUZZ_CASES=<n> npx vitest run test/kms/objects-fuzz.test.ts
  const seed = Number(process.env['OBJECTS_FUZZ_SEED'] ?? 0x0b1ec7);
  const cases = Number(process.env['OBJECTS_FUZZ_CASES'] ?? 3000);
  it(`answer every mutated object with a KmipError or accept it (seed ${seed}, ${cases} cases)`, () => {
    const next = prng(seed);
    let accepted = 0;
    for (let i = 0; i < cases; i++) {
      const start = seeds[next() % seeds.length] as ObjectContent;
      const bytes = encodeTtlv(encodeObjectContent(start));
      const flips = 1 + (next() % 4);
      // Mostly the value bytes (past the 8-byte headers near the start), sometimes anywhere.
      for (let f = 0; f < flips; f++) bytes[next() % 4 === 0 ? next() % bytes.length : 16 + (next() % (bytes.length - 16))] = next() & 0xff;
      try {
        const item = decodeTtlv(bytes);
        const content = decodeObjectContent(start.objectType, (tag) => (tag === item.tag ? item : undefined));
        prepareRegistration(content, []).plaintext.fill(0);
        accepted++;
      } catch (err) {
        if (!(err instanceof KmipError)) throw new Error(`case ${i} (${start.objectType}): ${String(err)} ${(err as Error).stack?.split("\n").slice(1, 4).join(" ")}`, { cause: err });
      }
    }
    expect(accepted).toBeGreaterThan(0);
  });
});
