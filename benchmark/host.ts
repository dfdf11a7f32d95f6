// npm run bench:host — guest disk I/O of an encrypted VM (QEMU's LUKS driver, keys from our
// key cache) vs the same VM unencrypted (raw file), both driven through the agent's API with
// qemu-io over QMP. Also power-on latency (API call → QEMU up with its disks open).
// Last line: RESULT host ours=<MiB/s encrypted write> peer=<MiB/s plain write> ratio=<ours/peer> [key=value …]
// BENCH_QUICK=1: 64 MiB, 1 round (< 1 min); otherwise 512 MiB, 3 rounds, medians.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHostAgent } from '../src/host/agent.js';
import { HostClient } from '../src/host/client/host-client.js';
import { createSelfSigned } from '../src/pki/index.js';

const quick = process.env['BENCH_QUICK'] === '1';
const sizeMiB = quick ? 64 : 512;
const rounds = quick ? 1 : 3;
const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const dir = mkdtempSync(join(base, 'vmcrypt-bench-host-'));

function rateOf(output: string): number {
  const m = /\(([\d.]+) (KiB|MiB|GiB)\/sec/.exec(output);
  if (m?.[1] === undefined) throw new Error(`no rate in qemu-io output: ${output}`);
  const v = Number(m[1]);
  return m[2] === 'GiB' ? v * 1024 : m[2] === 'KiB' ? v / 1024 : v;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

try {
  const agent = await startHostAgent({ dataDir: join(dir, 'data'), name: 'bench', host: '127.0.0.1', port: 0, print: () => undefined });
  const id = await createSelfSigned({ commonName: 'bench-manager', usage: 'client' });
  const c = new HostClient({ url: agent.url, certPem: id.certPem, keyPem: id.keyPem, thumbprint: agent.thumbprint });
  const token = (await import('node:fs')).readFileSync(join(dir, 'data', 'pairing-token'), 'utf8').trim();
  await c.call('POST', '/v1/pair', { token });
  await c.call('POST', '/v1/host/crypto-mode', { mode: 'prepared' });
  await c.call('POST', '/v1/keys', { keys: [{ keyId: 'kek', key: randomBytes(32).toString('base64') }, { keyId: 'hk', key: randomBytes(32).toString('base64') }] });
  await c.call('POST', '/v1/host/crypto-mode', { mode: 'safe', hostKeyId: 'hk' });
  const disks = [{ sizeBytes: sizeMiB << 20 }];
  const enc = await c.call<{ uuid: string }>('POST', '/v1/vms', { name: 'enc', memoryMiB: 128, disks, encryption: { providerId: 'kp', keyId: 'kek' } });
  const plain = await c.call<{ uuid: string }>('POST', '/v1/vms', { name: 'plain', memoryMiB: 128, disks });

  async function measure(uuid: string): Promise<{ write: number; read: number; powerOnMs: number }> {
    const w: number[] = [];
    const r: number[] = [];
    const p: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t = performance.now();
      await c.call('POST', `/v1/vms/${uuid}/power`, { action: 'on' });
      p.push(performance.now() - t);
      const io = async (command: string): Promise<string> => (await c.call<{ output: string }>('POST', `/v1/vms/${uuid}/qemu-io`, { command })).output;
      w.push(rateOf(await io(`write -P 0x${(0x30 + i).toString(16)} 0 ${sizeMiB}M`)));
      r.push(rateOf(await io(`read -P 0x${(0x30 + i).toString(16)} 0 ${sizeMiB}M`)));
      await c.call('POST', `/v1/vms/${uuid}/power`, { action: 'off' });
    }
    return { write: median(w), read: median(r), powerOnMs: median(p) };
  }

  const ours = await measure(enc.uuid);
  const peer = await measure(plain.uuid);
  await agent.stop();
  console.log(`encrypted VM: write ${ours.write.toFixed(0)} MiB/s, read ${ours.read.toFixed(0)} MiB/s, power-on ${ours.powerOnMs.toFixed(0)} ms`);
  console.log(`plain VM:     write ${peer.write.toFixed(0)} MiB/s, read ${peer.read.toFixed(0)} MiB/s, power-on ${peer.powerOnMs.toFixed(0)} ms`);
  console.log(
    `RESULT host ours=${ours.write.toFixed(0)} peer=${peer.write.toFixed(0)} ratio=${(ours.write / peer.write).toFixed(2)} unit=MiB/s ` +
      `read_ours=${ours.read.toFixed(0)} read_peer=${peer.read.toFixed(0)} poweron_ms_ours=${ours.powerOnMs.toFixed(0)} poweron_ms_peer=${peer.powerOnMs.toFixed(0)} ` +
      `size_mib=${sizeMiB} rounds=${rounds} cpus=${cpus().length} load1=${loadavg()[0]?.toFixed(2) ?? '?'}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
