import { open, readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { checkLine, GENESIS, type ChainState } from './audit-chain.js';

export interface AuditBreak {
  readonly file: string;
  /** 1-based line number in `file`. */
  readonly line: number;
  readonly seq?: number;
  readonly problem: 'edited' | 'removed-before' | 'reordered' | 'not-chained' | 'chain-start-missing';
  readonly message: string;
}

export interface AuditVerifyReport {
  readonly ok: boolean;
  readonly files: readonly string[];
  readonly lines: number;
  /** Lines written before the chain existed (older KMS), at the start of the first file. */
  readonly legacyLines: number;
  /** The last line's hash: record it elsewhere to catch a rewrite of the whole tail later. */
  readonly head: ChainState;
  readonly firstBreak?: AuditBreak;
}

/** `audit.log.1`, `audit.log.2`, … (rotated, oldest first) then `audit.log`. */
export async function auditFiles(path: string): Promise<string[]> {
  const base = basename(path);
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  const rotated = names
    .map((n) => ({ n, m: new RegExp(`^${base.replace(/\./g, '\\.')}\\.(\\d+)$`).exec(n) }))
    .filter((x) => x.m !== null)
    .sort((a, b) => Number(a.m![1]) - Number(b.m![1]))
    .map((x) => join(dirname(path), x.n));
  return names.includes(base) ? [...rotated, path] : rotated;
}

/** Walks every file of the log in order and names the first line that was edited, removed or reordered. */
export async function verifyAuditLog(path: string): Promise<AuditVerifyReport> {
  const files = await auditFiles(path);
  let state: ChainState = { seq: 0, hash: GENESIS };
  let lines = 0;
  let legacy = 0;
  let chained = false;
  let firstBreak: AuditBreak | undefined;
  outer: for (const file of files) {
    const text = await readFile(file, 'utf8');
    const all = text.split('\n');
    if (all[all.length - 1] === '') all.pop();
    for (const [i, line] of all.entries()) {
      const at = { file, line: i + 1 };
      const c = checkLine(line);
      if (c.kind === 'unchained') {
        if (!chained) {
          legacy++;
          continue;
        }
        firstBreak = { ...at, problem: 'not-chained', message: `${file}:${i + 1}: not a chained audit line (edited or inserted)` };
        break outer;
      }
      lines++;
      if (!c.selfOk) {
        firstBreak = { ...at, seq: c.seq, problem: 'edited', message: `${file}:${i + 1} (seq ${c.seq}): line edited (its hash does not match its content)` };
        break outer;
      }
      if (!chained && c.seq !== 1) {
        firstBreak = { ...at, seq: c.seq, problem: 'chain-start-missing', message: `${file}:${i + 1}: the log starts at seq ${c.seq}: lines 1..${c.seq - 1} (older rotated files) are missing` };
        break outer;
      }
      chained = true;
      if (c.seq !== state.seq + 1 || c.prev !== state.hash) {
        const problem = c.seq > state.seq + 1 ? 'removed-before' : 'reordered';
        const message =
          problem === 'removed-before'
            ? `${file}:${i + 1} (seq ${c.seq}): ${c.seq - state.seq - 1} line(s) removed or moved before this one (expected seq ${state.seq + 1})`
            : `${file}:${i + 1} (seq ${c.seq}): out of order or replaced (expected seq ${state.seq + 1} chaining to the previous line)`;
        firstBreak = { ...at, seq: c.seq, problem, message };
        break outer;
      }
      state = { seq: c.seq, hash: c.hash };
    }
  }
  return { ok: firstBreak === undefined, files, lines, legacyLines: legacy, head: state, ...(firstBreak === undefined ? {} : { firstBreak }) };
}

const TAIL_BYTES = 256 * 1024;

/** The last TAIL_BYTES of a file as text (lines are far shorter: the last whole line is in there). */
async function tail(file: string): Promise<string> {
  const fh = await open(file, 'r').catch(() => undefined);
  if (fh === undefined) return '';
  try {
    const { size } = await fh.stat();
    const len = Math.min(size, TAIL_BYTES);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    return buf.toString('utf8');
  } finally {
    await fh.close();
  }
}

/** The chain state after the last chained line of the newest file (for appending after a restart). */
export async function lastChainState(files: readonly string[]): Promise<ChainState | undefined> {
  for (const file of [...files].reverse()) {
    const text = await tail(file);
    const all = text.split('\n').filter((l) => l.length > 0);
    for (const line of all.reverse()) {
      const c = checkLine(line);
      if (c.kind === 'chained') return { seq: c.seq, hash: c.hash };
    }
  }
  return undefined;
}
