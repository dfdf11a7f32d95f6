import { afterAll, describe, expect, it } from 'vitest';
import { writeFile, readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Sidecar, sidecarPathFor, type Progress } from '../../src/disk/inplace/sidecar.js';
import { decodeMarker, encodeMarker } from '../../src/disk/inplace/marker.js';
import { markerOp } from '../../src/disk/inplace/marker-record.js';
import { parseHeader } from '../../src/disk/luks1/header.js';
import { fillKeyslot, newHeader } from '../../src/disk/luks1/keyslot.js';
import { DiskError } from '../../src/disk/errors.js';
import { tempDir } from './helpers.js';

const { dir, cleanup } = tempDir('vmcrypt-disk-inplace-units-');
afterAll(cleanup);

describe('sidecar: two checksummed slots', () => {
  const state: Progress = { opId: 'a'.repeat(32), op: 'encrypt', abort: false, phase: 'data', origSize: 1 << 20, size: 1 << 20, from: 0, to: 2 << 20, staging: 3 << 20, lo: 4096, hi: 1 << 20, progress: 1 << 20 };

  it('a torn latest record leaves the previous one; both damaged is DISK_IN_PLACE_STATE', async () => {
    const disk = join(dir, 'sc.img');
    const sc = await Sidecar.create(disk, state);
    await sc.update({ progress: 512 << 10 });
    await sc.update({ progress: 256 << 10 });
    await sc.close();
    const latest = (await Sidecar.open(disk))!;
    expect(latest.state.progress).toBe(256 << 10);
    await latest.close();
    const raw = await readFile(sidecarPathFor(disk));
    const seq3 = 3 % 2;
    raw[seq3 * 512 + 40] = raw[seq3 * 512 + 40]! ^ 0xff; // tear the newest slot
    await writeFile(sidecarPathFor(disk), raw);
    const older = await Sidecar.open(disk);
    expect(older!.state.progress).toBe(512 << 10);
    await older!.close();
    raw[(1 - seq3) * 512 + 40] = raw[(1 - seq3) * 512 + 40]! ^ 0xff;
    await writeFile(sidecarPathFor(disk), raw);
    await expect(Sidecar.open(disk)).rejects.toMatchObject({ code: 'DISK_IN_PLACE_STATE' });
  });

  it('updateSync (the data walk\'s records) writes the same alternating slots as update', async () => {
    const disk = join(dir, 'sc3.img');
    const sc = await Sidecar.create(disk, state);
    sc.updateSync({ progress: 768 << 10 });
    await sc.update({ progress: 512 << 10 });
    sc.updateSync({ progress: 256 << 10 });
    await sc.close();
    const back = (await Sidecar.open(disk))!;
    expect(back.state).toEqual({ ...state, progress: 256 << 10 });
    await back.close();
  });

  it('appears whole (linked from ….new with its record), never replaces a sidecar, clears a leftover ….new', async () => {
    const disk = join(dir, 'sc4.img');
    await writeFile(`${sidecarPathFor(disk)}.new`, ''); // a run killed before its sidecar existed
    const sc = await Sidecar.create(disk, state);
    await sc.close();
    expect(existsSync(`${sidecarPathFor(disk)}.new`)).toBe(false);
    expect((await stat(sidecarPathFor(disk))).mode & 0o777).toBe(0o600);
    await expect(Sidecar.create(disk, { ...state, progress: 0 })).rejects.toMatchObject({ code: 'EEXIST' });
    const kept = (await Sidecar.open(disk))!;
    expect(kept.state.progress).toBe(state.progress);
    await kept.close();
  });

  it('no key material: the record holds positions and names only', async () => {
    const disk = join(dir, 'sc2.img');
    const sc = await Sidecar.create(disk, state);
    await sc.close();
    const slot = (await readFile(sidecarPathFor(disk))).subarray(512); // the first record goes to slot 1
    expect(Object.keys(JSON.parse(slot.subarray(4, 4 + slot.readUInt32BE(0)).toString('utf8')) as object).sort()).toEqual(
      ['abort', 'from', 'hi', 'lo', 'op', 'opId', 'origSize', 'phase', 'progress', 'seq', 'size', 'staging', 'to', 'v'],
    );
  });
});

describe('in-progress block', () => {
  it('round-trips, refuses a flipped byte, and every opener reports the op to rerun', () => {
    const mk = randomBytes(64);
    const h = newHeader(mk);
    fillKeyslot(h, 0, mk, Buffer.from('passphrase'), 1000);
    mk.fill(0);
    const block = encodeMarker({ op: 'rekey', opId: 'b'.repeat(32), size: 1 << 30, from: 2 << 20, to: 4 << 20, staging: 0, headerArea: 0, a: h, b: h });
    const m = decodeMarker(block);
    expect(m).toMatchObject({ op: 'rekey', size: 1 << 30, to: 4 << 20 });
    expect(m.b?.uuid).toBe(h.uuid);
    expect(() => parseHeader(block.subarray(0, 592), 1 << 30)).toThrow(/vmcrypt disk rekey FILE .*--deep --in-place/);
    for (const at of [30, 1100, 2100]) {
      const bad = Buffer.from(block);
      bad[at]! ^= 1;
      expect(() => decodeMarker(bad)).toThrow(DiskError);
    }
    expect(markerOp(randomBytes(512))).toBeUndefined();
  });
});
