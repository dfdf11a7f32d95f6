import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { zero } from '../../crypto/guards.js';
import { DiskError } from '../errors.js';
import { withDiskLock } from '../lock.js';
import { openSource } from '../preflight.js';
import { unlock } from '../luks1/file.js';
import type { DiskProgress, InPlaceResult, NoticeFn, ProgressFn } from '../types.js';
import type { Deks, MasterKeys, StartInput, Started } from './context.js';
import { decodeMarker, type Marker } from './marker.js';
import { isMarker, type InPlaceOp } from './marker-record.js';
import { commitHeader, installMarker, readFront } from './front.js';
import { forwardWalk, materialBase, reverseWalk, walkStart, isBackward } from './geometry.js';
import { runShift, type Walk } from './shift.js';
import { WalkWorkers } from './walk-pool.js';
import { Sidecar, sidecarPathFor } from './sidecar.js';
import { finalize } from './finish.js';
import { undo } from './undo.js';
import { unfinishedInPlace, rerunCommand } from './messages.js';
import { startEncrypt } from './start-encrypt.js';
import { startDecrypt } from './start-decrypt.js';
import { growForRekey, startRekey } from './start-rekey.js';

const START: Record<InPlaceOp, (i: StartInput) => Promise<Started>> = { encrypt: startEncrypt, decrypt: startDecrypt, rekey: startRekey };

export interface InPlaceRun {
  readonly op: InPlaceOp;
  readonly path: string;
  readonly deks: Deks;
  readonly abort: boolean;
  readonly iterations: number;
  readonly onProgress?: ProgressFn | undefined;
  readonly onNotice?: NoticeFn | undefined;
}

/** The in-progress block, from the front, or from the staging copy while the front is not (yet) it. */
async function markerOf(fh: FileHandle, sc: Sidecar): Promise<Marker> {
  let block = await readFront(fh);
  if (!isMarker(block) && sc.state.staging > 0 && (await fh.stat()).size > sc.state.staging) block = await readFront(fh, sc.state.staging);
  const m = decodeMarker(block);
  if (m.opId !== sc.state.opId || m.op !== sc.state.op) {
    throw new DiskError('DISK_IN_PLACE_STATE', `${sidecarPathFor(sc.path)} belongs to another in-place operation than the one recorded in the disk`);
  }
  return m;
}

async function unlockKeys(fh: FileHandle, m: Marker, deks: Deks, keys: MasterKeys): Promise<MasterKeys> {
  const base = materialBase(m);
  if (keys.a === undefined && m.a !== undefined && deks.a !== undefined) keys.a = (await unlock(fh, m.a, deks.a, base)).mk;
  if (keys.b === undefined && m.b !== undefined && deks.b !== undefined) keys.b = (await unlock(fh, m.b, deks.b, base)).mk;
  return keys;
}

/** Brings a run interrupted before its data phase to a known state; true when it was wiped (start again). */
async function recoverStart(fh: FileHandle, sc: Sidecar, abort: boolean): Promise<boolean> {
  const s = sc.state;
  const front = await readFront(fh);
  const markerIn = isMarker(front) && decodeMarker(front).opId === s.opId;
  if (s.phase === 'prepare' && !(markerIn && s.op === 'rekey')) {
    // Only a new tail (and for decrypt the marker, whose phdr copy goes back) were written: undo them.
    await fh.truncate(s.origSize);
    await fh.sync();
    if (markerIn) await commitHeader(fh, decodeMarker(front).a!);
    await sc.remove();
    return true;
  }
  if (abort) {
    await sc.update({ phase: 'undo' });
    return false;
  }
  if (s.op === 'rekey') await growForRekey(fh, s);
  else if (!markerIn) await installMarker(fh, decodeMarker(await readFront(fh, s.staging)));
  await sc.update({ phase: 'data' });
  return false;
}

function progressOf(run: InPlaceRun, walk: Walk, aborting: boolean): ((boundary: number) => void) | undefined {
  if (run.onProgress === undefined) return undefined;
  const back = isBackward(walk);
  const total = walk.hi - walk.lo;
  const phase: DiskProgress['phase'] = aborting ? 'rollback' : run.op;
  return (boundary) =>
    run.onProgress?.({
      phase, totalBytes: total, doneBytes: back ? walk.hi - boundary : boundary - walk.lo, position: boundary, direction: back ? 'down' : 'up',
    });
}

