import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { KeyFormatType, ObjectType, SecretDataType } from '../../../src/kmip/enums.js';
import { KmipError } from '../../../src/kmip/errors.js';
import { decodeObjectContent, encodeObjectContent } from '../../../src/kmip/objects/object-content.js';
import { decodeOpaqueObject, encodeOpaqueObject } from '../../../src/kmip/objects/opaque-object.js';
import { decodeSecretData, encodeSecretData, MAX_SECRET_BYTES } from '../../../src/kmip/objects/secret-data.js';
import { Tag } from '../../../src/kmip/tags.js';
import { decodeTtlv, encodeTtlv, ttlv } from '../../../src/kmip/ttlv/index.js';
import { repoRoot } from '../../helpers/cli.js';

const run = promisify(execFile);

describe('Secret Data and Opaque Object (KMIP 1.4 §2.2.7, §2.2.8)', () => {
  it('encodes byte for byte as PyKMIP does, and decodes PyKMIP\'s bytes', async () => {
    const secret = Buffer.from('70617373', 'hex');
    const opaque = Buffer.from('00ff', 'hex');
    const script = join(repoRoot, 'test', 'kmip', 'objects', 'pykmip_encode_objects.py');
    const { stdout } = await run('/usr/bin/python3', [script, secret.toString('hex'), opaque.toString('hex')]);
    const [pySecret, pyOpaque] = stdout.trim().split('\n');
    const ours = encodeTtlv(encodeSecretData({ secretDataType: SecretDataType.Password, value: secret })).toString('hex');
    expect(ours).toBe(pySecret);
    expect(encodeTtlv(encodeOpaqueObject({ opaqueDataType: 0x80000000, value: opaque })).toString('hex')).toBe(pyOpaque);
    expect(decodeSecretData(decodeTtlv(Buffer.from(pySecret ?? '', 'hex')))).toEqual({ secretDataType: SecretDataType.Password, value: secret });
    expect(decodeOpaqueObject(decodeTtlv(Buffer.from(pyOpaque ?? '', 'hex')))).toEqual({ opaqueDataType: 0x80000000, value: opaque });
  });

  it('round-trips through the object-type switch', () => {
    const c = { objectType: ObjectType.SecretData, secretData: { secretDataType: SecretDataType.Seed, value: Buffer.alloc(32, 7) } } as const;
    const item = decodeTtlv(encodeTtlv(encodeObjectContent(c)));
    expect(decodeObjectContent(ObjectType.SecretData, (tag) => (tag === item.tag ? item : undefined))).toEqual(c);
  });

  it('refuses other key formats, wrapped blocks, empty and oversized values, unsupported object types', () => {
    const secret = (format: number, value: Buffer, extra: ReturnType<typeof ttlv.struct>[] = []) =>
      ttlv.struct(Tag.SecretData, [
        ttlv.enumeration(Tag.SecretDataType, SecretDataType.Password),
        ttlv.struct(Tag.KeyBlock, [ttlv.enumeration(Tag.KeyFormatType, format), ttlv.struct(Tag.KeyValue, [ttlv.bytes(Tag.KeyMaterial, value)]), ...extra]),
      ]);
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
        return undefined;
      } catch (err) {
        return err instanceof KmipError ? err.code : String(err);
      }
    };
    expect(code(() => decodeSecretData(secret(KeyFormatType.Raw, Buffer.from('x'))))).toBe('KMIP_KEY_FORMAT_NOT_SUPPORTED');
    expect(code(() => decodeSecretData(secret(KeyFormatType.Opaque, Buffer.from('x'), [ttlv.struct(Tag.KeyWrappingData, [])])))).toBe('KMIP_FEATURE_NOT_SUPPORTED');
    expect(code(() => decodeSecretData(secret(KeyFormatType.Opaque, Buffer.alloc(0))))).toBe('KMIP_INVALID_FIELD');
    const big = Buffer.alloc(MAX_SECRET_BYTES + 1, 1);
    expect(code(() => decodeSecretData(secret(KeyFormatType.Opaque, big)))).toBe('KMIP_INVALID_FIELD');
    const bigOpaque = ttlv.struct(Tag.OpaqueObject, [ttlv.enumeration(Tag.OpaqueDataType, 1), ttlv.bytes(Tag.OpaqueDataValue, Buffer.alloc(MAX_SECRET_BYTES + 1, 1))]);
    expect(code(() => decodeOpaqueObject(bigOpaque))).toBe('KMIP_INVALID_FIELD');
    expect(code(() => decodeObjectContent(ObjectType.PgpKey, () => undefined))).toBe('KMIP_FEATURE_NOT_SUPPORTED');
    expect(code(() => decodeObjectContent(ObjectType.OpaqueObject, () => undefined))).toBe('KMIP_MISSING_FIELD');
  });
});
