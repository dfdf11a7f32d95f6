import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../../../src/manager/access/password.js';
import { EntityKind, Privilege, ROOT, type AncestryResolver, type EntityRef } from '../../../src/manager/contracts.js';
import { ManagerError } from '../../../src/manager/errors.js';
import { createPlatform, type ManagerPlatform } from '../../../src/manager/platform/platform.js';
import { ManualClock, openPlatform, tempDir } from './fixture.js';

const folder = { kind: EntityKind.FOLDER, id: 'f-prod' };
const sub = { kind: EntityKind.FOLDER, id: 'f-prod-db' };
const vmA = { kind: EntityKind.VM, id: 'vm-a' };
const vmB = { kind: EntityKind.VM, id: 'vm-b' };

/** root ⊃ f-prod ⊃ { vm-a, f-prod-db ⊃ vm-b } (a fake tree: the real one is the inventory's). */
const tree: AncestryResolver = {
  ancestors(e: EntityRef): EntityRef[] {
    const up: Record<string, EntityRef[]> = {
      'root:root': [],
      'folder:f-prod': [ROOT],
      'folder:f-prod-db': [folder, ROOT],
      'vm:vm-a': [folder, ROOT],
      'vm:vm-b': [sub, folder, ROOT],
    };
    const chain = up[`${e.kind}:${e.id}`];
    if (chain === undefined) throw new ManagerError('MANAGER_NOT_FOUND', `${e.kind} ${e.id} not found`);
    return chain;
  },
};

describe('passwords', () => {
  it('scrypt N=2^15 r=8 p=1 with a 16-byte salt; the right password verifies, a wrong one does not', async () => {
    const h = await hashPassword('correct horse battery');
    const [alg, logN, r, p, salt] = h.split('$');
    expect([alg, logN, r, p]).toEqual(['scrypt', '15', '8', '1']);
    expect(Buffer.from(salt!, 'base64')).toHaveLength(16);
    expect(h).not.toContain('correct horse');
    expect(await verifyPassword('correct horse battery', h)).toBe(true);
    expect(await verifyPassword('correct horse batterY', h)).toBe(false);
    expect(await hashPassword('correct horse battery')).not.toBe(h);
    expect(await verifyPassword('x', 'scrypt$40$8$1$AAAA$AAAA')).toBe(false);
  });
});

