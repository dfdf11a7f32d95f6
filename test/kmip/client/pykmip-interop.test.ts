import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPykmip, type PykmipServer } from '../../helpers/pykmip.js';
import {
  KmipClient,
  KmipOperationError,
  activateCall,
  checkServerHealth,
  createKeyCall,
  getAttributesCall,
  getKeyCall,
  queryCall,
} from '../../../src/kmip/client/index.js';
import { attr, nameValueOf } from '../../../src/kmip/attributes.js';
import { CryptographicAlgorithm, CryptographicUsageMask, ObjectType, RevocationReasonCode, State } from '../../../src/kmip/enums.js';
import { Operation } from '../../../src/kmip/operation-codes.js';

/** The value of a single-valued attribute in a Get Attributes answer. */
function valueOf(attrs: readonly { name: string; value: { value: unknown } }[], name: string): unknown {
  return attrs.find((a) => a.name === name)?.value.value;
}

describe('KMIP client against the PyKMIP server (python3-pykmip 0.10)', () => {
  let srv: PykmipServer;
  let client: KmipClient;

  beforeAll(async () => {
    srv = await startPykmip();
    client = KmipClient.connect({
      host: srv.host,
      port: srv.port,
      tls: { ca: srv.ca.certPem, cert: srv.client.certPem, key: srv.client.keyPem },
      responseTimeoutMs: 20_000,
    });
  });
  afterAll(async () => {
    await client?.close();
    await srv?.stop();
  });

  it('Discover Versions and Query', async () => {
    const versions = await client.discoverVersions();
    expect(versions).toContainEqual({ major: 1, minor: 2 });
    expect(versions).toContainEqual({ major: 1, minor: 1 });
    const q = await client.query();
    for (const op of [Operation.Create, Operation.Get, Operation.GetAttributes, Operation.Locate, Operation.Activate, Operation.Revoke, Operation.Destroy]) {
      expect(q.operations).toContain(op);
    }
  });

  it('runs the key lifecycle: create (128/192/256) → get → get attributes → activate → locate → revoke → destroy', async () => {
    for (const length of [128, 192, 256] as const) {
      const name = `vmcrypt-kek-${length}-${Date.now()}`;
      const uid = await client.create({ length, name, usageMask: CryptographicUsageMask.Encrypt | CryptographicUsageMask.Decrypt });
      expect(uid).not.toBe('');

      const key = await client.get(uid);
      expect(key.uniqueIdentifier).toBe(uid);
      expect(key.objectType).toBe(ObjectType.SymmetricKey);
      expect(key.material.length).toBe(length / 8);
      expect(key.material.equals(Buffer.alloc(length / 8))).toBe(false);
      key.material.fill(0);

      const attrs = await client.getAttributes(uid);
      expect(valueOf(attrs, 'Cryptographic Algorithm')).toBe(CryptographicAlgorithm.AES);
      expect(valueOf(attrs, 'Cryptographic Length')).toBe(length);
      expect(valueOf(attrs, 'State')).toBe(State.PreActive);
      const nameAttr = attrs.find((a) => a.name === 'Name');
      expect(nameAttr === undefined ? undefined : nameValueOf(nameAttr)).toBe(name);

      expect(await client.activate(uid)).toBe(uid);
      const onlyState = await client.getAttributes(uid, ['State']);
      expect(valueOf(onlyState, 'State')).toBe(State.Active);

      expect(await client.locate({ name })).toEqual([uid]);
      expect(await client.locate({ name, state: State.Active, objectType: ObjectType.SymmetricKey })).toEqual([uid]);

      const destroyActive = await client.destroy(uid).catch((e: unknown) => e);
      expect(destroyActive).toBeInstanceOf(KmipOperationError);

      expect(await client.revoke(uid, { reason: RevocationReasonCode.CessationOfOperation, message: 'rotated' })).toBe(uid);
      expect(valueOf(await client.getAttributes(uid, ['State']), 'State')).toBe(State.Deactivated);
      expect(await client.destroy(uid)).toBe(uid);
      const gone = await client.get(uid).catch((e: unknown) => e);
      expect(gone).toBeInstanceOf(KmipOperationError);
      expect((gone as KmipOperationError).reason).toBe('ItemNotFound');
    }
  });

  it('Locate honours Maximum Items', async () => {
    const name = `many-${Date.now()}`;
    for (let i = 0; i < 3; i++) await client.create({ name });
    expect(await client.locate({ name })).toHaveLength(3);
    expect(await client.locate({ name, maximumItems: 2 })).toHaveLength(2);
  });

  it('sends several operations in one batch and matches the answers', async () => {
    const [a, b, q] = await client.batch([createKeyCall({ length: 128 }), createKeyCall({ length: 256 }), queryCall()] as const);
    expect(a.ok && b.ok && q.ok).toBe(true);
    if (!a.ok || !b.ok) return;
    const [act, attrs, key, missing] = await client.batch([
      activateCall(a.value),
      getAttributesCall(a.value, ['State']),
      getKeyCall(b.value),
      getKeyCall('no-such-object'),
    ] as const);
    expect(act.ok && act.value).toBe(a.value);
    expect(attrs.ok ? valueOf(attrs.value, 'State') : 'failed').toBe(State.Active);
    expect(key.ok ? key.value.material.length : 0).toBe(32);
    if (key.ok) key.value.material.fill(0);
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.error.reason).toBe('ItemNotFound');
  });

  it('reports what PyKMIP does not implement as the server answered it', async () => {
    const uid = await client.create();
    // PyKMIP 0.10 has no Add Attribute for KMIP 1.x, and refuses custom attributes on Create.
    const add = await client.addAttribute(uid, attr.text('x-vm-uuid', 'b2f0')).catch((e: unknown) => e);
    expect(add).toBeInstanceOf(KmipOperationError);
    const custom = await client.create({ attributes: [attr.text('x-vm-uuid', 'b2f0')] }).catch((e: unknown) => e);
    expect(custom).toBeInstanceOf(KmipOperationError);
    expect((custom as KmipOperationError).reason).toBe('InvalidField');
    // The connection is still usable afterwards.
    expect((await client.discoverVersions()).length).toBeGreaterThan(0);
  });

  it('gives a health status with latency and certificate expiry', async () => {
    const h = await checkServerHealth(client);
    expect(h.status).toBe('ok');
    expect(h.server).toBe(`127.0.0.1:${srv.port}`);
    expect(h.versions).toContain('1.2');
    expect(typeof h.latencyMs).toBe('number');
    expect(h.certificate?.subjectCn).toBe('pykmip-server');
    expect(h.certificate?.daysLeft).toBeGreaterThan(800);
    expect(h.certificate?.sha256Fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(JSON.stringify(h))).toEqual(h);
  });

  it('refuses a PyKMIP server it was not told to trust', async () => {
    const other = await srv.issueClient('other');
    const { createCa } = await import('../../../src/pki/index.js');
    const stranger = await createCa({ commonName: 'stranger CA' });
    const c = KmipClient.connect({
      host: srv.host,
      port: srv.port,
      tls: { ca: stranger.certPem, cert: other.certPem, key: other.keyPem },
    });
    const err = await c.discoverVersions().catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('KMIP_CLIENT_TLS');
    await c.close();
  });
});
