import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeAtomically } from '../fs/atomic-file.js';
import { PkiError, PkiErrorCode } from './errors.js';
import { MAX_PEM_BYTES } from './parse.js';

/**
 * Writes a private key file with mode 0600 from the start (never world-readable for a
 * moment): temp file created 0600 in the same directory, fsync, atomic rename, directory
 * fsync. On any failure the temp file (which may hold part of the key) is removed.
 */
export async function writePrivateKeyFile(path: string, keyPem: string): Promise<void> {
  await writeAtomic(path, keyPem, 0o600);
}

/** Certificates are public: 0644. */
export async function writeCertificateFile(path: string, certPem: string): Promise<void> {
  await writeAtomic(path, certPem, 0o644);
}

/** Reads a PEM file, bounded; refuses a private key file readable by group or others. */
export async function readPemFile(path: string, opts: { privateKey?: boolean } = {}): Promise<string> {
  const st = await stat(path);
  if (st.size > MAX_PEM_BYTES) throw new PkiError(PkiErrorCode.BAD_PEM, `${path} is larger than ${MAX_PEM_BYTES} bytes`);
  if (opts.privateKey === true && (st.mode & 0o077) !== 0) {
    throw new PkiError(
      PkiErrorCode.INVALID_ARGUMENT,
      `${path} is accessible by group/others (mode ${(st.mode & 0o777).toString(8)}); run: chmod 600 ${path}`,
    );
  }
  return readFile(path, 'utf8');
}

async function writeAtomic(path: string, text: string, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // Temp file 0600 beside the target, fsync, rename, directory fsync; removed if anything fails.
  await writeAtomically(path, async (fh) => {
    await fh.writeFile(text, 'utf8');
    await fh.chmod(mode); // umask may have narrowed the mode; set it exactly before it is visible.
  });
}
