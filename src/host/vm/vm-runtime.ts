import { randomBytes } from 'node:crypto';
import { access, readdir, readFile, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { HostError } from '../errors.js';
import { passphraseOf } from '../qemu/disk-images.js';
import { readNvram } from '../vm-files/nvram.js';
import type { QemuDisk, QemuMachine } from '../qemu/qemu-argv.js';
import { startQemu, type RunningQemu } from '../qemu/qemu-process.js';
import { addSecretObject } from '../qemu/qmp-secret.js';
import { liveCommitActive } from '../qemu/live-commit.js';
import { dumpGuestMemory } from './guest-memory-dump.js';
import { FirmwareLog } from './firmware-log.js';
import { PausableLog } from '../vm-files/pausable-log.js';
import { layerDek, layerPath, withOpenVm, type HostContext, type OpenVm } from './vm-open.js';
import { writePrivateFile } from '../../fs/private-files.js';

export const PowerState = {
  POWERED_OFF: 'poweredOff',
  POWERED_ON: 'poweredOn',
  SUSPENDED: 'suspended',
} as const;
export type PowerState = (typeof PowerState)[keyof typeof PowerState];

interface RunningVm {
  readonly qemu: RunningQemu;
  readonly log: PausableLog;
  readonly encrypted: boolean;
  paused: boolean;
  /** Node names of each disk's chain, active last (live snapshots push, live commits pop). */
  readonly nodes: string[][];
  /** Migrated to another host: its exit is not a power-off of the VM. */
  departed?: boolean;
  readonly memoryFile?: string;
}

/** What a live or storage migration drives of a running VM (src/host/migration). */
export interface MigrationHandle {
  readonly qmp: RunningQemu['qmp'];
  readonly log: PausableLog;
  readonly nodes: string[][];
  readonly exited: Promise<string>;
  /** The VM now runs on another host: QEMU's exit here posts no vm.poweredOff. */
  depart(): void;
}

const QEMU_IO_RE = /^[A-Za-z0-9 ._-]{1,200}$/;
/** A qemu-io result line: the summary of a read/write, a verification failure or an error. */
const QEMU_IO_END = /(ops\/sec\)|Pattern verification failed|[Ee]rror|failed)[^\n]*\n/;
const QEMU_IO_OUTPUT_WAIT_MS = 5000;
/** How long QEMU gets to quit before it is killed. */
const POWER_OFF_GRACE_MS = 10_000;

/** Runs VMs under QEMU and tracks them; one QEMU process per powered-on VM. */
export class VmRuntime {
  readonly #ctx: HostContext;
  readonly #running = new Map<string, RunningVm>();
  /** TEST-ONLY (agent --allow-crash + VMCRYPT_TEST_RAM_DIR): guest RAM in DIR/<uuid>.ram. */
  ramDir: string | undefined;

  constructor(ctx: HostContext) {
    this.#ctx = ctx;
  }

  powerState(uuid: string): PowerState {
    const r = this.#running.get(uuid);
    if (r === undefined) return PowerState.POWERED_OFF;
    return r.paused ? PowerState.SUSPENDED : PowerState.POWERED_ON;
  }

  pidOf(uuid: string): number | undefined {
    return this.#running.get(uuid)?.qemu.pid;
  }

  isRunning(uuid: string): boolean {
    return this.#running.has(uuid);
  }

