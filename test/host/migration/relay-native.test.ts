import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRAME_HEADER_BYTES, FrameOpener, FrameSealer, MAX_FRAME_PLAIN, type MigrationKey } from '../../../src/host/migration/frames.js';
import { nativeRelay, NativeRelay } from '../../../src/host/migration/relay-native.js';
import type { HostError } from '../../../src/host/errors.js';

const addon = nativeRelay().addon;
const keyOf = (): MigrationKey => ({ key: randomBytes(32), nonce: randomBytes(8), migrationId: randomUUID() });

let dir: string;
let n = 0;
/** A connected unix socket pair; `a` is not read by Node (the relay reads it). */
async function pair(): Promise<{ a: Socket; b: Socket }> {
  const path = join(dir, `s${n++}`);
  const srv = createServer({ pauseOnConnect: true });
  await new Promise<void>((r) => srv.listen(path, () => r()));
  const accepted = new Promise<Socket>((r) => srv.once('connection', r));
  const b = connect(path);
  const a = await accepted;
  srv.close();
  b.on('error', () => undefined);
  a.on('error', () => undefined);
  return { a, b };
}

function collect(s: Socket): Promise<Buffer> {
  const parts: Buffer[] = [];
  s.on('data', (c: Buffer) => parts.push(c)).resume();
  return new Promise((r) => s.once('end', () => r(Buffer.concat(parts))).once('close', () => r(Buffer.concat(parts))));
}

/** Frames from the TypeScript sealer (the tampering cases alter this list). */
function tsFrames(k: MigrationKey, data: Buffer): Buffer[] {
  const s = new FrameSealer(k, 'forward');
  const frames: Buffer[] = [];
  for (let off = 0; off < data.length; off += 100_000) frames.push(Buffer.concat(s.sealFrame([data.subarray(off, off + 100_000)])));
  frames.push(Buffer.concat(s.seal(Buffer.alloc(0), true)));
  return frames;
}

/** Feeds `frames` to a native open relay; resolves with its plaintext output and how it ended. */
async function openNative(k: MigrationKey, frames: Buffer[]): Promise<{ out: Buffer; end: 'last' | HostError }> {
  const tcp = await pair();
  const qemu = await pair();
  const out = collect(qemu.b);
  let relay: NativeRelay | undefined;
  const end = new Promise<'last' | HostError>((resolve) => {
    relay = NativeRelay.start(addon!, 'open', k, 'forward', tcp.a, qemu.a, { onLast: () => resolve('last'), onError: resolve });
  });
  for (const f of frames) tcp.b.write(f);
  tcp.b.end();
  const how = await end;
  relay?.stop(false);
  qemu.a.end();
  const got = await out;
  for (const s of [tcp.a, tcp.b, qemu.a, qemu.b]) s.destroy();
  return { out: got, end: how };
}

