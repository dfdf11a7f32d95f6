import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attr, AttributeName } from '../../../src/kmip/attributes.js';
import { encodeRequestMessage, type RequestBatchItem } from '../../../src/kmip/message/request.js';
import { decodeResponseMessage } from '../../../src/kmip/message/response.js';
import { decodeTtlv, encodeTtlv } from '../../../src/kmip/ttlv/index.js';
import { memoryAuditLog } from '../../../src/kms/audit.js';
import { openAuthenticatedStore } from '../../../src/kms/integrity/authenticated-store.js';
import { RecordMac } from '../../../src/kms/integrity/record-mac.js';
import { KeySealer } from '../../../src/kms/key-material-seal.js';
import { KeyServer } from '../../../src/kms/key-server.js';
import { openEtcdKeyStore, parseEtcdEndpoints } from '../../../src/kms/store/etcd.js';
import type { KeyStore } from '../../../src/kms/store/types.js';
import { startTestEtcd, type TestEtcdCluster } from '../../helpers/etcd.js';
import { ops, type Harness } from './ops.js';

/** Two KMS nodes of one cluster on a real etcd: each its own KeyServer, store stack and Locate index. */
let etcd: TestEtcdCluster;
const stores: KeyStore[] = [];
let nodeA: Node;
let nodeB: Node;
type Node = Pick<Harness, 'send'>;

async function node(endpoints: string[], master: Buffer): Promise<Node> {
  const raw = await openEtcdKeyStore({ endpoints, masterKeyId: 'mk-locate', prefix: 'vmcrypt/locate-test/' });
  const { store } = await openAuthenticatedStore(raw, new RecordMac(Buffer.from(master)));
  stores.push(store);
  const server = new KeyServer({ store, sealer: new KeySealer(Buffer.from(master)), audit: memoryAuditLog(), now: () => new Date(), randomBytes });
  const send: Node['send'] = async (identity, items: RequestBatchItem[], o = {}) => {
    const req = encodeTtlv(encodeRequestMessage({ header: { protocolVersion: o.version ?? { major: 1, minor: 4 }, batchCount: items.length }, batchItems: items }));
    return decodeResponseMessage(decodeTtlv(await server.handleMessage(identity, req)));
  };
  return { send };
}

beforeAll(async () => {
  etcd = await startTestEtcd(1);
  const endpoints = parseEtcdEndpoints(etcd.endpoints);
  const master = randomBytes(32);
  nodeA = await node(endpoints, master);
  nodeB = await node(endpoints, master);
}, 60_000);

afterAll(async () => {
  for (const s of stores) await s.close();
  await etcd?.destroy();
});

describe('Locate index on a KMS cluster (etcd): the other nodes\' writes reach it', () => {
  it('a key created, renamed and destroyed on node A is located accordingly on node B, whose index was built before', async () => {
    const a = ops(nodeA);
    const b = ops(nodeB);
    expect((await b.locate({ attributes: [attr.name('cluster-kek')] })).ids).toEqual([]); // B's index is built now
    const id = await a.create([attr.name('cluster-kek'), attr.text('x-vm', 'vm-7')]);
    expect((await b.locate({ attributes: [attr.name('cluster-kek')] })).ids).toEqual([id]);
    expect((await b.locate({ attributes: [attr.text('x-vm', 'vm-7')] })).ids).toEqual([id]);
    await a.modify(id, attr.name('cluster-kek-2'));
    expect((await b.locate({ attributes: [attr.name('cluster-kek')] })).ids).toEqual([]);
    expect((await b.locate({ attributes: [attr.name('cluster-kek-2')] })).ids).toEqual([id]);
    // B changes it; A sees that.
    await b.add(id, attr.text(AttributeName.ObjectGroup, 'moved-by-b'));
    expect((await a.locate({ attributes: [attr.text(AttributeName.ObjectGroup, 'moved-by-b')] })).ids).toEqual([id]);
  });
});
