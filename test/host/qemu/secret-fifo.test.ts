import { describe, expect, it } from 'vitest';
import { runQemuTool } from '../../../src/host/qemu/disk-images.js';

// A tool that never opens its secret FIFO must not hang the agent: once the feed gives up,
// the tool would block in open() forever, so it is killed and the call fails clearly.
describe('secret FIFOs: a reader that never opens its FIFO', () => {
  it('fails with HOST_QEMU_FAILED instead of waiting forever; the secret is zeroed', async () => {
    const secret = Buffer.alloc(64, 0x61);
    const err = await runQemuTool('sh', ['-c', 'exec sleep 600', 'sh', '@SECRET0@'], [secret], 200).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'HOST_QEMU_FAILED' });
    expect((err as Error).message).toContain('did not read its disk secrets');
    expect(secret.equals(Buffer.alloc(64))).toBe(true);
  });
});
