import { vmRef, type EventInput } from '../../contracts.js';
import { ManagerError } from '../../errors.js';
import { parseHostVm } from '../hosts/host-replies.js';
import { newKek, pushKek, type ReconcileStep, type StepContext, type StepList } from '../reconcile.js';
import { readVmFacts, type VmFacts } from './vm-facts.js';

/**
 * The step lists of encrypt, decrypt, shallow and deep rekey and per-disk changes, on the one
 * reconcile runner. Every step first reads the VM from its host, so a rerun after a failure, a
 * manager restart or a killed host agent sees what really happened (the host commits each
 * change with one atomic .vmx rename) and either adopts it or does it again.
 */

function post(c: StepContext, e: Omit<EventInput, 'entity' | 'user'>): void {
  const op = c.op();
  c.deps.events.post({ ...e, entity: vmRef(op.vmId), ...(op.user === undefined ? {} : { user: op.user }) });
}

async function facts(c: StepContext): Promise<VmFacts> {
  const vm = c.deps.vms.require(c.op().vmId);
  return readVmFacts(c.deps.hosts, vm.hostId, vm.id);
}

async function hostCall(c: StepContext, method: 'POST' | 'GET', path: string, body?: unknown): Promise<void> {
  const vm = c.deps.vms.require(c.op().vmId);
  const hv = parseHostVm(await c.deps.hosts.call(vm.hostId, method, `/v1/vms/${vm.id}${path}`, body));
  c.deps.vms.recordObserved(vm.id, hv.observation);
}

/** Re-reads the VM from its host into the inventory (the observed side of compliance). */
export const observe: ReconcileStep = {
  name: 'observe',
  async run(c) {
    await hostCall(c, 'GET', '');
  },
};

/** The VM's current KEK(s) pushed again (decrypt needs the old key; the host may have restarted; a half-done rekey needs both). */
export const pushCurrentKeys: ReconcileStep = {
  name: 'pushCurrent',
  async run(c) {
    const vm = c.deps.vms.require(c.op().vmId);
    const refs = new Map(vm.keys.map((k) => [`${k.key.providerId}/${k.key.keyId}`, k.key]));
    const f = await facts(c).catch(() => undefined);
    const providerId = f?.providerId ?? vm.keys[0]?.key.providerId;
    if (providerId !== undefined) for (const keyId of f?.keyIds ?? []) refs.set(`${providerId}/${keyId}`, { providerId, keyId });
    if (refs.size > 0) await c.deps.keys().pushForVm(vm.id, [...refs.values()]);
  },
};

/** `{inPlace: true}` when the operation runs in place (chosen for lack of room, or asked): the host converts every disk where it is. */
const mode = (c: StepContext): { inPlace?: true } => (c.op().spec['inPlace'] === true ? { inPlace: true } : {});

const requireKey = (c: StepContext): { providerId: string; keyId: string } => {
  const k = c.op().key;
  if (k === undefined) throw new ManagerError('MANAGER_INTERNAL', `operation ${c.op().id} has no KEK recorded`);
  return k;
};

export const hostEncrypt: ReconcileStep = {
  name: 'encrypt',
  async run(c) {
    const key = requireKey(c);
    const f = await facts(c);
    if (f.encrypted) {
      if (f.keyId === key.keyId) return; // done before a crash: adopt
      throw new ManagerError('MANAGER_CONFLICT', `VM ${f.name} is already encrypted with key ${f.keyId ?? '?'}, not this operation's ${key.keyId}`);
    }
    await hostCall(c, 'POST', '/encrypt', { providerId: key.providerId, keyId: key.keyId, ...mode(c) });
  },
};

export const hostDecrypt: ReconcileStep = {
  name: 'decrypt',
  async run(c) {
    const f = await facts(c);
    if (!f.encrypted) return;
    await hostCall(c, 'POST', '/decrypt', mode(c));
  },
};

/** Was the chain under two KEKs when this operation started or failed (the alarm to clear)? */
const MIXED = 'mixedKeysSeen';