async function dataPhase(run: InPlaceRun, fh: FileHandle, sc: Sidecar, keys: MasterKeys, workers: () => WalkWorkers): Promise<number> {
  const m = await markerOf(fh, sc);
  await unlockKeys(fh, m, run.deks, keys);
  const fwd = forwardWalk(m);
  if (run.abort && !sc.state.abort) {
    const rev = reverseWalk({ ...fwd, lo: sc.state.lo, hi: sc.state.hi }, sc.state.progress);
    await sc.update({ abort: true, lo: rev.lo, hi: rev.hi, progress: walkStart(rev) });
  }
  const aborting = sc.state.abort;
  const walk: Walk = { ...(aborting ? reverseWalk(fwd, 0) : fwd), lo: sc.state.lo, hi: sc.state.hi };
  const [srcKey, dstKey] = aborting ? [keys.b, keys.a] : [keys.a, keys.b];
  const report = progressOf(run, walk, aborting);
  const from = sc.state.progress;
  report?.(from);
  await runShift({
    ...walk, fh, workers: workers(), keys: { srcKey, dstKey }, from, sourceHoles: walk.op !== 'encrypt',
    persist: (boundary) => sc.updateSync({ progress: boundary }),
    ...(report === undefined ? {} : { onChunk: report }),
  });
  await sc.update({ phase: aborting ? 'undo' : 'finalize' });
  return isBackward(walk) ? from - walk.lo : walk.hi - from;
}

/** Runs (or resumes, or rolls back) one in-place operation under the disk lock. */
export async function runInPlace(run: InPlaceRun): Promise<InPlaceResult> {
  return withDiskLock(run.path, run.onNotice, async () => {
    const started = performance.now();
    const fh = await openSource(run.path, 'r+');
    const keys: MasterKeys = {};
    let sc: Sidecar | undefined;
    let resumed = false;
    // The walk's threads boot (no keys yet) while this thread unlocks keyslots and stages the start.
    let walkers: WalkWorkers | undefined;
    const workers = (): WalkWorkers => (walkers ??= WalkWorkers.borrow());
    try {
      sc = await Sidecar.open(run.path);
      if (sc === undefined || sc.state.phase !== 'finalize') workers();
      if (sc !== undefined) {
        if (sc.state.op !== run.op) throw unfinishedInPlace(sc.state.op);
        if (sc.state.abort && !run.abort) {
          throw new DiskError('DISK_IN_PLACE_UNFINISHED', `an --abort of the in-place ${sc.state.op} of ${run.path} was interrupted: run \`${rerunCommand(sc.state.op)} --abort\` again`);
        }
        resumed = true;
        run.onNotice?.(`${run.abort ? 'rolling back' : 'resuming'} the interrupted in-place ${sc.state.op} of ${run.path} (phase ${sc.state.phase})`);
        const prior = sc.state;
        if ((prior.phase === 'prepare' || prior.phase === 'staged') && (await recoverStart(fh, sc, run.abort))) {
          sc = undefined;
          if (run.abort) return { bytes: 0, holeBytes: 0, seconds: (performance.now() - started) / 1000, resumed, aborted: true, payloadOffsetBytes: prior.from };
        }
      } else {
        if (isMarker(await readFront(fh))) {
          throw new DiskError('DISK_IN_PLACE_STATE', `${run.path} is in the middle of an in-place operation but its progress file ${sidecarPathFor(run.path)} is missing: it cannot be resumed safely`);
        }
        if (run.abort) throw new DiskError('DISK_IN_PLACE_STATE', `nothing to abort: no interrupted in-place operation on ${run.path}`);
      }
      if (sc === undefined) {
        const s = await START[run.op]({ fh, path: run.path, opId: randomBytes(16).toString('hex'), deks: run.deks, iterations: run.iterations });
        sc = s.sc;
        Object.assign(keys, s.keys);
      }
      let bytes = 0;
      if (sc.state.phase === 'data') bytes = await dataPhase(run, fh, sc, keys, workers);
      if (sc.state.phase === 'finalize') {
        if (run.abort) throw new DiskError('DISK_IN_PLACE_STATE', `too late to abort: all data of ${run.path} is converted; rerun without --abort to finish`);
        await finalize(fh, sc.state);
      } else if (sc.state.phase === 'undo') {
        const m = sc.state;
        await undo(fh, m, async () => unlockKeys(fh, await markerOf(fh, sc!), run.deks, keys));
      }
      const aborted = sc.state.abort;
      const payloadOffsetBytes = aborted ? sc.state.from : sc.state.to;
      await sc.remove();
      sc = undefined;
      return { bytes, holeBytes: 0, seconds: (performance.now() - started) / 1000, resumed, aborted, payloadOffsetBytes };
    } finally {
      zero(keys.a, keys.b);
      await walkers?.release();
      await sc?.close().catch(() => undefined);
      await fh.close();
    }
  });
}
