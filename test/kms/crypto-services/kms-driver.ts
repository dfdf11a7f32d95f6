import { expect } from 'vitest';
import { attr, AttributeName, type Attribute } from '../../../src/kmip/attributes.js';
import { CryptographicAlgorithm, KeyFormatType, ObjectType, ResultStatus, SecretDataType } from '../../../src/kmip/enums.js';
import type { RequestBatchItem } from '../../../src/kmip/message/request.js';
import type { ResponseBatchItem } from '../../../src/kmip/message/response.js';
import { Operation } from '../../../src/kmip/operation-codes.js';
import { decodeRegisterResponse, encodeRegisterObjectRequest } from '../../../src/kmip/payloads/register.js';
import type { TtlvItem } from '../../../src/kmip/ttlv/index.js';
import type { openHarness } from '../harness.js';

type Harness = Awaited<ReturnType<typeof openHarness>>;

/** Drives the cryptographic operations of a harness KeyServer as one identity. */
export function cryptoDriver(h: Harness, identity = 'alice') {
  const active = attr.date(AttributeName.ActivationDate, new Date(Date.now() - 60_000));
  return {
    async call(operation: number, payload: TtlvItem, version = { major: 1, minor: 2 }, as = identity): Promise<ResponseBatchItem> {
      const r = await h.send(as, [{ operation, payload } as RequestBatchItem], { version });
      const item = r.batchItems[0];
      if (item === undefined) throw new Error('no batch item');
      return item;
    },
    async ok(operation: number, payload: TtlvItem, as = identity): Promise<TtlvItem | undefined> {
      const item = await this.call(operation, payload, undefined, as);
      expect(item.resultMessage ?? '', `operation ${operation}`).toBe('');
      expect(item.resultStatus).toBe(ResultStatus.Success);
      return item.payload;
    },
    /** Registers an Active AES key with these bytes and usage mask. */
    async aesKey(material: Buffer, mask: number, extra: Attribute[] = []): Promise<string> {
      const payload = encodeRegisterObjectRequest({
        templateAttribute: { templateNames: [], attributes: [attr.int(AttributeName.CryptographicUsageMask, mask), ...(extra.some((a) => a.name === AttributeName.ActivationDate) ? [] : [active]), ...extra] },
        content: { objectType: ObjectType.SymmetricKey, symmetricKey: { formatType: KeyFormatType.Raw, material: Buffer.from(material), algorithm: CryptographicAlgorithm.AES, length: material.length * 8 } },
      });
      return decodeRegisterResponse(await this.ok(Operation.Register, payload)).uniqueIdentifier;
    },
    /** Registers an Active password (secret data). */
    async password(value: string, mask: number): Promise<string> {
      const payload = encodeRegisterObjectRequest({
        templateAttribute: { templateNames: [], attributes: [attr.int(AttributeName.CryptographicUsageMask, mask), active] },
        content: { objectType: ObjectType.SecretData, secretData: { secretDataType: SecretDataType.Password, value: Buffer.from(value) } },
      });
      return decodeRegisterResponse(await this.ok(Operation.Register, payload)).uniqueIdentifier;
    },
  };
}
