import { execFile } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openFileAuditLog, type AuditEntry } from '../../../src/kms/audit.js';
import { auditFiles, verifyAuditLog } from '../../../src/kms/audit/audit-verify.js';
import { repoRoot, vmcryptArgv } from '../../helpers/cli.js';

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmcrypt-audit-chain-'));
  path = join(dir, 'audit.log');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const entry = (i: number): AuditEntry => ({ time: new Date(0).toISOString(), identity: 'alice', operation: 'Get', objectId: `id-${i}`, result: 'success' });

async function write(n: number, maxBytes?: number): Promise<void> {
  const log = await openFileAuditLog(path, maxBytes === undefined ? {} : { maxBytes });
  for (let i = 0; i < n; i++) {
    log.record(entry(i));
    if (i % 5 === 4) await log.flush(); // rotation happens between flushes
  }
  await log.close();
}
const linesOf = async (f: string) => (await readFile(f, 'utf8')).trimEnd().split('\n');
const putLines = (f: string, lines: string[]) => writeFile(f, lines.join('\n') + '\n');

describe('tamper-evident audit log (hash chain)', () => {
  it('an intact log verifies across restarts and rotated files; the head is the last line', async () => {
    await write(12, 600);
    await write(8, 600); // reopened: the chain continues from the last line
    const files = await auditFiles(path);
    expect(files.length).toBeGreaterThan(2);
    const r = await verifyAuditLog(path);
    expect(r).toMatchObject({ ok: true, lines: 20, legacyLines: 0, head: { seq: 20 } });
    const last = JSON.parse((await linesOf(path)).at(-1)!) as { hash: string };
    expect(r.head.hash).toBe(last.hash);
  });

  it('names the first edited line, even the last one', async () => {
    await write(10);
    const lines = await linesOf(path);
    lines[3] = lines[3]!.replace('"alice"', '"mallory"');
    await putLines(path, lines);
    expect((await verifyAuditLog(path)).firstBreak).toMatchObject({ line: 4, seq: 4, problem: 'edited' });
    const fresh = await linesOf(path);
    fresh[3] = fresh[3]!.replace('"mallory"', '"alice"');
    fresh[9] = fresh[9]!.replace('"success"', '"failure"');
    await putLines(path, fresh);
    expect((await verifyAuditLog(path)).firstBreak).toMatchObject({ line: 10, problem: 'edited' });
  });

  it('names a removed line and a reordered pair', async () => {
    await write(10);
    const lines = await linesOf(path);
    await putLines(path, [...lines.slice(0, 4), ...lines.slice(5)]);
    expect((await verifyAuditLog(path)).firstBreak).toMatchObject({ line: 5, seq: 6, problem: 'removed-before' });
    await putLines(path, [...lines.slice(0, 2), lines[3]!, lines[2]!, ...lines.slice(4)]);
    expect((await verifyAuditLog(path)).firstBreak).toMatchObject({ line: 3, seq: 4, problem: 'removed-before' });
    await putLines(path, [...lines.slice(0, 2), lines[1]!, ...lines.slice(2)]); // a line replayed
    expect((await verifyAuditLog(path)).firstBreak).toMatchObject({ line: 3, problem: 'reordered' });
  });

  it('names a removed rotated file and a line inserted by hand', async () => {
    await write(20, 600);
    const files = await auditFiles(path);
    await appendFile(path, '{"time":"x","identity":"mallory","operation":"Get","result":"success"}\n');
    expect((await verifyAuditLog(path)).firstBreak).toMatchObject({ file: path, problem: 'not-chained' });
    await unlink(files[1]!);
    expect((await verifyAuditLog(path)).firstBreak).toMatchObject({ file: files[2], line: 1, problem: 'removed-before' });
    await unlink(files[0]!);
    expect((await verifyAuditLog(path)).firstBreak).toMatchObject({ problem: 'chain-start-missing' });
  });

  it('a log written before the chain existed: older lines counted, the chain starts after them', async () => {
    await writeFile(path, '{"time":"t","identity":"a","operation":"Get","result":"success"}\n'.repeat(3));
    await write(4);
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, legacyLines: 3, lines: 4 });
  });

  it('vmcrypt kms audit verify: exit 0 intact, 1 with the first broken line named', async () => {
    const data = join(dir, 'kms');
    path = join(data, 'audit.log');
    await import('node:fs/promises').then((fs) => fs.mkdir(data));
    await write(6);
    const run = promisify(execFile);
    const ok = await run(process.execPath, [...vmcryptArgv(), 'kms', 'audit', 'verify', '--data', data], { cwd: repoRoot });
    expect(ok.stdout).toContain('audit log intact: 6 chained lines');
    const lines = await linesOf(path);
    lines[1] = lines[1]!.replace('id-1', 'id-X');
    await putLines(path, lines);
    const bad = await run(process.execPath, [...vmcryptArgv(), 'kms', 'audit', 'verify', '--data', data], { cwd: repoRoot }).catch((e: { code: number; stdout: string }) => e);
    expect(bad).toMatchObject({ code: 1, stdout: expect.stringContaining('audit.log:2 (seq 2): line edited') });
  });
});
