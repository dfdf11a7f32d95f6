import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kmsNode, makeKmsDataDir, type KmsDataDir, type KmsNode } from '../../keyprovider/kms-nodes.js';
import {
  KmipClient,
  KmipOperationError,
  activateCall,
  checkServerHealth,
  createKeyCall,
  getAttributesCall,
  getKeyCall,
} from '../../../src/kmip/client/index.js';
import { attr, nameValueOf } from '../../../src/kmip/attributes.js';
import { CryptographicAlgorithm, KeyFormatType, ObjectType, RevocationReasonCode, State } from '../../../src/kmip/enums.js';
import { Operation } from '../../../src/kmip/operation-codes.js';

function valueOf(attrs: readonly { name: string; value: { value: unknown } }[], name: string): unknown {
  return attrs.find((a) => a.name === name)?.value.value;
}

describe('KMIP client against `vmcrypt kms serve` (process, real mTLS)', () => {
  let data: KmsDataDir;
  let node: KmsNode;
  let client: KmipClient;

  beforeAll(async () => {
    data = await makeKmsDataDir();
    node = await kmsNode('kms1', data);
    await node.start();
    client = KmipClient.connect({ host: '127.0.0.1', port: node.port, tls: data.manager, responseTimeoutMs: 20_000 });
  });
  afterAll(async () => {
    await client?.close();
    await node?.stop();
    await data?.remove();
  });

  it('Discover Versions (1.0–1.4) and Query', async () => {
    const versions = (await client.discoverVersions()).map((v) => `${v.major}.${v.minor}`);
    expect(versions).toEqual(expect.arrayContaining(['1.0', '1.1', '1.2', '1.3', '1.4']));
    for (const minor of [0, 1, 4]) {
      const c = KmipClient.connect({ host: '127.0.0.1', port: node.port, tls: data.manager, protocolVersion: { major: 1, minor } });
      expect((await c.discoverVersions()).length).toBeGreaterThan(0);
      await c.close();
    }
    const q = await client.query();
    for (const op of [Operation.Create, Operation.Get, Operation.GetAttributes, Operation.Locate, Operation.AddAttribute, Operation.Activate, Operation.Revoke, Operation.Destroy]) {
      expect(q.operations).toContain(op);
    }
    expect(q.objectTypes).toContain(ObjectType.SymmetricKey);
  });

  it('runs the whole lifecycle with Name and custom x-* attributes', async () => {
    for (const length of [128, 192, 256] as const) {
      const name = `kek-${length}`;
      const uid = await client.create({ length, name, attributes: [attr.text('x-vm-uuid', `vm-${length}`)] });
      const raw = await client.get(uid);
      expect(raw.material.length).toBe(length / 8);
      const transparent = await client.get(uid, 'transparent');
      expect(transparent.formatType).toBe(KeyFormatType.TransparentSymmetricKey);
      expect(transparent.material.equals(raw.material)).toBe(true);
      raw.material.fill(0);
      transparent.material.fill(0);

      const attrs = await client.getAttributes(uid);
      expect(valueOf(attrs, 'Cryptographic Algorithm')).toBe(CryptographicAlgorithm.AES);
      expect(valueOf(attrs, 'Cryptographic Length')).toBe(length);
      expect(valueOf(attrs, 'x-vm-uuid')).toBe(`vm-${length}`);
      const n = attrs.find((a) => a.name === 'Name');
      expect(n === undefined ? undefined : nameValueOf(n)).toBe(name);

      const added = await client.addAttribute(uid, attr.text('x-owner', 'ops'));
      expect(added.name).toBe('x-owner');
      expect(valueOf(await client.getAttributes(uid, ['x-owner']), 'x-owner')).toBe('ops');

      expect(await client.activate(uid)).toBe(uid);
      expect(await client.locate({ name, state: State.Active })).toEqual([uid]);
      expect(await client.locate({ attributes: [attr.text('x-vm-uuid', `vm-${length}`)] })).toEqual([uid]);

      const early = await client.destroy(uid).catch((e: unknown) => e);
      expect(early).toBeInstanceOf(KmipOperationError);
      expect(await client.revoke(uid, { reason: RevocationReasonCode.Superseded })).toBe(uid);
      expect(valueOf(await client.getAttributes(uid, ['State']), 'State')).toBe(State.Deactivated);
      expect(await client.destroy(uid)).toBe(uid);
    }
    for (let i = 0; i < 3; i++) await client.create({ name: 'many' });
    expect(await client.locate({ name: 'many' })).toHaveLength(3);
    expect(await client.locate({ name: 'many', maximumItems: 2 })).toHaveLength(2);
  });

  it('batches Create + Activate + Get Attributes + Get through the ID Placeholder', async () => {
    const [c, a, attrs, key] = await client.batch([
      createKeyCall({ length: 256, name: 'batched' }),
      activateCall(),
      getAttributesCall(undefined, ['State']),
      getKeyCall(undefined),
    ] as const);
    expect(c.ok && a.ok && attrs.ok && key.ok).toBe(true);
    if (c.ok && a.ok) expect(a.value).toBe(c.value);
    if (attrs.ok) expect(valueOf(attrs.value, 'State')).toBe(State.Active);
    if (key.ok) {
      expect(key.value.material.length).toBe(32);
      key.value.material.fill(0);
    }
  });

  it('keeps another identity away from our keys (Permission Denied)', async () => {
    const uid = await client.create({ name: 'private' });
    const other = KmipClient.connect({ host: '127.0.0.1', port: node.port, tls: await data.identity('intruder') });
    const err = await other.get(uid).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KmipOperationError);
    expect(['PermissionDenied', 'ItemNotFound']).toContain((err as KmipOperationError).reason);
    await other.close();
  });

  it('reports health with the server certificate', async () => {
    const h = await checkServerHealth(client);
    expect(h.status).toBe('ok');
    expect(h.certificate?.subjectCn).toBe('vmcrypt-kms');
    expect(h.versions).toContain('1.4');
  });
});
