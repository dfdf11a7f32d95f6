import { randomBytes, randomUUID } from 'node:crypto';
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeVmLog, VmLog } from '../../../src/host/vm-files/vm-log.js';
import { tempDir } from '../harness.js';

/** Splits an encrypted log into its records (u32 BE length ‖ envelope). */
function records(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let pos = 0; pos < data.length; ) {
    const len = data.readUInt32BE(pos);
    out.push(data.subarray(pos, pos + 4 + len));
    pos += 4 + len;
  }
  return out;
}

describe('encrypted VM log', () => {
  let dir: { path: string; remove(): Promise<void> };
  let path: string;
  const uuid = randomUUID();
  const dek = randomBytes(32);

  beforeEach(async () => {
    dir = await tempDir('vmcrypt-vm-log-');
    path = join(dir.path, 'vm.log');
  });
  afterEach(async () => {
    await dir.remove();
  });

  const write = async (...lines: string[]): Promise<void> => {
    const log = await VmLog.open(path, uuid, dek);
    for (const l of lines) await log.append(l);
    await log.close();
  };
  const texts = async (): Promise<string[]> => decodeVmLog(await readFile(path), uuid, dek).map((l) => l.slice(25));

  it('is ciphertext, and reads back in order across reopenings', async () => {
    await write('powered on', 'qemu: hello');
    await write('powered off');
    expect((await readFile(path)).includes(Buffer.from('powered'))).toBe(false);
    expect(await texts()).toEqual(['powered on', 'qemu: hello', 'powered off']);
  });

  it('detects records swapped or dropped from the middle', async () => {
    await write('one', 'two', 'three');
    const [a, b, c] = records(await readFile(path));
    expect(() => decodeVmLog(Buffer.concat([b!, a!, c!]), uuid, dek)).toThrow(/failed authentication/);
    expect(() => decodeVmLog(Buffer.concat([a!, c!]), uuid, dek)).toThrow(/failed authentication/);
  });

  it('cuts off a torn last record (crash mid-append) and stays appendable', async () => {
    await write('one', 'two');
    await appendFile(path, Buffer.from([0, 0, 1])); // half a length field
    await write('three');
    const lines = await texts();
    expect(lines).toHaveLength(4);
    expect([lines[0], lines[1], lines[3]]).toEqual(['one', 'two', 'three']);
    expect(lines[2]).toMatch(/^log: torn or damaged record cut off at byte \d+$/);
  });
});