describe.skipIf(addon === undefined)('native tunnel relay (relay.c) speaks frames.ts', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmcrypt-relay-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('seals QEMU\'s stream into frames the TypeScript opener accepts, the last one only after finish()', async () => {
    const k = keyOf();
    const qemu = await pair();
    const tcp = await pair();
    const data = randomBytes(3 * MAX_FRAME_PLAIN + 12345);
    const opener = new FrameOpener(k, 'forward');
    const got: Buffer[] = [];
    let final: Buffer | undefined;
    let maxFrame = 0;
    tcp.b.on('data', (c: Buffer) => {
      const r = opener.push(c);
      got.push(...r.data);
      if (r.final !== undefined) final = r.final;
    });
    const eof = new Promise<void>((resolve, reject) => {
      const relay = NativeRelay.start(addon!, 'seal', k, 'forward', qemu.a, tcp.a, {
        onEof: () => {
          expect(final).toBeUndefined();
          expect(relay.bytes).toBe(data.length);
          relay.finish();
        },
        onLast: () => resolve(),
        onError: reject,
      });
    });
    qemu.b.end(data);
    await eof;
    await new Promise((r) => setTimeout(r, 50));
    expect(final).toEqual(Buffer.alloc(0));
    expect(Buffer.concat(got).equals(data)).toBe(true);
    for (const b of got) maxFrame = Math.max(maxFrame, b.length);
    expect(maxFrame).toBeLessThanOrEqual(MAX_FRAME_PLAIN);
    for (const s of [qemu.a, qemu.b, tcp.a, tcp.b]) s.destroy();
  });

  it('opens the TypeScript sealer\'s frames in order and reports the verified last frame', async () => {
    const k = keyOf();
    const data = randomBytes(700_000);
    const r = await openNative(k, tsFrames(k, data));
    expect(r.end).toBe('last');
    expect(r.out.equals(data)).toBe(true);
  });

  const tamper: Array<[string, (f: Buffer[]) => Buffer[], RegExp]> = [
    ['a flipped ciphertext byte', (f) => f.map((b, i) => (i === 3 ? Buffer.concat([b.subarray(0, FRAME_HEADER_BYTES + 5), Buffer.from([(b[FRAME_HEADER_BYTES + 5] ?? 0) ^ 1]), b.subarray(FRAME_HEADER_BYTES + 6)]) : b)), /frame 3 failed authentication/],
    ['a dropped frame', (f) => f.filter((_, i) => i !== 3), /frame 4 where 3 was expected/],
    ['a replayed frame', (f) => [...f.slice(0, 4), f[3]!, ...f.slice(4)], /frame 3 where 4 was expected/],
    ['two frames swapped', (f) => [...f.slice(0, 2), f[3]!, f[2]!, ...f.slice(4)], /frame 3 where 2 was expected/],
    ['a stream cut before the last frame', (f) => f.slice(0, -1), /truncated/],
    ['bytes after the last frame', (f) => [Buffer.concat([...f, Buffer.from('x'.repeat(20))])], /after the last frame/],
    ['a reverse-direction frame', (f) => f.map((b, i) => (i === 0 ? Buffer.concat([b.subarray(0, 8), Buffer.from([2]), b.subarray(9)]) : b)), /flags invalid/],
    ['an oversized length', () => [Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0])], /out of bounds/],
  ];
  for (const [what, alter, why] of tamper) {
    it(`rejects ${what} as HOST_MIGRATION_STREAM_TAMPERED, passing on only verified frames`, async () => {
      const k = keyOf();
      const data = randomBytes(700_000);
      const r = await openNative(k, alter(tsFrames(k, data)));
      expect(r.end).not.toBe('last');
      expect((r.end as HostError).code).toBe('HOST_MIGRATION_STREAM_TAMPERED');
      expect((r.end as HostError).message).toMatch(why);
      // only whole verified frames of the original stream, in order, went to QEMU
      expect(r.out.length % 100_000).toBe(0);
      expect(r.out.equals(data.subarray(0, r.out.length))).toBe(true);
    });
  }

  it('a wrong key or another migration id fails the first frame', async () => {
    const k = keyOf();
    const frames = tsFrames(k, randomBytes(1000));
    for (const other of [{ ...k, key: randomBytes(32) }, { ...k, migrationId: randomUUID() }]) {
      const r = await openNative(other, frames);
      expect((r.end as HostError).message).toMatch(/frame 0 failed authentication/);
      expect(r.out.length).toBe(0);
    }
  });

  it('native seal to native open end to end; stop() mid-stream ends quietly', async () => {
    const k = keyOf();
    const qemuA = await pair();
    const tcp = await pair();
    const qemuB = await pair();
    const data = randomBytes(2 << 20);
    const out = collect(qemuB.a);
    const done = new Promise<void>((resolve, reject) => {
      const seal = NativeRelay.start(addon!, 'seal', k, 'forward', qemuA.a, tcp.b, { onEof: () => seal.finish(), onError: reject });
      const open = NativeRelay.start(addon!, 'open', k, 'forward', tcp.a, qemuB.b, {
        onLast: () => {
          seal.stop(false);
          open.stop(false);
          qemuB.b.end();
          resolve();
        },
        onError: reject,
      });
    });
    qemuA.b.end(data);
    await done;
    expect((await out).equals(data)).toBe(true);
    // a relay stopped while it waits for input reports nothing
    const idle = await pair();
    const idle2 = await pair();
    let events = 0;
    const r = NativeRelay.start(addon!, 'open', k, 'forward', idle.a, idle2.b, { onLast: () => events++, onError: () => events++ });
    await new Promise((res) => setTimeout(res, 20));
    r.stop(true);
    await new Promise((res) => setTimeout(res, 20));
    expect(events).toBe(0);
    for (const s of [qemuA.a, qemuA.b, tcp.a, tcp.b, qemuB.a, qemuB.b, idle.a, idle.b, idle2.a, idle2.b]) s.destroy();
  });
});
