import { run } from './helpers.js';
import type { DiskProgress } from '../../src/disk/index.js';

/** A progress callback that stops the run once `fraction` of the walk is durable: a half-done disk, deterministically. */
export function stopAt(fraction: number): (p: DiskProgress) => void {
  return (p) => {
    if (p.totalBytes > 0 && p.doneBytes >= p.totalBytes * fraction) throw new Error('stopped on purpose');
  };
}

/** `cryptsetup luksDump` output, or the error text when it refuses the file. */
export async function luksDump(file: string): Promise<{ ok: boolean; text: string }> {
  try {
    const { stdout } = await run('cryptsetup', ['luksDump', file]);
    return { ok: true, text: stdout };
  } catch (err) {
    return { ok: false, text: String((err as { stderr?: string }).stderr ?? err) };
  }
}

/** `qemu-img info` of the file opened as LUKS with `secret`, or the error text. */
export async function qemuLuksInfo(file: string, secret: string): Promise<{ ok: boolean; text: string }> {
  try {
    const { stdout } = await run('qemu-img', ['info', '--object', `secret,id=s0,file=${secret}`, '--image-opts', `driver=luks,key-secret=s0,file.filename=${file}`]);
    return { ok: true, text: stdout };
  } catch (err) {
    return { ok: false, text: String((err as { stderr?: string }).stderr ?? err) };
  }
}
