import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile, copyFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

const run = promisify(execFile);

/**
 * The tiny test guest: a Debian cloud kernel + an initramfs holding busybox, the virtio
 * block modules and an /init that writes or reads back a pattern on /dev/vda, then
 * powers off. Built from Debian packages (apt-get download + dpkg-deb -x, nothing is
 * installed on the host) and cached in $VMCRYPT_CACHE or ~/.cache/vmcrypt-guest.
 *
 * The guest reads its instructions from the kernel command line:
 *   vmcrypt.mode=write vmcrypt.pattern=WORD   writes WORD at byte GUEST_PATTERN_OFFSET
 *   vmcrypt.mode=read  vmcrypt.pattern=WORD   compares, then writes `READBACK-OK:WORD`
 *                                             (or `READBACK-BAD`) at GUEST_RESULT_OFFSET
 *   vmcrypt.mode=auto  vmcrypt.pattern=WORD   read if WORD is already there, else write
 *                                             (one VM config serves both boots)
 * It has no serial port on purpose: encrypted VMs refuse serial ports, so results travel
 * through the (encrypted) disk and the test reads them with the DEK, like a manager could.
 */
export interface TinyGuest {
  readonly kernel: string;
  readonly initrd: string;
}

export const GUEST_PATTERN_OFFSET = 8 * 512;
export const GUEST_RESULT_OFFSET = 16 * 512;
const CACHE_VERSION = 'v2';

/** Kernel command line for a guest run. The pattern must be [A-Za-z0-9-]{1,200}. */
export function guestAppend(mode: 'write' | 'read' | 'auto', pattern: string): string {
  if (!/^[A-Za-z0-9-]{1,200}$/.test(pattern)) throw new Error('guest pattern must be [A-Za-z0-9-]{1,200}');
  return `console=ttyS0 quiet panic=-1 vmcrypt.mode=${mode} vmcrypt.pattern=${pattern}`;
}

export function guestCacheDir(): string {
  return process.env['VMCRYPT_CACHE'] ?? join(homedir(), '.cache', 'vmcrypt-guest');
}

/**
 * True where the guest must be available (CI=true): there a guest that cannot be built fails
 * the run, since a skipped guest test would turn green without testing anything.
 */
export function tinyGuestRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  return env['CI'] === 'true' || env['CI'] === '1';
}

/**
 * Returns the cached guest, building it first if needed. Resolves to a string saying why
 * when it cannot be built here (e.g. no apt access): tests skip with that reason, or fail
 * with it when `tinyGuestRequired()`.
 */