  /**
   * Kills QEMU processes a previous run of the agent left (a crashed or killed agent = a host
   * that went down: its VMs are powered off). Only processes whose command line carries the
   * uuid from our pid file are touched.
   */
  async reapStale(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.#ctx.runDir);
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(this.#ctx.runDir, name);
      if (name.endsWith('.pid')) {
        const uuid = name.slice(0, -4);
        const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
        if (Number.isInteger(pid) && pid > 1) {
          const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
          if (cmdline.includes(`\0-uuid\0${uuid}\0`)) {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              // already gone
            }
          }
        }
      }
      await rm(path, { force: true });
    }
  }

  /** `incoming`: the destination of a live migration (QEMU waits for the stream, paused; log paused). */
  async powerOn(vmxPath: string, incoming = false): Promise<void> {
    await withOpenVm(this.#ctx, vmxPath, async (vm) => {
      if (this.#running.has(vm.uuid)) throw new HostError('HOST_POWER_STATE', `VM ${vm.doc.name} is already powered on`);
      const encrypted = vm.doc.keySafe !== undefined;
      // a host running encrypted VMs must seal its core dumps: crypto-safe only
      if (encrypted && this.#ctx.store.state.cryptoMode !== 'safe') {
        throw new HostError('HOST_CRYPTO_MODE', `host is in crypto mode '${this.#ctx.store.state.cryptoMode}': encrypted VMs run only on a crypto-safe host`);
      }
      if (encrypted && (vm.config.serialPorts > 0 || vm.config.parallelPorts > 0)) {
        throw new HostError('HOST_UNSUPPORTED_ENCRYPTED', 'serial and parallel ports are not supported on encrypted VMs');
      }
      (await readNvram(join(vm.dir, vm.config.nvram), vm.uuid, vm.vmDek)).fill(0);
      for (const f of [vm.config.kernel, vm.config.initrd]) {
        if (f !== undefined) await access(f).catch(() => {
          throw new HostError('HOST_BAD_REQUEST', `kernel/initrd file ${f} is not readable`);
        });
      }
      const memoryFile = this.ramDir === undefined ? undefined : join(this.ramDir, `${vm.uuid}.ram`);
      const firmwareLog = join(this.#ctx.runDir, `${vm.uuid.slice(0, 8)}.fw`);
      const machine: QemuMachine = { ...this.#machineOf(vm), firmwareLog, ...(incoming ? { incoming } : {}), ...(memoryFile === undefined ? {} : { memoryFile }) };
      const deks = new Map<string, Buffer>();
      const log = await PausableLog.open(join(vm.dir, vm.config.log), vm.uuid, vm.vmDek, incoming);
      let qemu: RunningQemu;
      let fw: FirmwareLog | undefined;
      try {
        // before QEMU starts: it connects its firmware console while starting
        fw = await FirmwareLog.listen(firmwareLog, (line) => void log.append(line).catch(() => undefined));
        if (encrypted) {
          vm.config.disks.forEach((disk, d) =>
            disk.layers.forEach((layer, l) => {
              if (layer.wrappedDek !== undefined) deks.set(`${d}:${l}`, layerDek(vm, layer));
            }),
          );
        }
        await rm(machine.qmpSocket, { force: true });
        qemu = await startQemu(
          machine,
          this.#ctx.runDir,
          (d, l) => {
            const dek = deks.get(`${d}:${l}`);
            if (dek === undefined) throw new HostError('HOST_VMX_INVALID', `no key for disk ${d} layer ${l}`);
            return passphraseOf(dek);
          },
          (text) => void log.append(`qemu: ${text}`).catch(() => undefined),
        );
      } catch (err) {
        await fw?.close();
        await log.append(`power on failed: ${err instanceof Error ? err.message : String(err)}`).catch(() => undefined);
        await log.close();
        throw err;
      } finally {
        for (const k of deks.values()) k.fill(0);
      }
      const nodes = vm.config.disks.map((d, i) => d.layers.map((_, l) => `d${i}l${l}`));
      const entry: RunningVm = { qemu, log, encrypted, paused: false, nodes, ...(memoryFile === undefined ? {} : { memoryFile }) };
      this.#running.set(vm.uuid, entry);
      const pidFile = join(this.#ctx.runDir, `${vm.uuid}.pid`);
      await writePrivateFile(pidFile, String(qemu.pid));
      await log.append(`${incoming ? 'started for an incoming migration' : 'powered on'} (qemu pid ${qemu.pid})`);
      if (!incoming) this.#ctx.events.post('vm.poweredOn', `VM ${vm.doc.name} powered on`, { vmUuid: vm.uuid });
      const name = vm.doc.name;
      const uuid = vm.uuid;
      void qemu.exited.then(async (how) => {
        // before the VM counts as off: a QEMU of the same VM started next must keep its RAM file
        if (memoryFile !== undefined) await rm(memoryFile, { force: true });
        this.#running.delete(uuid);
        qemu.qmp.close();
        await unlink(pidFile).catch(() => undefined);
        await rm(machine.qmpSocket, { force: true });
        await fw?.close().catch(() => undefined);
        await log.append(`powered off (qemu ${how})`).catch(() => undefined);
        await log.close().catch(() => undefined);
        if (entry.departed !== true) this.#ctx.events.post('vm.poweredOff', `VM ${name} powered off`, { vmUuid: uuid });
      });
    });
  }

  #machineOf(vm: OpenVm): QemuMachine {
    const disks: QemuDisk[] = vm.config.disks.map((disk) => ({
      layers: disk.layers.map((l) => ({ file: layerPath(vm, l), format: l.format, encrypted: l.wrappedDek !== undefined })),
    }));
    const ports = (n: number, kind: string): string[] => Array.from({ length: n }, (_, i) => join(vm.dir, `${vm.doc.name}-${kind}${i}.out`));
    return {
      uuid: vm.uuid,
      name: vm.doc.name,
      memoryMiB: vm.config.memoryMiB,
      disks,
      qmpSocket: join(this.#ctx.runDir, `${vm.uuid.slice(0, 8)}.qmp`),
      serialFiles: ports(vm.config.serialPorts, 'serial'),
      parallelFiles: ports(vm.config.parallelPorts, 'parallel'),
      ...(vm.config.kernel === undefined ? {} : { kernel: vm.config.kernel }),
      ...(vm.config.initrd === undefined ? {} : { initrd: vm.config.initrd }),
      ...(vm.config.append === undefined ? {} : { append: vm.config.append }),
    };
  }

  migrationHandle(uuid: string): MigrationHandle {
    const r = this.#get(uuid);
    return { qmp: r.qemu.qmp, log: r.log, nodes: r.nodes, exited: r.qemu.exited, depart: () => (r.departed = true) };
  }

  #get(uuid: string): RunningVm {
    const r = this.#running.get(uuid);
    if (r === undefined) throw new HostError('HOST_POWER_STATE', `VM ${uuid} is powered off`);
    return r;
  }

  /**
   * Live disk-only snapshot of one disk: the overlay file (already made by qemu-img) is
   * opened by QEMU and put on top of the running chain (QMP blockdev-add +
   * blockdev-snapshot). Its key goes in with QMP object-add of a secret read from a FIFO
   * (qmp-secret.ts) — not on a command line, not on disk, not in the QMP stream.
   */
  async attachOverlay(uuid: string, disk: number, path: string, dek: Buffer | undefined): Promise<void> {
    const r = this.#get(uuid);
    if (r.paused) throw new HostError('HOST_POWER_STATE', 'resume the VM before a snapshot');
    const stack = r.nodes[disk];
    const top = stack?.[stack.length - 1];
    if (stack === undefined || top === undefined) throw new HostError('HOST_BAD_REQUEST', `no disk ${disk}`);
    const node = `d${disk}s${randomBytes(4).toString('hex')}`;
    const spec: Record<string, unknown> = { driver: 'qcow2', 'node-name': node, file: { driver: 'file', filename: path }, backing: null };
    if (dek !== undefined) {
      const secretId = `sec-${node}`;
      await addSecretObject(r.qemu.qmp, this.#ctx.runDir, secretId, passphraseOf(dek));
      spec['encrypt'] = { format: 'luks', 'key-secret': secretId };
    }
    await r.qemu.qmp.execute('blockdev-add', spec);
    await r.qemu.qmp.execute('blockdev-snapshot', { node: top, overlay: node });
    stack.push(node);
    await r.log.append(`disk ${disk}: live snapshot overlay ${path}`);
  }

  /**
   * Undoes a live snapshot of one disk while the VM runs: the active overlay is merged into
   * the layer below and dropped from the chain (the caller removes the file afterwards).
   */
  async detachOverlay(uuid: string, disk: number): Promise<void> {
    const r = this.#get(uuid);
    const stack = r.nodes[disk];
    const top = stack?.[stack.length - 1];
    const base = stack?.[stack.length - 2];
    if (stack === undefined || top === undefined || base === undefined) throw new HostError('HOST_BAD_REQUEST', `disk ${disk} has no overlay to merge`);
    await liveCommitActive(r.qemu.qmp, top, base);
    stack.pop();
    await r.log.append(`disk ${disk}: live overlay merged into the layer below`);
  }

  /** Hard power off (QMP quit, SIGKILL after a grace period); resolves once QEMU is gone. */
  async powerOff(uuid: string): Promise<void> {
    const r = this.#get(uuid);
    // armed before QMP is asked: a hung QEMU never answers `quit`
    const t = setTimeout(() => r.qemu.child.kill('SIGKILL'), POWER_OFF_GRACE_MS);
    try {
      await r.qemu.qmp.execute('quit').catch(() => undefined);
      await r.qemu.exited;
    } finally {
      clearTimeout(t);
    }
    // let the exit handler finish its bookkeeping
    while (this.#running.has(uuid)) await new Promise((res) => setTimeout(res, 10));
  }

  async reset(uuid: string): Promise<void> {
    await this.#get(uuid).qemu.qmp.execute('system_reset');
    await this.#running.get(uuid)?.log.append('reset');
  }

  /** Suspend (pause in memory) — refused for encrypted VMs (seeds: suspend/resume unsupported). */
  async suspend(uuid: string): Promise<void> {
    const r = this.#get(uuid);
    if (r.encrypted) throw new HostError('HOST_UNSUPPORTED_ENCRYPTED', 'suspend/resume is not supported on encrypted VMs');
    await r.qemu.qmp.execute('stop');
    r.paused = true;
  }

  async resume(uuid: string): Promise<void> {
    const r = this.#get(uuid);
    if (r.encrypted) throw new HostError('HOST_UNSUPPORTED_ENCRYPTED', 'suspend/resume is not supported on encrypted VMs');
    await r.qemu.qmp.execute('cont');
    r.paused = false;
  }

  /**
   * Runs a `qemu-io` command against disk N of a running VM through QMP
   * human-monitor-command. The I/O goes through QEMU's block layer (LUKS included).
   */
  async qemuIo(uuid: string, disk: number, command: string): Promise<string> {
    const r = this.#get(uuid);
    if (!Number.isInteger(disk) || disk < 0 || disk > 7) throw new HostError('HOST_BAD_REQUEST', 'disk must be 0–7');
    if (!QEMU_IO_RE.test(command)) throw new HostError('HOST_BAD_REQUEST', 'qemu-io command may hold only letters, digits, spaces and ._-');
    // The BlockBackend of a virtio-blk-pci device sits on its inner virtio-backend child.
    // QEMU 7.2's qemu-io prints results with printf to QEMU's stdout (not into the QMP
    // reply), so the output is collected there until a result line arrives.
    let text = '';
    let done: (() => void) | undefined;
    const finished = new Promise<void>((res) => (done = res));
    const untap = r.qemu.tapOutput((t) => {
      text += t;
      if (QEMU_IO_END.test(text)) done?.();
    });
    try {
      const reply = await r.qemu.qmp.hmp(`qemu-io -d disk${disk}/virtio-backend "${command}"`);
      text += reply;
      if (QEMU_IO_END.test(text) || /^(flush|sync|discard)\b/.test(command)) return text;
      await Promise.race([finished, new Promise((res) => setTimeout(res, QEMU_IO_OUTPUT_WAIT_MS))]);
      return text;
    } finally {
      untap();
    }
  }

  /** Guest memory dump (see guest-memory-dump.ts); returns the dump file's path. */
  async dumpGuestMemory(vmxPath: string, uuid: string): Promise<string> {
    const r = this.#get(uuid);
    return withOpenVm(this.#ctx, vmxPath, async (vm) => {
      const out = await dumpGuestMemory(r.qemu.qmp, this.#ctx.runDir, vm);
      await r.log.append(`guest memory dumped to ${out}`);
      return out;
    });
  }

  /** Powers off every VM (agent shutdown). */
  async powerOffAll(): Promise<void> {
    await Promise.all([...this.#running.keys()].map((uuid) => this.powerOff(uuid).catch(() => undefined)));
  }
}
