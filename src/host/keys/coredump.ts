import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { tempPathFor } from '../../fs/atomic-file.js';
import { fsyncDir } from '../../fs/fsync-dir.js';
import { HostError } from '../errors.js';
import type { HostStore } from '../host-store.js';
import type { KeyCache } from './key-cache.js';
import { openSealedFile, readSealedHeader, SealedStreamWriter, type SealedHeader } from './sealed-stream.js';

/**
 * Agent core dumps (Node diagnostic report). In crypto-safe mode they are sealed with the
 * host key (a sealed stream, kind "coredump", header keyId = host key id) and only
 * `vmcrypt crypto-util coredump decrypt` with that key opens them. If the host key is not in
 * the cache (a restarted safe host before the manager pushed it) no dump is written: a clear
 * dump could hold key material. Other modes write a plain `.json` report.
 */
export const COREDUMP_DIR = 'coredumps';
export const SEALED_DUMP_SUFFIX = '.vmdump';

export interface CoreDumpInfo {
  readonly file: string;
  readonly location: string;
  readonly encrypted: boolean;
  readonly keyId?: string;
  readonly sizeBytes: number;
  readonly createdAt: string;
}

export function coreDumpDir(dataDir: string): string {
  return join(dataDir, COREDUMP_DIR);
}

export async function writeCoreDump(store: HostStore, cache: KeyCache, reason: string): Promise<CoreDumpInfo> {
  const dir = coreDumpDir(store.dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const report = Buffer.from(
    JSON.stringify({ reason, host: store.state.name, report: process.report?.getReport() ?? null }),
    'utf8',
  );
  try {
    const { cryptoMode, hostKeyId } = store.state;
    const base = `vmcrypt-host-${store.state.name}-${stamp}`;
    if (cryptoMode !== 'safe') {
      const file = join(dir, `${base}.json`);
      await writeFile(file, report, { mode: 0o600 });
      return info(file, false, undefined);
    }
    if (hostKeyId === undefined || !cache.has(hostKeyId)) {
      throw new HostError('HOST_COREDUMP_SUPPRESSED', `core dump suppressed: host is crypto-safe but host key ${hostKeyId ?? '?'} is not in the key cache`);
    }
    const file = join(dir, `${base}${SEALED_DUMP_SUFFIX}`);
    await cache.withAsync(hostKeyId, async (hostKey) => {
      const fh = await open(file, 'wx', 0o600);
      try {
        const w = await SealedStreamWriter.start(fh, hostKey, { kind: 'coredump', keyId: hostKeyId, host: store.state.name, reason, createdAt: new Date().toISOString() });
        await w.write(report);
        await w.finish();
        await fh.sync();
      } finally {
        await fh.close();
      }
    });
    return info(file, true, hostKeyId);
  } finally {
    report.fill(0);
  }
}

async function info(file: string, encrypted: boolean, keyId: string | undefined): Promise<CoreDumpInfo> {
  const st = await stat(file);
  return {
    file: basename(file), location: dirname(file), encrypted, sizeBytes: st.size, createdAt: st.mtime.toISOString(),
    ...(keyId === undefined ? {} : { keyId }),
  };
}

/** Every dump in DATA/coredumps (the agent reports them at start: "encrypted core dump exists"). */
export async function listCoreDumps(dataDir: string): Promise<CoreDumpInfo[]> {
  const dir = coreDumpDir(dataDir);
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: CoreDumpInfo[] = [];
  for (const name of names.sort()) {
    const path = join(dir, name);
    if (name.endsWith(SEALED_DUMP_SUFFIX)) {
      const h = await readSealedHeader(path).catch(() => undefined);
      out.push(await info(path, true, h?.header.keyId));
    } else if (name.endsWith('.json') && name.startsWith('vmcrypt-host-')) {
      out.push(await info(path, false, undefined));
    }
  }
  return out;
}

/** Decrypts a sealed dump into `outPath` (mode 0600, atomic). Wrong key: nothing written. */
export async function decryptCoreDump(path: string, key: Buffer, outPath: string): Promise<SealedHeader> {
  const tmp = tempPathFor(outPath);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    const header = await openSealedFile(path, key, async (plain) => {
      await fh.write(plain);
    });
    await fh.sync();
    await fh.close();
    await rename(tmp, outPath);
    await fsyncDir(dirname(outPath));
    return header;
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Re-seals a dump under a new key (new key id in the header), replacing the file atomically. */
export async function recryptCoreDump(path: string, oldKey: Buffer, newKey: Buffer, newKeyId: string): Promise<SealedHeader> {
  const { header } = await readSealedHeader(path);
  const tmp = tempPathFor(path);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    const newHeader: SealedHeader = { ...header, keyId: newKeyId, recryptedAt: new Date().toISOString() };
    const w = await SealedStreamWriter.start(fh, newKey, newHeader);
    try {
      await openSealedFile(path, oldKey, (plain) => w.write(plain));
      await w.finish();
    } catch (err) {
      w.abort();
      throw err;
    }
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
    await fsyncDir(dirname(path));
    return newHeader;
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Outcome of the last dump request, read by `vmcrypt host diagnostics` (no key material). */
export const DIAGNOSTICS_STATUS_FILE = 'diagnostics-status.json';

export interface DiagnosticsStatus {
  readonly at: string;
  readonly ok: boolean;
  readonly dump?: CoreDumpInfo;
  readonly code?: string;
  readonly message?: string;
}

export async function writeDiagnosticsStatus(dataDir: string, status: DiagnosticsStatus): Promise<void> {
  await mkdir(coreDumpDir(dataDir), { recursive: true, mode: 0o700 });
  await writeFile(join(coreDumpDir(dataDir), DIAGNOSTICS_STATUS_FILE), JSON.stringify(status), { mode: 0o600 });
}

export async function readDiagnosticsStatus(dataDir: string): Promise<DiagnosticsStatus | undefined> {
  try {
    const text = await readFile(join(coreDumpDir(dataDir), DIAGNOSTICS_STATUS_FILE), 'utf8');
    if (text.length > 65536) return undefined;
    const v = JSON.parse(text) as DiagnosticsStatus;
    return typeof v.at === 'string' && typeof v.ok === 'boolean' ? v : undefined;
  } catch {
    return undefined;
  }
}