export async function ensureTinyGuest(): Promise<TinyGuest | string> {
  const dir = join(guestCacheDir(), CACHE_VERSION);
  const guest: TinyGuest = { kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.cpio') };
  if (existsSync(guest.kernel) && existsSync(guest.initrd)) return guest;
  try {
    await buildTinyGuest(dir);
    return guest;
  } catch (err) {
    return `tiny guest unavailable: ${err instanceof Error ? err.message : String(err)}`;
  }
}

async function buildTinyGuest(outDir: string): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'vmcrypt-guest-'));
  try {
    const { stdout } = await run('apt-cache', ['depends', 'linux-image-cloud-amd64']);
    const kernelPkg = /Depends:\s*(linux-image-6\.1\.0-\d+-cloud-amd64)\b/.exec(stdout)?.[1];
    if (kernelPkg === undefined) throw new Error('no linux-image-6.1.0-*-cloud-amd64 package known to apt');
    await run('apt-get', ['download', kernelPkg, 'busybox-static'], { cwd: work, timeout: 300_000 });
    const root = join(work, 'root');
    await mkdir(root);
    for (const deb of (await readdir(work)).filter((f) => f.endsWith('.deb'))) {
      await run('dpkg-deb', ['-x', join(work, deb), root]);
    }
    const boot = await readdir(join(root, 'boot'));
    const vmlinuz = boot.find((f) => f.startsWith('vmlinuz-'));
    if (vmlinuz === undefined) throw new Error('kernel package holds no /boot/vmlinuz-*');
    const kver = vmlinuz.slice('vmlinuz-'.length);
    const modDir = join(root, 'lib', 'modules', kver, 'kernel', 'drivers');
    const wanted = [
      ['virtio', 'virtio_ring'],
      ['virtio', 'virtio'],
      ['virtio', 'virtio_pci_legacy_dev'],
      ['virtio', 'virtio_pci_modern_dev'],
      ['virtio', 'virtio_pci'],
      ['block', 'virtio_blk'],
    ] as const;
    const files: CpioEntry[] = [
      { name: 'bin', mode: 0o040755 },
      { name: 'dev', mode: 0o040755 },
      { name: 'dev/console', mode: 0o020600, rdevMajor: 5, rdevMinor: 1 },
      { name: 'proc', mode: 0o040755 },
      { name: 'sys', mode: 0o040755 },
      { name: 'tmp', mode: 0o041777 },
      { name: 'mods', mode: 0o040755 },
      { name: 'bin/busybox', mode: 0o100755, data: await readFile(join(root, 'bin', 'busybox')) },
      { name: 'bin/sh', mode: 0o120777, data: Buffer.from('busybox') },
      { name: 'init', mode: 0o100755, data: Buffer.from(INIT_SCRIPT) },
    ];
    for (const [sub, mod] of wanted) {
      files.push({ name: `mods/${mod}.ko`, mode: 0o100644, data: await readModule(join(modDir, sub), mod) });
    }
    const tmpOut = `${outDir}.tmp-${process.pid}`;
    await rm(tmpOut, { recursive: true, force: true });
    await mkdir(tmpOut, { recursive: true });
    await copyFile(join(root, 'boot', vmlinuz), join(tmpOut, 'vmlinuz'));
    await writeFile(join(tmpOut, 'initrd.cpio'), cpioNewc(files));
    await rm(outDir, { recursive: true, force: true });
    await rename(tmpOut, outDir);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function readModule(dir: string, name: string): Promise<Buffer> {
  const plain = join(dir, `${name}.ko`);
  if (existsSync(plain)) return readFile(plain);
  const xz = `${plain}.xz`;
  if (existsSync(xz)) return (await run('xz', ['-dc', xz], { encoding: 'buffer', maxBuffer: 64 << 20 })).stdout;
  throw new Error(`kernel module ${name} not found in the kernel package`);
}

// Module load order matters and some fail until their dependencies are in: retry a few rounds.
const INIT_SCRIPT = `#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
for round in 1 2 3 4 5 6; do
  for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk; do
    grep -q "^$m " /proc/modules || insmod /mods/$m.ko 2>/dev/null
  done
done
n=0
while [ ! -b /dev/vda ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n+1)); done
mode=""; pattern=""
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    vmcrypt.mode=*) mode="\${arg#vmcrypt.mode=}" ;;
    vmcrypt.pattern=*) pattern="\${arg#vmcrypt.pattern=}" ;;
  esac
done
len=$(printf %s "$pattern" | wc -c)
if [ "$mode" = auto ] && [ -b /dev/vda ]; then
  got=$(dd if=/dev/vda bs=512 skip=${GUEST_PATTERN_OFFSET / 512} count=1 2>/dev/null | head -c "$len")
  if [ "$got" = "$pattern" ]; then mode=read; else mode=write; fi
fi
if [ ! -b /dev/vda ]; then
  echo "VMCRYPT-GUEST no /dev/vda"
elif [ "$mode" = write ]; then
  printf %s "$pattern" > /tmp/p
  dd if=/tmp/p of=/dev/vda bs=512 seek=${GUEST_PATTERN_OFFSET / 512} conv=notrunc 2>/dev/null
  sync
  echo "VMCRYPT-GUEST wrote"
elif [ "$mode" = read ]; then
  got=$(dd if=/dev/vda bs=512 skip=${GUEST_PATTERN_OFFSET / 512} count=1 2>/dev/null | head -c "$len")
  if [ "$got" = "$pattern" ]; then printf %s "READBACK-OK:$pattern" > /tmp/r; else printf %s "READBACK-BAD" > /tmp/r; fi
  dd if=/tmp/r of=/dev/vda bs=512 seek=${GUEST_RESULT_OFFSET / 512} conv=notrunc 2>/dev/null
  sync
  echo "VMCRYPT-GUEST read"
fi
poweroff -f
`;

interface CpioEntry {
  readonly name: string;
  readonly mode: number;
  readonly data?: Buffer;
  readonly rdevMajor?: number;
  readonly rdevMinor?: number;
}

/** A "newc" (SVR4, no CRC) cpio archive, the format the kernel unpacks as initramfs. */
function cpioNewc(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  const hex = (n: number): string => n.toString(16).padStart(8, '0');
  const pad4 = (len: number): Buffer => Buffer.alloc((4 - (len % 4)) % 4);
  const push = (e: CpioEntry): void => {
    const data = e.data ?? Buffer.alloc(0);
    const name = Buffer.from(e.name + '\0');
    const header =
      '070701' +
      hex(ino++) + hex(e.mode) + hex(0) + hex(0) + hex(1) + hex(0) + hex(data.length) +
      hex(0) + hex(0) + hex(e.rdevMajor ?? 0) + hex(e.rdevMinor ?? 0) + hex(name.length) + hex(0);
    const head = Buffer.concat([Buffer.from(header, 'ascii'), name]);
    parts.push(head, pad4(head.length), data, pad4(data.length));
  };
  for (const e of entries) push(e);
  push({ name: 'TRAILER!!!', mode: 0 });
  return Buffer.concat(parts);
}
