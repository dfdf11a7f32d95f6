import { readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeAtomically } from '../fs/atomic-file.js';
import { isGroupOrOtherAccessible, makePrivateDir, modeString, PRIVATE_FILE_MODE } from '../fs/private-files.js';
import { PkiError, PkiErrorCode } from './errors.js';
import { MAX_PEM_BYTES } from './parse.js';

/**
 * Writes a private key file with mode 0600 from the start (never world-readable for a
 * moment): temp file created 0600 in the same directory, fsync, atomic rename, directory
 * fsync. On any failure the temp file (which may hold part of the key) is removed.
 */
export async function writePrivateKeyFile(path: string, keyPem: string): Promise<void> {
  await writeAtomic(path, keyPem, PRIVATE_FILE_MODE);
}

/** Certificates are public: 0644. */
export async function writeCertificateFile(path: string, certPem: string): Promise<void> {
  await writeAtomic(path, certPem, 0o644);
}

/** Reads a PEM file, bounded; refuses a private key file readable by group or others. */
export async function readPemFile(path: string, opts: { privateKey?: boolean } = {}): Promise<string> {
  const st = await stat(path);
  if (st.size > MAX_PEM_BYTES) throw new PkiError(PkiErrorCode.BAD_PEM, `${path} is larger than ${MAX_PEM_BYTES} bytes`);
  if (opts.privateKey === true && isGroupOrOtherAccessible(st.mode)) {
    throw new PkiError(
      PkiErrorCode.INVALID_ARGUMENT,
      `${path} is accessible by group/others (mode ${modeString(st.mode)}); run: chmod 600 ${path}`,
    );
  }
  return readFile(path, 'utf8');
}

async function writeAtomic(path: string, text: string, mode: number): Promise<void> {
  await makePrivateDir(dirname(path));
  // Temp file 0600 beside the target, fsync, rename, directory fsync; removed if anything fails.
  await writeAtomically(path, async (fh) => {
    await fh.writeFile(text, 'utf8');
    await fh.chmod(mode); // umask may have narrowed the mode; set it exactly before it is visible.
  });
}
