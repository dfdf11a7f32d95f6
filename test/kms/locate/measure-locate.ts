/**
 * Locate on N objects, without the index (a scan: every record listed, authenticated, decoded)
 * and with it. Not a test (no timing assertions in tests): run it by hand,
 *   node --expose-gc --import tsx test/kms/locate/measure-locate.ts [N=20000]
 * It prints one line per query: `locate <query> scan=<ms> index=<ms> speedup=<x>`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { attr, AttributeName, type Attribute } from '../../../src/kmip/attributes.js';
import { CryptographicAlgorithm, ObjectType } from '../../../src/kmip/enums.js';
import { Operation } from '../../../src/kmip/operation-codes.js';
import { encodeCreateRequest } from '../../../src/kmip/payloads/create.js';
import { decodeLocateResponse, encodeLocateRequest } from '../../../src/kmip/payloads/locate.js';
import { encodeRequestMessage } from '../../../src/kmip/message/request.js';
import { encodeTtlv } from '../../../src/kmip/ttlv/index.js';
import { memoryAuditLog } from '../../../src/kms/audit.js';
import type { KmsDeps, OpContext } from '../../../src/kms/context.js';
import { handleLocate } from '../../../src/kms/handlers/locate.js';
import { IndexedKeyStore } from '../../../src/kms/locate-index/indexed-store.js';
import { openAuthenticatedStore } from '../../../src/kms/integrity/authenticated-store.js';
import { RecordMac } from '../../../src/kms/integrity/record-mac.js';
import { KeySealer } from '../../../src/kms/key-material-seal.js';
import { KeyServer } from '../../../src/kms/key-server.js';
import { openSqliteStore } from '../../../src/kms/store/sqlite.js';

const N = Number(process.argv[2] ?? 20000);
const dir = await mkdtemp(join(tmpdir(), 'vmcrypt-locate-measure-'));
const master = randomBytes(32);
const raw = await openSqliteStore({ path: join(dir, 'kms.db') });
const { store } = await openAuthenticatedStore(raw, new RecordMac(Buffer.from(master)));
const deps: KmsDeps = { store, sealer: new KeySealer(Buffer.from(master)), audit: memoryAuditLog(), now: () => new Date(), randomBytes };
const server = new KeyServer(deps);

const t0 = performance.now();
const BATCH = 250;
for (let i = 0; i < N; i += BATCH) {
  const items = [];
  for (let j = i; j < Math.min(N, i + BATCH); j++) {
    items.push({
      operation: Operation.Create,
      payload: encodeCreateRequest({
        objectType: ObjectType.SymmetricKey,
        templateAttribute: {
          templateNames: [],
          attributes: [
            attr.enumeration(AttributeName.CryptographicAlgorithm, CryptographicAlgorithm.AES),
            attr.int(AttributeName.CryptographicLength, 256),
            attr.name(`vm-kek-${j}`),
            attr.text('x-vmcrypt-vm', `vm-${j % 1000}`),
          ],
        },
      }),
    });
  }
  await server.handleMessage('manager', encodeTtlv(encodeRequestMessage({ header: { protocolVersion: { major: 1, minor: 4 }, batchCount: items.length }, batchItems: items })));
}
console.log(`created ${N} keys in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const ctxOf = (d: KmsDeps): OpContext => ({ deps: d, identity: 'manager', version: { major: 1, minor: 4 }, batch: {} });
const scanCtx = ctxOf(deps); // the authenticated store itself: no index, every Locate scans
const indexCtx = ctxOf(server.deps); // the KeyServer's store: indexed
const queries: [string, Attribute[], number | undefined][] = [
  ['Name (1 match)', [attr.name(`vm-kek-${N - 7}`)], undefined],
  ['x-vmcrypt-vm (N/1000 matches)', [attr.text('x-vmcrypt-vm', 'vm-42')], undefined],
  ['Object Type + Maximum Items 10', [attr.enumeration(AttributeName.ObjectType, ObjectType.SymmetricKey)], 10],
];
const time = async (ctx: OpContext, attributes: Attribute[], max: number | undefined, runs: number): Promise<{ ms: number; hits: number }> => {
  let hits = 0;
  const start = performance.now();
  for (let r = 0; r < runs; r++) {
    const res = await handleLocate(ctx, encodeLocateRequest({ attributes, ...(max === undefined ? {} : { maximumItems: max }) }));
    hits = decodeLocateResponse(res.payload).uniqueIdentifiers.length;
  }
  return { ms: (performance.now() - start) / runs, hits };
};
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const build = performance.now();
const fresh = new IndexedKeyStore(store); // what the KeyServer does at start
await fresh.locate({ identity: 'manager', attributes: [], includeDestroyed: false });
gc?.();
const heapMiB = (process.memoryUsage().heapUsed - heapBefore) / 1048576;
console.log(`index of ${fresh.indexedCount} objects built in ${(performance.now() - build).toFixed(0)} ms, heap +${heapMiB.toFixed(1)} MiB${gc === undefined ? ' (run with --expose-gc for a stable figure)' : ''}`);
await time(indexCtx, [], 1, 1); // the KeyServer's own index is ready too
for (const [label, attributes, max] of queries) {
  const scan = await time(scanCtx, attributes, max, 3);
  const idx = await time(indexCtx, attributes, max, 200);
  if (scan.hits !== idx.hits) throw new Error(`${label}: scan found ${scan.hits}, index ${idx.hits}`);
  console.log(`locate ${label}: hits=${idx.hits} scan=${scan.ms.toFixed(1)}ms index=${idx.ms.toFixed(3)}ms speedup=${(scan.ms / idx.ms).toFixed(0)}x`);
}
console.log(`rss=${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB`);
await store.close();
await rm(dir, { recursive: true, force: true });
