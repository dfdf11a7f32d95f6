import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KmsError } from '../../../src/kms/errors.js';
import { createMasterKeyFile, loadMasterKey } from '../../../src/kms/master-key.js';
import { KeySealer } from '../../../src/kms/key-material-seal.js';
import { openSqliteStore } from '../../../src/kms/store/sqlite.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmcrypt-sqlite-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return err instanceof KmsError ? err.code : String(err);
  }
};

describe('SQLite KeyStore', () => {
  it('leaves no copy of removed sealed material in any database file, while running', async () => {
    const s = await openSqliteStore({ path: join(dir, 'kms.db') });
    const blobs = Array.from({ length: 5 }, () => randomBytes(61));
    const kept = randomBytes(61);
    const ids = await Promise.all(blobs.map(async (b) => (await s.insert({ id: s.newId(), owner: 'o', attributes: '[]', sealedKey: b })).id));
    await s.insert({ id: s.newId(), owner: 'o', attributes: '[]', sealedKey: kept });
    for (const id of ids) await s.update(id, 1, { attributes: '["destroyed"]', sealedKey: null });
    const files = await readdir(dir);
    const found = async (b: Buffer): Promise<string[]> => {
      const hits: string[] = [];
      for (const f of files) if ((await readFile(join(dir, f))).includes(b)) hits.push(f);
      return hits;
    };
    for (const b of blobs) expect(await found(b)).toEqual([]);
    expect((await found(kept)).length).toBeGreaterThan(0); // the scan does see live blobs
    await s.close();
  });

  it('inserts, reads, updates with compare-and-set, and lists by owner', async () => {
    const s = await openSqliteStore({ path: join(dir, 'kms.db') });
    const a = await s.insert({ id: s.newId(), owner: 'alice', attributes: '[]', sealedKey: Buffer.from([1]) });
    expect(a.version).toBe(1);
    await s.insert({ id: s.newId(), owner: 'bob', attributes: '[]', sealedKey: null });
    expect(await codeOf(s.insert({ id: a.id, owner: 'bob', attributes: '[]', sealedKey: null }))).toBe('STORE_ID_EXISTS');
    const a2 = await s.update(a.id, 1, { attributes: '["x"]', sealedKey: null });
    expect(a2).toMatchObject({ version: 2, attributes: '["x"]', sealedKey: null, owner: 'alice' });
    expect(await codeOf(s.update(a.id, 1, { attributes: '[]', sealedKey: null }))).toBe('STORE_CONFLICT');
    expect(await codeOf(s.update('missing', 1, { attributes: '[]', sealedKey: null }))).toBe('STORE_NOT_FOUND');
    expect((await s.list({ owner: 'alice' })).map((r) => r.id)).toEqual([a.id]);
    expect(await s.list()).toHaveLength(2);
    await s.close();
    expect(await codeOf(s.get(a.id))).toBe('STORE_UNAVAILABLE');
  });

  it('commits concurrent writes as one group; one conflict does not fail the others', async () => {
    const path = join(dir, 'kms.db');
    const s = await openSqliteStore({ path });
    const base = await s.insert({ id: 'shared', owner: 'o', attributes: '[]', sealedKey: null });
    const writes = [
      ...Array.from({ length: 50 }, () => s.insert({ id: s.newId(), owner: 'o', attributes: '[]', sealedKey: null })),
      s.update(base.id, 1, { attributes: '["first"]', sealedKey: null }),
      s.update(base.id, 1, { attributes: '["second"]', sealedKey: null }),
    ];
    const results = await Promise.allSettled(writes);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(51);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect((rejected.reason as KmsError).code).toBe('STORE_CONFLICT');
    expect((await s.get('shared'))?.attributes).toBe('["first"]');
    await s.close();
    // Durable: a new handle sees everything; WAL mode and synchronous=FULL are set.
    const again = await openSqliteStore({ path });
    expect(await again.list()).toHaveLength(51);
    await again.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });
});

describe('master key and sealing', () => {
  it('creates a 0600 master key, refuses permissive or short files', async () => {
    const p = join(dir, 'master.key');
    await createMasterKeyFile(p);
    expect((await loadMasterKey(p)).length).toBe(32);
    expect(await codeOf(createMasterKeyFile(p))).not.toBe('resolved');
    await chmod(p, 0o644);
    expect(await codeOf(loadMasterKey(p))).toBe('MASTER_KEY_INVALID');
    const short = join(dir, 'short.key');
    await writeFile(short, Buffer.alloc(16), { mode: 0o600 });
    expect(await codeOf(loadMasterKey(short))).toBe('MASTER_KEY_INVALID');
  });

  it('seals with AES-256-GCM bound to the object id', () => {
    const sealer = new KeySealer(randomBytes(32));
    const key = randomBytes(32);
    const sealed = sealer.seal('id-1', key);
    expect(sealed.includes(key)).toBe(false);
    expect(sealer.unseal('id-1', sealed).equals(key)).toBe(true);
    expect(() => sealer.unseal('id-2', sealed)).toThrow(/authentication/);
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 1]! ^= 1;
    expect(() => sealer.unseal('id-1', tampered)).toThrow(KmsError);
    const other = new KeySealer(randomBytes(32));
    expect(() => other.unseal('id-1', sealed)).toThrow(KmsError);
    sealer.destroy();
  });
});
