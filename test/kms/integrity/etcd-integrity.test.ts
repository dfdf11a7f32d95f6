import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEtcdKeyStore, parseEtcdEndpoints } from '../../../src/kms/store/etcd.js';
import { startTestEtcd, type TestEtcdCluster } from '../../helpers/etcd.js';
import { authenticatedKms } from './kms-driver.js';

const run = promisify(execFile);
let etcd: TestEtcdCluster;
const master = randomBytes(32);

beforeAll(async () => {
  etcd = await startTestEtcd(1);
});
afterAll(async () => {
  await etcd?.destroy();
});

/** etcdctl (v3 API) against the test cluster: how an operator, or an attacker, edits etcd. */
async function etcdctl(...args: string[]): Promise<string> {
  const { stdout } = await run('etcdctl', ['--endpoints', etcd.endpoints, ...args], { env: { ...process.env, ETCDCTL_API: '3' } });
  return stdout;
}
type Kv = { key: string; value: string; mod_revision: number; version: number };
async function getKv(key: string, rev?: number): Promise<Kv> {
  const out = JSON.parse(await etcdctl('get', key, '-w', 'json', ...(rev === undefined ? [] : [`--rev=${rev}`]))) as { kvs: Kv[] };
  const kv = out.kvs[0]!;
  return { ...kv, key: Buffer.from(kv.key, 'base64').toString(), value: Buffer.from(kv.value, 'base64').toString() };
}

async function open(prefix: string) {
  return authenticatedKms(await openEtcdKeyStore({ endpoints: parseEtcdEndpoints(etcd.endpoints), prefix }), master);
}

describe('record integrity on etcd (edits made with etcdctl)', () => {
  it('refuses an owner changed with etcdctl put, with an audit line', async () => {
    const kms = await open('t1/');
    const id = await kms.create('manager');
    const kv = await getKv(`t1/obj/${id}`);
    const v = JSON.parse(kv.value) as { o: string };
    v.o = 'attacker';
    await etcdctl('put', kv.key, JSON.stringify(v));
    expect(await kms.get('attacker', id)).toMatchObject({ ok: false, message: 'key store: RECORD_TAMPERED' });
    expect(kms.integrityLines()).toContainEqual(expect.objectContaining({ objectId: id, reason: 'RECORD_TAMPERED' }));
    await kms.close();
  });

  it('refuses a destroyed key revived from etcd history, also by a server started afterwards', async () => {
    const kms = await open('t2/');
    const id = await kms.create('manager');
    const key = `t2/obj/${id}`;
    const alive = await getKv(key);
    expect((await kms.get('manager', id)).ok).toBe(true);
    await kms.destroy('manager', id);
    expect(await kms.get('manager', id)).toMatchObject({ ok: false });
    // The value at the revision before Destroy, put back as the current one.
    const old = await getKv(key, alive.mod_revision);
    expect(JSON.parse(old.value)).toMatchObject({ k: expect.any(String) });
    await etcdctl('put', key, old.value);
    expect(await kms.get('manager', id)).toMatchObject({ ok: false, message: 'key store: RECORD_TAMPERED' });
    await kms.close();
    // A fresh node (no memory of versions) refuses it too: the tag names version 1, etcd says 3.
    const fresh = await open('t2/');
    expect(fresh.report.refused).toBe(1);
    expect(await fresh.get('manager', id)).toMatchObject({ ok: false, message: 'key store: RECORD_TAMPERED' });
    await fresh.close();
  });

  it('refuses a record deleted and re-put at its first version while the server runs', async () => {
    const kms = await open('t3/');
    const id = await kms.create('manager');
    const key = `t3/obj/${id}`;
    const first = await getKv(key);
    await kms.destroy('manager', id);
    await etcdctl('del', key);
    await etcdctl('put', key, first.value); // etcd version 1 again: the tag of version 1 verifies…
    expect(await kms.get('manager', id)).toMatchObject({ ok: false, message: 'key store: RECORD_ROLLED_BACK' }); // …but this server saw version 2
    await kms.close();
  });
});
