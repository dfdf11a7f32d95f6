import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { attr, AttributeName } from '../../src/kmip/attributes.js';
import { CryptographicAlgorithm, ObjectType, ResultReason, ResultStatus } from '../../src/kmip/enums.js';
import { encodeRequestMessage, type RequestBatchItem } from '../../src/kmip/message/request.js';
import { decodeResponseMessage } from '../../src/kmip/message/response.js';
import { Operation } from '../../src/kmip/operation-codes.js';
import { decodeCreateResponse, encodeCreateRequest } from '../../src/kmip/payloads/create.js';
import { encodeGetRequest } from '../../src/kmip/payloads/get.js';
import { decodeTtlv, encodeTtlv } from '../../src/kmip/ttlv/index.js';
import { memoryAuditLog, openFileAuditLog, type AuditEntry, type AuditLog } from '../../src/kms/audit.js';
import { KeyServer } from '../../src/kms/key-server.js';
import { KeySealer } from '../../src/kms/key-material-seal.js';
import { openSqliteStore } from '../../src/kms/store/sqlite.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmcrypt-audit-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const entry = (i: number): AuditEntry => ({ time: new Date(0).toISOString(), identity: 'alice', operation: 'Get', objectId: `id-${i}`, result: 'success' });

function message(items: RequestBatchItem[]): Buffer {
  return encodeTtlv(encodeRequestMessage({ header: { protocolVersion: { major: 1, minor: 2 }, batchCount: items.length }, batchItems: items }));
}

describe('audit log', () => {
  it('file log: flush makes every entry recorded before it durable, in order, mode 0600, appending across opens', async () => {
    const path = join(dir, 'audit.log');
    const log = await openFileAuditLog(path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const flushes: Array<Promise<void>> = [];
    for (let i = 0; i < 50; i++) {
      log.record(entry(i));
      if (i % 7 === 0) flushes.push(log.flush());
    }
    await Promise.all(flushes);
    await log.flush();
    const lines = (await readFile(path, 'utf8')).trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as AuditEntry).objectId)).toEqual(Array.from({ length: 50 }, (_, i) => `id-${i}`));
    await log.close();
    const again = await openFileAuditLog(path);
    again.record(entry(50));
    await again.close();
    expect((await readFile(path, 'utf8')).trim().split('\n')).toHaveLength(51);
  });

  it('a response is released only once its audit entries are durable; no audit, no key', async () => {
    const store = await openSqliteStore({ path: join(dir, 'kms.db') });
    const sealer = new KeySealer(randomBytes(32));
    const mem = memoryAuditLog();
    let flushed = 0;
    let broken = false;
    const audit: AuditLog = {
      record: (e) => mem.record(e),
      flush: async () => {
        if (broken) throw new Error('ENOSPC: no space left on device');
        flushed = mem.entries.length;
      },
      close: async () => {},
    };
    const server = new KeyServer({ store, sealer, audit, now: () => new Date(), randomBytes });
    try {
      const create = await server.handleMessage(
        'alice',
        message([
          {
            operation: Operation.Create,
            payload: encodeCreateRequest({
              objectType: ObjectType.SymmetricKey,
              templateAttribute: {
                templateNames: [],
                attributes: [attr.enumeration(AttributeName.CryptographicAlgorithm, CryptographicAlgorithm.AES), attr.int(AttributeName.CryptographicLength, 256)],
              },
            }),
          },
        ]),
      );
      expect(flushed).toBe(1);
      const id = decodeCreateResponse(decodeResponseMessage(decodeTtlv(create)).batchItems[0]?.payload).uniqueIdentifier;
      broken = true;
      const r = decodeResponseMessage(decodeTtlv(await server.handleMessage('alice', message([{ operation: Operation.Get, payload: encodeGetRequest({ uniqueIdentifier: id }) }]))));
      expect(r.batchItems).toHaveLength(1);
      expect(r.batchItems[0]?.resultStatus).toBe(ResultStatus.OperationFailed);
      expect(r.batchItems[0]?.resultReason).toBe(ResultReason.GeneralFailure);
      expect(r.batchItems[0]?.resultMessage).toBe('audit log unavailable');
      expect(r.batchItems[0]?.payload).toBeUndefined();
    } finally {
      await store.close();
      sealer.destroy();
    }
  });
});
