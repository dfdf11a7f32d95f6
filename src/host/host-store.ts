import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomically } from '../fs/atomic-file.js';
import { makePrivateDir } from '../fs/private-files.js';
import { HostError } from './errors.js';

/**
 * The host's persistent state, `DATA/host.json` (never key bytes): its name, crypto mode and
 * host key id, the pinned manager, datastores and the registered VMs.
 */
export const CryptoMode = {
  INCAPABLE: 'incapable',
  PREPARED: 'prepared',
  SAFE: 'safe',
} as const;
export type CryptoMode = (typeof CryptoMode)[keyof typeof CryptoMode];

export interface HostState {
  readonly name: string;
  readonly cryptoMode: CryptoMode;
  readonly hostKeyId?: string;
  /** sha256 of the manager's client certificate (DER), lowercase hex. */
  readonly managerFingerprint?: string;
  readonly datastores: Readonly<Record<string, string>>;
  /**
   * `incoming`: the id of the live migration that registered the VM here, until its stream has
   * arrived; an agent that starts with such an entry was stopped mid-migration and drops it (the
   * VM still runs on its source), so a VM is never left registered on two hosts.
   */
  readonly vms: ReadonlyArray<{ readonly uuid: string; readonly vmx: string; readonly incoming?: string }>;
}

const MAX_STATE_BYTES = 4 << 20;

export class HostStore {
  readonly dataDir: string;
  #state: HostState;

  private constructor(dataDir: string, state: HostState) {
    this.dataDir = dataDir;
    this.#state = state;
  }

  static async open(dataDir: string, name: string): Promise<HostStore> {
    await makePrivateDir(dataDir);
    const file = join(dataDir, 'host.json');
    let state: HostState;
    try {
      const text = await readFile(file, 'utf8');
      if (text.length > MAX_STATE_BYTES) throw new HostError('HOST_BAD_REQUEST', `${file} is too large`);
      state = validateState(JSON.parse(text), file);
      if (state.name !== name) throw new HostError('HOST_CONFLICT', `${dataDir} belongs to host '${state.name}', not '${name}'`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      const local = join(dataDir, 'datastores', 'local');
      await mkdir(local, { recursive: true });
      state = { name, cryptoMode: CryptoMode.INCAPABLE, datastores: { local }, vms: [] };
    }
    const store = new HostStore(dataDir, state);
    await store.#save();
    return store;
  }

  get state(): HostState {
    return this.#state;
  }

  /**
   * Applies `change` at once (later readers and updates see it) and resolves once it is on
   * disk. If saving fails the change is undone, unless a later update was already built on it:
   * a refused change must not stay in force, nor be persisted by the next unrelated save.
   */
  async update(change: (s: HostState) => HostState): Promise<HostState> {
    const before = this.#state;
    const next = change(before);
    this.#state = next;
    try {
      await this.#save();
    } catch (err) {
      if (this.#state === next) this.#state = before;
      throw err;
    }
    return next;
  }

  #saving: Promise<void> = Promise.resolve();

  /** Saves are chained so an older snapshot never lands after a newer one. */
  #save(): Promise<void> {
    const next = this.#saving.catch(() => undefined).then(() =>
      writeAtomically(join(this.dataDir, 'host.json'), async (fh) => {
        await fh.writeFile(JSON.stringify(this.#state, null, 2) + '\n');
      }),
    );
    this.#saving = next;
    return next;
  }
}

function validateState(raw: unknown, file: string): HostState {
  const bad = (what: string): never => {
    throw new HostError('HOST_BAD_REQUEST', `${file}: ${what}`);
  };
  if (typeof raw !== 'object' || raw === null) bad('not an object');
  const r = raw as Record<string, unknown>;
  if (typeof r['name'] !== 'string') bad('name missing');
  const mode = r['cryptoMode'];
  if (mode !== 'incapable' && mode !== 'prepared' && mode !== 'safe') bad('cryptoMode invalid');
  const ds = r['datastores'];
  if (typeof ds !== 'object' || ds === null) bad('datastores invalid');
  for (const v of Object.values(ds as object)) if (typeof v !== 'string') bad('datastore path invalid');
  if (!Array.isArray(r['vms'])) bad('vms invalid');
  const vms = (r['vms'] as unknown[]).map((v) => {
    const o = v as Record<string, unknown>;
    if (typeof o?.['uuid'] !== 'string' || typeof o['vmx'] !== 'string') bad('vm entry invalid');
    if (o['incoming'] !== undefined && typeof o['incoming'] !== 'string') bad('vm entry invalid');
    return { uuid: o['uuid'] as string, vmx: o['vmx'] as string, ...(typeof o['incoming'] === 'string' ? { incoming: o['incoming'] } : {}) };
  });
  return {
    name: r['name'] as string,
    cryptoMode: mode as CryptoMode,
    ...(typeof r['hostKeyId'] === 'string' ? { hostKeyId: r['hostKeyId'] } : {}),
    ...(typeof r['managerFingerprint'] === 'string' ? { managerFingerprint: r['managerFingerprint'] } : {}),
    datastores: ds as Record<string, string>,
    vms,
  };
}
