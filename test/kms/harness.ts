import { mkdtemp, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryAuditLog } from '../../src/kms/audit.js';
import { KeyServer } from '../../src/kms/key-server.js';
import { KeySealer } from '../../src/kms/key-material-seal.js';
import { openSqliteStore } from '../../src/kms/store/sqlite.js';
import { encodeRequestMessage, type RequestBatchItem } from '../../src/kmip/message/request.js';
import { decodeResponseMessage, type ResponseMessage } from '../../src/kmip/message/response.js';
import type { ProtocolVersion } from '../../src/kmip/message/protocol-version.js';
import { decodeTtlv, encodeTtlv } from '../../src/kmip/ttlv/index.js';

/** A KeyServer on a real SQLite store in a temp dir, driven with encoded messages. */
export async function openHarness() {
  const dir = await mkdtemp(join(tmpdir(), 'vmcrypt-kms-'));
  const store = await openSqliteStore({ path: join(dir, 'kms.db') });
  const audit = memoryAuditLog();
  const sealer = new KeySealer(randomBytes(32));
  const server = new KeyServer({ store, sealer, audit, now: () => new Date(), randomBytes });
  return {
    dir,
    store,
    audit,
    server,
    async send(identity: string, items: RequestBatchItem[], opts: { version?: ProtocolVersion; batchErrorContinuationOption?: number } = {}): Promise<ResponseMessage> {
      const req = encodeTtlv(
        encodeRequestMessage({
          header: {
            protocolVersion: opts.version ?? { major: 1, minor: 2 },
            batchCount: items.length,
            ...(opts.batchErrorContinuationOption === undefined ? {} : { batchErrorContinuationOption: opts.batchErrorContinuationOption }),
          },
          batchItems: items,
        }),
      );
      return decodeResponseMessage(decodeTtlv(await server.handleMessage(identity, req)));
    },
    async close() {
      await store.close();
      sealer.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
