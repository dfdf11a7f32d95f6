/**
 * Pure builder of a qemu-system-x86_64 command line. Secrets never appear here: each
 * encrypted layer names a `secret` object read from a FIFO path (see secret-fifo.ts), which
 * the process driver fills and closes right after spawning.
 */
export interface QemuLayer {
  readonly file: string;
  readonly format: 'luks' | 'qcow2' | 'raw';
  /** True when the layer is LUKS-encrypted (format luks, or qcow2 with encrypt.format=luks). */
  readonly encrypted: boolean;
}

export interface QemuDisk {
  /** Base first, active (top) layer last; each layer's backing is the one before it. */
  readonly layers: readonly QemuLayer[];
}

export interface QemuMachine {
  readonly uuid: string;
  readonly name: string;
  readonly memoryMiB: number;
  readonly disks: readonly QemuDisk[];
  readonly qmpSocket: string;
  readonly kernel?: string;
  readonly initrd?: string;
  readonly append?: string;
  /** Plain VMs only: guest serial ports written to these files. */
  readonly serialFiles?: readonly string[];
  readonly parallelFiles?: readonly string[];
  /** Destination of a live migration: `-incoming defer` (the URI comes by QMP) and `-S` (started by `cont`). */
  readonly incoming?: boolean;
  /** TEST-ONLY: guest RAM in this file (memory-backend-file, share=on) so a test can fill and read it. */
  readonly memoryFile?: string;
  /** Unix socket the agent listens on for the firmware's debug console (port 0x402; see src/host/vm/firmware-log.ts). */
  readonly firmwareLog?: string;
}

/** Number of encrypted layers = number of secret FIFOs the machine needs. */
export function countSecrets(m: QemuMachine): number {
  return m.disks.reduce((n, d) => n + d.layers.filter((l) => l.encrypted).length, 0);
}

export interface QemuArgv {
  readonly argv: string[];
  /** In command-line order: which (disk, layer) each secret FIFO belongs to. */
  readonly secrets: ReadonlyArray<{ readonly disk: number; readonly layer: number }>;
}

/** Comma is QEMU's option separator; a literal comma is written twice. */
function qemuEscape(value: string): string {
  return value.replaceAll(',', ',,');
}

export function buildQemuArgv(m: QemuMachine, secretPaths: readonly string[] = []): QemuArgv {
  const argv = [
    '-name', `guest=${qemuEscape(m.name)}`,
    '-uuid', m.uuid,
    // TCG only: /dev/kvm on these machines misbehaves (see DESIGN.md).
    // dump-guest-core=off: guest RAM never goes into a QEMU core file (see QEMU_LAUNCH too)
    '-machine', 'pc,accel=tcg,dump-guest-core=off',
    '-m', String(m.memoryMiB),
    '-nodefaults', '-no-user-config', '-display', 'none',
    '-qmp', `unix:${qemuEscape(m.qmpSocket)},server=on,wait=off`,
    // no boot device: SeaBIOS says "No bootable device." and waits; never reboots (QEMU's default,
    // stated: a reboot would rerun the firmware, which writes guest RAM again)
    '-boot', 'reboot-timeout=-1',
  ];
  const secrets: Array<{ disk: number; layer: number }> = [];
  m.disks.forEach((disk, d) => {
    disk.layers.forEach((layer, l) => {
      const node = `d${d}l${l}`;
      let secretId: string | undefined;
      if (layer.encrypted) {
        secretId = `sec-${node}`;
        const path = secretPaths[secrets.length] ?? `/dev/null/missing-secret-${secrets.length}`;
        argv.push('-object', `secret,id=${secretId},format=raw,file=${qemuEscape(path)}`);
        secrets.push({ disk: d, layer: l });
      }
      argv.push('-blockdev', `driver=file,node-name=${node}f,filename=${qemuEscape(layer.file)},cache.direct=off`);
      const opts = [`driver=${layer.format}`, `node-name=${node}`, `file=${node}f`];
      if (layer.format === 'luks' && secretId !== undefined) opts.push(`key-secret=${secretId}`);
      if (layer.format === 'qcow2') {
        opts.push(l === 0 ? 'backing=' : `backing=d${d}l${l - 1}`);
        if (secretId !== undefined) opts.push('encrypt.format=luks', `encrypt.key-secret=${secretId}`);
      }
      argv.push('-blockdev', opts.join(','));
    });
    argv.push('-device', `virtio-blk-pci,drive=d${d}l${disk.layers.length - 1},id=disk${d}`);
  });
  m.serialFiles?.forEach((f, i) => {
    argv.push('-chardev', `file,id=ser${i},path=${qemuEscape(f)}`, '-serial', `chardev:ser${i}`);
  });
  m.parallelFiles?.forEach((f, i) => {
    argv.push('-chardev', `file,id=par${i},path=${qemuEscape(f)}`, '-parallel', `chardev:par${i}`);
  });
  if (m.firmwareLog !== undefined) {
    argv.push('-chardev', `socket,id=fwlog,path=${qemuEscape(m.firmwareLog)}`, '-device', 'isa-debugcon,iobase=0x402,chardev=fwlog');
  }
  if (m.memoryFile !== undefined) {
    argv.push('-object', `memory-backend-file,id=pc.ram,size=${m.memoryMiB}M,mem-path=${qemuEscape(m.memoryFile)},share=on`, '-machine', 'memory-backend=pc.ram');
  }
  if (m.incoming === true) argv.push('-incoming', 'defer', '-S');
  if (m.kernel !== undefined) argv.push('-kernel', m.kernel);
  if (m.initrd !== undefined) argv.push('-initrd', m.initrd);
  if (m.append !== undefined) argv.push('-append', m.append);
  return { argv, secrets };
}
