import { readFile, stat } from 'node:fs/promises';
import { writeAtomically } from '../../fs/atomic-file.js';
import type { KmsPaths } from '../data-dir.js';
import { KmsError } from '../errors.js';
import type { RecordMac } from '../integrity/record-mac.js';
import type { KeySealer } from '../key-material-seal.js';
import type { KeyStore } from '../store/types.js';
import { openCaKey, sealCaKey } from '../unseal/ca-key.js';
import { newKey, openMaster, openNextMaster, readSealedMaster, sealedMasterText } from '../unseal/sealed-master.js';

export interface RotationProgress {
  readonly state: 'idle' | 'running' | 'done' | 'failed';
  readonly done: number;
  readonly total: number;
  readonly error?: string;
}

export interface RotationContext {
  readonly paths: KmsPaths;
  readonly store: KeyStore;
  readonly sealer: KeySealer;
  readonly recordMac: RecordMac;
  readonly onProgress: (p: RotationProgress) => void;
}

async function writeFileAtomically(path: string, data: string): Promise<void> {
  await writeAtomically(path, async (fh) => {
    await fh.writeFile(data);
  });
}

/**
 * Online master-key rotation, crash-safe at every step (kill -9 anywhere leaves every key
 * readable):
 *  1. master.sealed is rewritten (atomically) to hold the old key AND the new one ("next"): from
 *     here a restart unseals both, seals and tags under the new one, reads under either;
 *  2. every record is re-sealed and re-tagged under the new key (compare-and-set; Creates that
 *     arrive meanwhile already use the new key), with progress;
 *  3. the CA key is re-sealed; an etcd store records the new key's id;
 *  4. master.sealed is rewritten to hold only the new key; the old one is forgotten.
 * Running it again after a crash resumes with the recorded new key.
 */
export async function rotateMasterKey(ctx: RotationContext, unsealKey: Buffer): Promise<void> {
  const info = await readSealedMaster(ctx.paths.masterSealed);
  const old = openMaster(info, unsealKey); // UNSEAL_FAILED if these shares are not this KMS's
  const resumed = openNextMaster(info, unsealKey);
  const next = resumed ?? newKey();
  try {
    if (resumed === undefined) {
      await writeFileAtomically(ctx.paths.masterSealed, sealedMasterText(old, unsealKey, info.shares, info.threshold, next));
      ctx.sealer.rotateTo(next);
      ctx.recordMac.rotateTo(next);
    }
    const ids = (await ctx.store.list()).map((r) => r.id);
    let done = 0;
    ctx.onProgress({ state: 'running', done, total: ids.length });
    for (const id of ids) {
      await resealOne(ctx, id);
      done++;
      if (done % 50 === 0 || done === ids.length) ctx.onProgress({ state: 'running', done, total: ids.length });
    }
    if (await stat(ctx.paths.caKeySealed).then(() => true, () => false)) {
      const box = Buffer.from((await readFile(ctx.paths.caKeySealed, 'latin1')).trim(), 'base64');
      let pem: string;
      try {
        pem = openCaKey(old, box);
      } catch {
        pem = openCaKey(next, box); // re-sealed already by an earlier, interrupted run
      }
      await writeFileAtomically(ctx.paths.caKeySealed, sealCaKey(next, pem).toString('base64') + '\n');
    }
    if (ctx.store.kind === 'etcd') {
      const { masterKeyIdOf } = await import('../store/etcd-master-key-id.js');
      await ctx.store.writeMeta('master-key-id', masterKeyIdOf(next));
    }
    await writeFileAtomically(ctx.paths.masterSealed, sealedMasterText(next, unsealKey, info.shares, info.threshold));
    ctx.sealer.retire();
    ctx.recordMac.retire();
    ctx.onProgress({ state: 'done', done: ids.length, total: ids.length });
  } finally {
    old.fill(0);
    next.fill(0);
  }
}

/** Re-seals one record's key material and re-tags it under the current (new) key. */
async function resealOne(ctx: RotationContext, id: string): Promise<void> {
  for (let attempt = 0; attempt < 64; attempt++) {
    const rec = await ctx.store.get(id);
    if (rec === undefined) return;
    let sealedKey: Buffer | null = null;
    if (rec.sealedKey !== null) {
      const clear = ctx.sealer.unseal(id, rec.sealedKey);
      try {
        sealedKey = ctx.sealer.seal(id, clear);
      } finally {
        clear.fill(0);
      }
    }
    try {
      await ctx.store.update(id, rec.version, { attributes: rec.attributes, sealedKey });
      return;
    } catch (err) {
      if (err instanceof KmsError && err.code === 'STORE_CONFLICT') continue; // a client changed it: redo
      throw err;
    }
  }
  throw new KmsError('STORE_CONFLICT', `record ${id} kept changing during the rotation`);
}
