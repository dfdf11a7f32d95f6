import { readFile } from 'node:fs/promises';
import { attr, AttributeName } from '../../src/kmip/attributes.js';
import { CryptographicAlgorithm, ObjectType, ResultStatus } from '../../src/kmip/enums.js';
import { encodeRequestMessage, type RequestBatchItem } from '../../src/kmip/message/request.js';
import { decodeResponseMessage, type ResponseBatchItem } from '../../src/kmip/message/response.js';
import { Operation } from '../../src/kmip/operation-codes.js';
import { decodeCreateResponse, encodeCreateRequest } from '../../src/kmip/payloads/create.js';
import { decodeGetResponse, encodeGetRequest } from '../../src/kmip/payloads/get.js';
import { decodeTtlv, encodeTtlv } from '../../src/kmip/ttlv/index.js';
import { kmsPaths } from '../../src/kms/data-dir.js';
import { openRawConnection, type TlsMaterial } from './kmip-connection.js';

/** The manager's client certificate of a data dir, as TLS material. */
export async function managerTls(dataDir: string): Promise<TlsMaterial> {
  const p = kmsPaths(dataDir);
  return { ca: await readFile(p.caCert, 'utf8'), cert: await readFile(p.clientCert('vmcrypt-manager'), 'utf8'), key: await readFile(p.clientKey('vmcrypt-manager'), 'utf8') };
}

/** One batch item over a fresh mutual-TLS connection. */
export async function kmipCall(port: number, tls: TlsMaterial, item: RequestBatchItem): Promise<ResponseBatchItem> {
  const c = await openRawConnection(port, tls);
  try {
    const req = encodeTtlv(encodeRequestMessage({ header: { protocolVersion: { major: 1, minor: 2 }, batchCount: 1 }, batchItems: [item] }));
    const res = await c.exchange(req);
    if (res === null) throw new Error('connection closed');
    return decodeResponseMessage(decodeTtlv(res)).batchItems[0]!;
  } finally {
    c.close();
  }
}

export const createItem = (): RequestBatchItem => ({
  operation: Operation.Create,
  payload: encodeCreateRequest({
    objectType: ObjectType.SymmetricKey,
    templateAttribute: { templateNames: [], attributes: [attr.enumeration(AttributeName.CryptographicAlgorithm, CryptographicAlgorithm.AES), attr.int(AttributeName.CryptographicLength, 256)] },
  }),
});

export async function createKey(port: number, tls: TlsMaterial): Promise<string> {
  const r = await kmipCall(port, tls, createItem());
  if (r.resultStatus !== ResultStatus.Success) throw new Error(`Create failed: ${r.resultMessage}`);
  return decodeCreateResponse(r.payload).uniqueIdentifier;
}

/** The key bytes, or the failure message. */
export async function getKey(port: number, tls: TlsMaterial, id: string): Promise<Buffer | string> {
  const r = await kmipCall(port, tls, { operation: Operation.Get, payload: encodeGetRequest({ uniqueIdentifier: id }) });
  if (r.resultStatus !== ResultStatus.Success) return r.resultMessage ?? 'failed';
  return Buffer.from(decodeGetResponse(r.payload).symmetricKey.material);
}
