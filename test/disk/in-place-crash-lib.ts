// kill -9 checks for in-place operations, shared by test/disk/in-place-crash.test.ts and
// scripts/crash-loop-disk-inplace.ts. After every kill the file must be either not openable as a
// disk at all (the in-progress marker), or hold exactly the original data; a rerun always finishes.
import { spawn, execFile } from 'node:child_process';
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { vmcryptArgv } from '../helpers/cli.js';
import { encryptDisk } from '../../src/disk/index.js';
import { sidecarPathFor } from '../../src/disk/inplace/sidecar.js';
import { sha256File, type KeyPair } from './helpers.js';

export type CrashOp = 'encrypt' | 'decrypt' | 'rekey';

/**
 * The command line the kills hit: the vmcrypt CLI (default), or a lighter runner taking the same
 * `disk …` arguments (the long loop's own child mode: it loads src/disk only, so a round spends
 * its time in the operation rather than in starting the whole CLI under tsx).
 */
let runner: string[] | undefined;
export function useRunner(argv: string[] | undefined): void {
  runner = argv;
}

/**
 * Runs the CLI and SIGKILLs it `ms` after the operation began (its sidecar appeared; the CLI's
 * own start-up, seconds under tsx on a loaded machine, does not count), or lets it finish first.
 */
export function runAndKill(args: string[], ms: number, sidecar?: string): Promise<{ killed: boolean; code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...(runner ?? vmcryptArgv()), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let t: NodeJS.Timeout | undefined;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      // A resumed run: its sidecar was there before it started; it says so once it holds the lock.
      if (t === undefined && sidecar !== undefined && /resuming|rolling back/.test(stderr)) arm();
    });
    const arm = (): void => {
      t = setTimeout(() => child.kill('SIGKILL'), ms);
    };
    const existed = sidecar !== undefined && existsSync(sidecar);
    const poll = sidecar === undefined || existed ? undefined : setInterval(() => {
      if (t === undefined && existsSync(sidecar)) {
        clearInterval(poll);
        arm();
      }
    }, 5);
    if (sidecar === undefined) arm();
    child.on('exit', (code, signal) => {
      clearTimeout(t);
      clearInterval(poll);
      resolve({ killed: signal === 'SIGKILL', code, stderr });
    });
  });
}

/** qemu-img compare exit code of the file opened as LUKS with `key` against raw: 0 same, 1 differs, 2 cannot open. */
export function qemuCompare(file: string, key: KeyPair, raw: string): Promise<number> {
  return new Promise((resolve) => {
    execFile('qemu-img', ['compare', '--object', `secret,id=s0,file=${key.secret}`, '--image-opts', `driver=luks,key-secret=s0,file.filename=${file}`, `driver=raw,file.filename=${raw}`],
      (err) => resolve(err === null ? 0 : typeof err.code === 'number' ? err.code : 2));
  });
}

export interface CrashCase {
  readonly op: CrashOp;
  readonly file: string;
  readonly raw: string;
  readonly rawSum: string;
  readonly k1: KeyPair;
  readonly k2: KeyPair;
}

export async function prepareCase(c: CrashCase): Promise<void> {
  rmSync(c.file, { force: true });
  rmSync(sidecarPathFor(c.file), { force: true });
  if (c.op === 'encrypt') copyFileSync(c.raw, c.file);
  else await encryptDisk({ src: c.raw, dst: c.file, dek: c.k1.dek });
}

export function commandOf(c: CrashCase): string[] {
  if (c.op === 'rekey') return ['disk', 'rekey', c.file, '--key-file', c.k1.file, '--new-key-file', c.k2.file, '--deep', '--in-place'];
  return ['disk', c.op, c.file, '--in-place', '--key-file', c.k1.file];
}

/** Never garbage: any key that opens the file as LUKS sees the original data; a raw-looking finished file is the original. */
export async function checkNoGarbage(c: CrashCase): Promise<string> {
  const states: string[] = [];
  for (const k of [c.k1, c.k2]) {
    const r = await qemuCompare(c.file, k, c.raw);
    if (r === 1) throw new Error(`${c.op}: the file opens as LUKS with ${k === c.k1 ? 'k1' : 'k2'} and holds other data`);
    if (r === 0) states.push(`luks(${k === c.k1 ? 'k1' : 'k2'})`);
  }
  if (states.length === 0) states.push(sha256File(c.file) === c.rawSum ? 'raw=original' : existsSync(sidecarPathFor(c.file)) ? 'unfinished' : 'raw?');
  if (states[0] === 'raw?') throw new Error(`${c.op}: no sidecar, not LUKS, and not the original raw data`);
  return states.join(',');
}

/** The finished state: encrypt/rekey open with the new key and compare equal; decrypt is byte-identical. */
export async function checkFinished(c: CrashCase): Promise<void> {
  if (existsSync(sidecarPathFor(c.file))) throw new Error(`${c.op}: sidecar left after a finished run`);
  if (c.op === 'decrypt') {
    if (sha256File(c.file) !== c.rawSum) throw new Error('decrypt: result differs from the original');
  } else if ((await qemuCompare(c.file, c.op === 'rekey' ? c.k2 : c.k1, c.raw)) !== 0) {
    throw new Error(`${c.op}: result does not compare equal with the original`);
  }
}

/** One round: `kills` random kill -9s, each followed by the no-garbage check, then a rerun to the end. */
export async function crashRound(c: CrashCase, kills: number, maxMs: number): Promise<string[]> {
  await prepareCase(c);
  const log: string[] = [];
  for (let i = 0; i < kills; i++) {
    const ms = Math.floor(Math.random() * maxMs);
    const r = await runAndKill(commandOf(c), ms, sidecarPathFor(c.file));
    log.push(`kill@+${ms}ms ${r.killed ? 'killed' : `exit ${r.code}`} → ${await checkNoGarbage(c)}`);
    if (!r.killed && r.code !== 0) throw new Error(`${c.op}: run failed: ${r.stderr}`);
    // Killed after it finished (sidecar gone, result complete) but before it exited: a rerun
    // would start another operation (and rightly fail: wrong key, already LUKS, not LUKS).
    if (!r.killed || (!existsSync(sidecarPathFor(c.file)) && (await checkFinished(c).then(() => true, () => false)))) break;
  }
  // A rerun resumes an interrupted run; a run never started (no sidecar, original data) starts; a finished one is left alone.
  const finished = !existsSync(sidecarPathFor(c.file)) && (await checkFinished(c).then(() => true, () => false));
  if (!finished) {
    const done = await runAndKill(commandOf(c), 300_000);
    if (done.code !== 0) throw new Error(`${c.op}: rerun failed (${done.code}): ${done.stderr}`);
    log.push(`rerun ${/resuming/.test(done.stderr) ? 'resumed' : 'started afresh'}`);
  } else {
    log.push('finished before the kill');
  }
  await checkFinished(c);
  return log;
}