function rekeyStep(deep: boolean): ReconcileStep {
  return {
    name: deep ? 'deepRekey' : 'rekey',
    async run(c) {
      const key = requireKey(c);
      const f = await facts(c);
      if (f.keyId === key.keyId && !f.mixedKeys) return; // finished before a crash
      if (f.mixedKeys) c.deps.ops.patchSpec(c.op().id, { [MIXED]: true });
      await hostCall(c, 'POST', '/rekey', { providerId: key.providerId, keyId: key.keyId, deep, ...(deep ? mode(c) : {}) });
    },
    async onFailure(c, err) {
      const op = c.op();
      const f = await facts(c).catch(() => undefined);
      const msg = err instanceof Error ? err.message : String(err);
      if (f?.mixedKeys === true) {
        c.deps.ops.patchSpec(op.id, { [MIXED]: true });
        await hostCall(c, 'GET', '').catch(() => undefined);
        post(c, {
          type: 'vm.diskChainMixedKeys', severity: 'error',
          message: `VM ${f.name}: the shallow rekey stopped part way; some layers of its disk chain use key ${op.key?.keyId ?? '?'}, others the old key. Rerun the rekey to finish it`,
          data: { keyId: op.key?.keyId ?? '' },
        });
      }
      post(c, { type: 'vm.rekeyFailed', severity: 'error', message: `${deep ? 'deep' : 'shallow'} rekey of VM ${f?.name ?? op.vmId} failed: ${msg}` });
    },
  };
}

/** Per-disk policy (Enable-/Disable-VMDiskEncryption): the host changes one disk, keyed by the VM's KEK. */
function diskStep(encrypt: boolean): ReconcileStep {
  return {
    name: encrypt ? 'diskEncrypt' : 'diskDecrypt',
    async run(c) {
      const diskId = String(c.op().spec['diskId'] ?? '');
      const f = await facts(c);
      const disk = f.disks.find((d) => d.id === diskId);
      if (disk === undefined) throw new ManagerError('MANAGER_NOT_FOUND', `VM ${f.name} has no disk ${diskId}`);
      const isEnc = disk.encrypted ?? disk.layers.some((l) => l.format !== 'raw');
      if (isEnc === encrypt) return;
      await hostCall(c, 'POST', `/disks/${encrypt ? 'encrypt' : 'decrypt'}`, { disk: f.disks.indexOf(disk), ...mode(c) });
    },
  };
}

function finish(kind: string): ReconcileStep {
  return {
    name: 'finish',
    async run(c) {
      const op = c.op();
      const vm = c.deps.vms.require(op.vmId);
      const key = vm.keys.find((k) => k.part === 'vm')?.key;
      const how = op.spec['inPlace'] === true ? ' in place' : '';
      switch (kind) {
        case 'encrypt':
          post(c, { type: 'vm.encrypted', severity: 'info', message: `VM ${vm.name} encrypted${how} with key ${key?.keyId ?? '?'} of key provider ${key?.providerId ?? '?'}`, data: { keyId: key?.keyId ?? '', providerId: key?.providerId ?? '' } });
          break;
        case 'decrypt':
          post(c, { type: 'vm.decrypted', severity: 'warning', message: `VM ${vm.name} decrypted${how}: its disks and configuration are now in clear on datastore ${vm.datastoreId}` });
          break;
        case 'rekey':
        case 'deepRekey':
          post(c, { type: 'vm.rekeyed', severity: 'info', message: `VM ${vm.name} ${kind === 'deepRekey' ? 'deep' : 'shallow'} rekeyed${how} to key ${key?.keyId ?? '?'}`, data: { keyId: key?.keyId ?? '', deep: kind === 'deepRekey' } });
          if (op.spec[MIXED] === true) post(c, { type: 'vm.diskChainConsistent', severity: 'info', message: `VM ${vm.name}: every layer of its disk chain uses key ${key?.keyId ?? '?'} again` });
          break;
        case 'diskEncrypt':
        case 'diskDecrypt':
          post(c, { type: kind === 'diskEncrypt' ? 'vm.disk.encrypted' : 'vm.disk.decrypted', severity: kind === 'diskEncrypt' ? 'info' : 'warning', message: `VM ${vm.name}: disk ${String(op.spec['diskId'] ?? '?')} ${kind === 'diskEncrypt' ? 'encrypted' : 'decrypted'}${how}` });
          break;
      }
    },
  };
}

export const CRYPTO_STEPS: Record<string, StepList> = {
  encrypt: [newKek, pushKek, hostEncrypt, observe, finish('encrypt')],
  decrypt: [pushCurrentKeys, hostDecrypt, observe, finish('decrypt')],
  rekey: [newKek, pushCurrentKeys, pushKek, rekeyStep(false), observe, finish('rekey')],
  deepRekey: [newKek, pushCurrentKeys, pushKek, rekeyStep(true), observe, finish('deepRekey')],
  diskEncrypt: [pushCurrentKeys, diskStep(true), observe, finish('diskEncrypt')],
  diskDecrypt: [pushCurrentKeys, diskStep(false), observe, finish('diskDecrypt')],
};
