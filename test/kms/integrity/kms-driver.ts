import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { attr, AttributeName } from '../../../src/kmip/attributes.js';
import { CryptographicAlgorithm, ObjectType, ResultStatus } from '../../../src/kmip/enums.js';
import { Operation } from '../../../src/kmip/operation-codes.js';
import { decodeCreateResponse, encodeCreateRequest } from '../../../src/kmip/payloads/create.js';
import { decodeGetResponse, encodeGetRequest } from '../../../src/kmip/payloads/get.js';
import { encodeAddAttributeRequest } from '../../../src/kmip/payloads/add-attribute.js';
import { encodeDestroyRequest } from '../../../src/kmip/payloads/destroy.js';
import { encodeRequestMessage, type RequestBatchItem } from '../../../src/kmip/message/request.js';
import { decodeResponseMessage, type ResponseBatchItem } from '../../../src/kmip/message/response.js';
import { decodeTtlv, encodeTtlv } from '../../../src/kmip/ttlv/index.js';
import { memoryAuditLog } from '../../../src/kms/audit.js';
import { KeyServer } from '../../../src/kms/key-server.js';
import { KeySealer } from '../../../src/kms/key-material-seal.js';
import { openAuthenticatedStore } from '../../../src/kms/integrity/authenticated-store.js';
import { RecordMac } from '../../../src/kms/integrity/record-mac.js';
import type { KeyStore } from '../../../src/kms/store/types.js';

/** A KeyServer over `inner` wrapped in record authentication, as `kms serve` builds it. */
export async function authenticatedKms(inner: KeyStore, masterKey: Buffer = randomBytes(32)) {
  const audit = memoryAuditLog();
  const { store, report } = await openAuthenticatedStore(inner, new RecordMac(masterKey), {
    onFailure: (f) => audit.record({ time: new Date().toISOString(), identity: '-', operation: 'integrity', objectId: f.id, result: 'failure', reason: f.code, message: f.message }),
  });
  const sealer = new KeySealer(masterKey);
  const server = new KeyServer({ store, sealer, audit, now: () => new Date(), randomBytes });
  const send = async (identity: string, item: RequestBatchItem): Promise<ResponseBatchItem> => {
    const req = encodeTtlv(encodeRequestMessage({ header: { protocolVersion: { major: 1, minor: 2 }, batchCount: 1 }, batchItems: [item] }));
    const r = decodeResponseMessage(decodeTtlv(await server.handleMessage(identity, req)));
    return r.batchItems[0]!;
  };
  return {
    store,
    report,
    audit,
    send,
    async create(identity: string): Promise<string> {
      const r = await send(identity, {
        operation: Operation.Create,
        payload: encodeCreateRequest({
          objectType: ObjectType.SymmetricKey,
          templateAttribute: { templateNames: [], attributes: [attr.enumeration(AttributeName.CryptographicAlgorithm, CryptographicAlgorithm.AES), attr.int(AttributeName.CryptographicLength, 256)] },
        }),
      });
      expect(r.resultStatus).toBe(ResultStatus.Success);
      return decodeCreateResponse(r.payload).uniqueIdentifier;
    },
    async get(identity: string, id: string): Promise<{ ok: true; key: Buffer } | { ok: false; message: string }> {
      const r = await send(identity, { operation: Operation.Get, payload: encodeGetRequest({ uniqueIdentifier: id }) });
      if (r.resultStatus !== ResultStatus.Success) return { ok: false, message: r.resultMessage ?? '' };
      return { ok: true, key: Buffer.from(decodeGetResponse(r.payload).symmetricKey.material) };
    },
    async grant(identity: string, id: string, to: string): Promise<void> {
      const r = await send(identity, { operation: Operation.AddAttribute, payload: encodeAddAttributeRequest({ uniqueIdentifier: id, attribute: attr.text('x-vmcrypt-grant', to) }) });
      expect(r.resultStatus).toBe(ResultStatus.Success);
    },
    /** Destroy (a new key is Pre-Active, which may be destroyed at once). */
    async destroy(identity: string, id: string): Promise<void> {
      const d = await send(identity, { operation: Operation.Destroy, payload: encodeDestroyRequest({ uniqueIdentifier: id }) });
      expect(d.resultStatus).toBe(ResultStatus.Success);
    },
    integrityLines: () => audit.entries.filter((e) => e.operation === 'integrity'),
    async close() {
      await store.close();
      sealer.destroy();
    },
  };
}