describe('access control', () => {
  let t: Awaited<ReturnType<typeof tempDir>>;
  let p: ManagerPlatform;
  const clock = new ManualClock();
  beforeEach(async () => {
    t = await tempDir();
    p = await openPlatform(t.dir, clock);
  });
  afterEach(async () => {
    p.close();
    await t.cleanup();
  });

  it('users: create, verify, wrong password, duplicate, policy, delete', async () => {
    await p.users.create('alice', 'alice-password');
    expect(await p.users.verify('alice', 'alice-password')).toBe(true);
    expect(await p.users.verify('alice', 'wrong-password')).toBe(false);
    expect(await p.users.verify('nobody', 'alice-password')).toBe(false);
    await expect(p.users.create('alice', 'another-password')).rejects.toThrow(/already exists/);
    await expect(p.users.create('bob', 'short')).rejects.toThrow(/password: must be at least 8/);
    const row = p.db.prepare("SELECT password_hash FROM users WHERE name = 'alice'").get() as { password_hash: string };
    expect(row.password_hash).not.toContain('alice-password');
    p.users.delete('alice');
    expect(p.users.exists('alice')).toBe(false);
  });

  it('sessions: only the SHA-256 is stored; expiry after 8 h; logout; API tokens outlive sessions', async () => {
    await p.users.create('alice', 'alice-password');
    const s = p.sessions.create('alice');
    expect(s.token).toMatch(/^vmcm_[A-Za-z0-9_-]{43}$/);
    const stored = p.db.prepare('SELECT token_hash FROM sessions').all() as Array<{ token_hash: string }>;
    expect(JSON.stringify(stored)).not.toContain(s.token.slice(5));
    expect(p.sessions.resolve(s.token)?.user).toBe('alice');
    const api = p.sessions.create('alice', { kind: 'apiToken', ttlMs: 30 * 86_400_000, label: 'prometheus' });
    clock.advance(8 * 3600_000 - 1);
    expect(p.sessions.resolve(s.token)?.user).toBe('alice');
    clock.advance(1);
    expect(p.sessions.resolve(s.token)).toBeUndefined();
    expect(p.sessions.resolve(api.token)).toMatchObject({ user: 'alice', kind: 'apiToken', label: 'prometheus' });
    p.sessions.revoke(api.token);
    expect(p.sessions.resolve(api.token)).toBeUndefined();
    expect(p.sessions.resolve('vmcm_' + 'A'.repeat(43))).toBeUndefined();
    expect(p.sessions.resolve('garbage')).toBeUndefined();
  });

  it('built-in roles: Administrator has all, No Cryptography Administrator no Cryptographer.*, Read-only System.Read', () => {
    const roles = Object.fromEntries(p.roles.list().map((r) => [r.name, new Set(r.privileges)]));
    const all = Object.values(Privilege);
    expect([...roles['Administrator']!].sort()).toEqual([...all].sort());
    const noCrypto = roles['No Cryptography Administrator']!;
    for (const priv of all) expect(noCrypto.has(priv), priv).toBe(!priv.startsWith('Cryptographer.'));
    expect([...roles['Read-only']!]).toEqual([Privilege.SYSTEM_READ]);
    expect(() => p.roles.delete('Administrator')).toThrow(/built-in roles cannot be deleted/);
    expect(() => p.roles.create('Bad', ['Cryptographer.Nope'])).toThrow(/unknown privilege/);
  });

  it('permissions inherit from a folder to its VMs; the nearest wins; propagate=false stays on the folder', async () => {
    p.accessControl.setAncestry(tree);
    await p.users.create('alice', 'alice-password');
    await p.users.create('bob', 'bob-password-1');
    const alice = { user: 'alice' };
    const bob = { user: 'bob' };
    p.roles.create('VM Operator', [Privilege.SYSTEM_READ, Privilege.VM_POWER_ON, Privilege.CRYPTO_DECRYPT]);

    p.permissions.set({ principal: 'alice', entity: folder, role: 'VM Operator', propagate: true });
    expect(p.access.has(alice, Privilege.CRYPTO_DECRYPT, vmA)).toBe(true);
    expect(p.access.has(alice, Privilege.CRYPTO_DECRYPT, vmB)).toBe(true);
    expect(p.access.has(alice, Privilege.CRYPTO_DECRYPT, ROOT)).toBe(false);
    // a closer permission overrides the inherited one entirely
    p.permissions.set({ principal: 'alice', entity: sub, role: 'Read-only', propagate: true });
    expect(p.access.has(alice, Privilege.CRYPTO_DECRYPT, vmB)).toBe(false);
    expect(p.access.has(alice, Privilege.SYSTEM_READ, vmB)).toBe(true);
    expect(() => p.access.check(alice, Privilege.CRYPTO_DECRYPT, vmB)).toThrow('user alice lacks privilege Cryptographer.Decrypt on vm vm-b');
    try {
      p.access.check(alice, Privilege.CRYPTO_DECRYPT, vmB);
    } catch (err) {
      expect((err as ManagerError).code).toBe('MANAGER_FORBIDDEN');
      expect((err as ManagerError).httpStatus).toBe(403);
    }

    p.permissions.set({ principal: 'bob', entity: folder, role: 'Administrator', propagate: false });
    expect(p.access.has(bob, Privilege.CRYPTO_ENCRYPT, folder)).toBe(true);
    expect(p.access.has(bob, Privilege.CRYPTO_ENCRYPT, vmA)).toBe(false);
    expect(p.access.has(bob, Privilege.CRYPTO_ENCRYPT, vmB)).toBe(false);
    // a global propagating role reaches below a non-propagating one
    p.permissions.set({ principal: 'bob', entity: ROOT, role: 'Read-only', propagate: true });
    expect(p.access.has(bob, Privilege.SYSTEM_READ, vmA)).toBe(true);
    expect(p.access.has(bob, Privilege.CRYPTO_ENCRYPT, vmA)).toBe(false);

    expect(() => p.roles.delete('VM Operator')).toThrow(/rule: a role in use cannot be deleted/);
    p.users.delete('alice');
    expect(p.permissions.list(folder).map((x) => x.principal)).toEqual(['bob']);
  });
});

describe('initial administrator', () => {
  it('first start: admin with a random password in DATA/initial-admin-password (0600), Administrator on the root; not again', async () => {
    const t = await tempDir();
    try {
      const dataDir = join(t.dir, 'data');
      const p = await createPlatform({ dataDir, log: pino({ level: 'silent' }) });
      const first = p.initialAdmin!;
      expect(first.user).toBe('admin');
      const file = join(dataDir, 'initial-admin-password');
      expect((await readFile(file, 'utf8')).trim()).toBe(first.generatedPassword);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
      expect(await p.users.verify('admin', first.generatedPassword!)).toBe(true);
      expect(p.accessControl.effectiveRole('admin', ROOT)).toBe('Administrator');
      p.close();
      const again = await createPlatform({ dataDir, log: pino({ level: 'silent' }) });
      expect(again.initialAdmin).toBeUndefined();
      again.close();
    } finally {
      await t.cleanup();
    }
  });
});
