import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { chmod, mkdir, open, writeFile, type FileHandle } from 'node:fs/promises';

/**
 * Files and directories only this user may touch: key material, tokens, pid files, sockets and
 * FIFOs that carry secrets. The mode is given at creation (never loose for a moment); umask can
 * only narrow it further.
 */
export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

/**
 * Creates `dir` (parents too, unless `exclusive`) with mode 0700. `exclusive`: fail with EEXIST
 * if it exists (the caller owns what it creates). `tighten`: also chmod 0700 a directory that
 * already existed (a data dir the user made by hand).
 */
export async function makePrivateDir(dir: string, opts: { exclusive?: boolean; tighten?: boolean } = {}): Promise<void> {
  await mkdir(dir, { recursive: opts.exclusive !== true, mode: PRIVATE_DIR_MODE });
  if (opts.tighten === true) await chmod(dir, PRIVATE_DIR_MODE);
}

/**
 * makePrivateDir for code that runs before anything async may (opening the database, reading
 * a secret in a constructor).
 */
export function makePrivateDirSync(dir: string, opts: { exclusive?: boolean; tighten?: boolean } = {}): void {
  mkdirSync(dir, { recursive: opts.exclusive !== true, mode: PRIVATE_DIR_MODE });
  if (opts.tighten === true) chmodSync(dir, PRIVATE_DIR_MODE);
}

/** Opens (creating with mode 0600) `path` with fs `flags`; returns the descriptor. */
export function openPrivateFileSync(path: string, flags: string | number): number {
  return openSync(path, flags, PRIVATE_FILE_MODE);
}

/**
 * Makes `path` exist with mode 0600 before another library opens it with its own mode (SQLite,
 * whose -wal and -shm files copy the main file's mode): created empty if absent, tightened if not.
 */
export function preparePrivateFileSync(path: string): void {
  closeSync(openPrivateFileSync(path, 'a'));
  chmodSync(path, PRIVATE_FILE_MODE);
}

/** Opens (creating with mode 0600) `path` with fs `flags`: 'wx' for a new file, 'a' to append. */
export async function openPrivateFile(path: string, flags: string | number): Promise<FileHandle> {
  return open(path, flags, PRIVATE_FILE_MODE);
}

/** Writes `data` to `path`, created with mode 0600 (`exclusive`: fail if it exists). Not atomic: see writeAtomically. */
export async function writePrivateFile(path: string, data: string | Uint8Array, opts: { exclusive?: boolean } = {}): Promise<void> {
  await writeFile(path, data, { mode: PRIVATE_FILE_MODE, flag: opts.exclusive === true ? 'wx' : 'w' });
}

/** Permission bits as `ls` would print them in octal: "644". */
export function modeString(mode: number): string {
  return (mode & 0o777).toString(8);
}

/** Does `mode` give group or others any access? */
export function isGroupOrOtherAccessible(mode: number): boolean {
  return (mode & 0o077) !== 0;
}

