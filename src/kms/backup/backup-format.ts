import { createHash } from 'node:crypto';
import { KmsError } from '../errors.js';
import type { KeyRecord } from '../store/types.js';

/**
 * A KMS backup: JSON lines, every secret still sealed.
 *   {"type":"header","format":"vmcrypt-kms-backup-v1","time":…,"serverVersion":…,"store":"sqlite"}
 *   {"type":"file","path":"master.sealed","data":"<base64>"}      (data-dir files: no clear secret)
 *   {"type":"record","id":…,"owner":…,"version":n,"attributes":"<stored, tagged>","sealedKey":"<base64>"|null}
 *   {"type":"manifest","count":n,"digest":"<sha256 of every line above, newline included>",…}
 * The manifest comes last, so a truncated file has none; its digest catches any changed byte.
 */
export const BACKUP_FORMAT = 'vmcrypt-kms-backup-v1';
export const SERVER_VERSION = '0.1.0';
/** Files of the data dir a restore needs; public or sealed only (never a clear private key). */
export const BACKUP_FILES = ['master.sealed', 'pki/ca.crt', 'pki/ca.key.sealed'] as const;

export interface BackupManifest {
  readonly count: number;
  readonly digest: string;
  readonly serverVersion: string;
  readonly time: string;
  readonly store: string;
  readonly files: number;
}

export interface ParsedBackup {
  readonly manifest: BackupManifest;
  readonly files: ReadonlyMap<string, Buffer>;
  readonly records: readonly KeyRecord[];
}

const MAX_LINE = 2 * 1024 * 1024;
export const MAX_BACKUP_BYTES = 4 * 1024 * 1024 * 1024;

export class BackupWriter {
  readonly #hash = createHash('sha256');
  readonly #write: (line: string) => Promise<void>;
  #count = 0;
  #files = 0;

  constructor(write: (line: string) => Promise<void>) {
    this.#write = write;
  }

  async #line(v: object): Promise<void> {
    const text = JSON.stringify(v) + '\n';
    this.#hash.update(text, 'utf8');
    await this.#write(text);
  }

  header(time: string, store: string): Promise<void> {
    return this.#line({ type: 'header', format: BACKUP_FORMAT, time, serverVersion: SERVER_VERSION, store });
  }

  file(path: string, data: Buffer): Promise<void> {
    this.#files++;
    return this.#line({ type: 'file', path, data: data.toString('base64') });
  }

  record(r: KeyRecord): Promise<void> {
    this.#count++;
    return this.#line({ type: 'record', id: r.id, owner: r.owner, version: r.version, attributes: r.attributes, sealedKey: r.sealedKey === null ? null : r.sealedKey.toString('base64') });
  }

  async finish(time: string, store: string): Promise<BackupManifest> {
    const manifest: BackupManifest = { count: this.#count, digest: this.#hash.digest('hex'), serverVersion: SERVER_VERSION, time, store, files: this.#files };
    await this.#write(JSON.stringify({ type: 'manifest', ...manifest }) + '\n');
    return manifest;
  }
}

const invalid = (why: string) => new KmsError('BACKUP_INVALID', `backup is invalid: ${why}; nothing was changed`);

/** Parses and checks a whole backup (format, digest, count, every field) before anything uses it. */
export function parseBackup(bytes: Buffer): ParsedBackup {
  if (bytes.length > MAX_BACKUP_BYTES) throw invalid('too large');
  const text = bytes.toString('utf8');
  if (!text.endsWith('\n')) throw invalid('truncated (no final newline)');
  const lines = text.slice(0, -1).split('\n');
  const last = lines.pop();
  if (last === undefined || lines.length === 0) throw invalid('empty');
  const json = (line: string, n: number): Record<string, unknown> => {
    if (line.length > MAX_LINE) throw invalid(`line ${n} too long`);
    try {
      const v = JSON.parse(line) as unknown;
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
      return v as Record<string, unknown>;
    } catch {
      throw invalid(`line ${n} is not JSON`);
    }
  };
  const m = json(last, lines.length + 1);
  if (m['type'] !== 'manifest') throw invalid('truncated (no manifest at the end)');
  const hash = createHash('sha256');
  for (const l of lines) hash.update(l + '\n', 'utf8');
  if (hash.digest('hex') !== m['digest']) throw invalid('digest mismatch (corrupted or edited)');
  const head = json(lines[0]!, 1);
  if (head['type'] !== 'header' || head['format'] !== BACKUP_FORMAT) throw invalid(`not a ${BACKUP_FORMAT} file`);
  const files = new Map<string, Buffer>();
  const records: KeyRecord[] = [];
  const ids = new Set<string>();
  lines.slice(1).forEach((line, i) => {
    const v = json(line, i + 2);
    if (v['type'] === 'file') {
      const path = v['path'];
      if (typeof path !== 'string' || !(BACKUP_FILES as readonly string[]).includes(path) || typeof v['data'] !== 'string') throw invalid(`line ${i + 2}: bad file entry`);
      files.set(path, Buffer.from(v['data'], 'base64'));
    } else if (v['type'] === 'record') {
      const { id, owner, version, attributes, sealedKey } = v;
      if (typeof id !== 'string' || id.length === 0 || id.length > 256 || typeof owner !== 'string' || typeof attributes !== 'string') throw invalid(`line ${i + 2}: bad record`);
      if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1 || (sealedKey !== null && typeof sealedKey !== 'string')) throw invalid(`line ${i + 2}: bad record`);
      if (ids.has(id)) throw invalid(`line ${i + 2}: record ${id} appears twice`);
      ids.add(id);
      records.push({ id, owner, version, attributes, sealedKey: sealedKey === null ? null : Buffer.from(sealedKey, 'base64') });
    } else throw invalid(`line ${i + 2}: unknown entry`);
  });
  if (m['count'] !== records.length) throw invalid(`manifest says ${String(m['count'])} records, the file holds ${records.length}`);
  for (const f of BACKUP_FILES) if (!files.has(f)) throw invalid(`${f} is missing`);
  const manifest: BackupManifest = {
    count: records.length,
    digest: String(m['digest']),
    serverVersion: String(m['serverVersion']),
    time: String(m['time']),
    store: String(m['store']),
    files: files.size,
  };
  return { manifest, files, records };
}
