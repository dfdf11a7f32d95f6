import type { FastifyInstance } from 'fastify';
import { Privilege } from '../../contracts.js';
import type { Inventory } from '../inventory.js';
import { encryptionInfo } from '../ops/encryption-info.js';
import { ID, idParams, taskRefSchema, vmSchema, VM_NAME } from './schemas.js';
import { entityOf, hostAware, principalOf, vmJson } from './route-util.js';
import { encryptionInfoSchema, settingsSchema, snapshotSchema } from './vm-ops-schemas.js';
import type { PeerRef } from '../cross-manager/peer-manager.js';
import { migrationsOf } from './migrate-wiring.js';
import { peerSchema, selfUrl } from './migrate-routes.js';

const taskJson = (t: { id: string; kind: string; state: string }) => ({ id: t.id, kind: t.kind, state: t.state });
const SNAP_ID = { type: 'string', minLength: 1, maxLength: 40, pattern: '^[a-z0-9-]+$' } as const;
const DISK_ID = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' } as const;
/** Convert the disks in place (no second copy; the original is not kept): asked for, or chosen by the manager when the datastore cannot hold the copy. */
const IN_PLACE = { type: 'boolean', default: false, description: 'convert the disks where they are (no copy; the original is not kept). Without it the manager still goes in place when the datastore cannot hold the copy' } as const;
const vmAndTask = { type: 'object', required: ['vm'], properties: { vm: vmSchema, task: taskRefSchema } } as const;

/** VM encryption operations (docs/manager.md "VM operations"): each long one answers with a task. */
export function vmOpsRoutes(app: FastifyInstance, inv: Inventory): void {
  const ops = inv.vmOps;

  app.post<{ Params: { id: string }; Body: { policyId: string; force?: boolean; inPlace?: boolean } }>('/api/vms/:id/policy', {
    config: { privilege: Privilege.VM_CHANGE_POLICY, entity: entityOf.vm },
    schema: {
      tags: ['vm-ops'],
      summary: 'Give the VM a storage policy: an encryption policy encrypts it (Cryptographer.Encrypt), Datastore Default decrypts it (Cryptographer.Decrypt); powered off, no snapshots. force encrypts a VM marked as hosting the key server or the manager',
      params: idParams,
      body: { type: 'object', required: ['policyId'], additionalProperties: false, properties: { policyId: ID, force: { type: 'boolean', default: false }, inPlace: IN_PLACE } },
      response: { 200: vmAndTask, 202: vmAndTask },
    },
  }, async (req, reply) => {
    const t = await hostAware(() => ops.changePolicy(req.params.id, req.body.policyId, principalOf(req), { force: req.body.force === true, inPlace: req.body.inPlace === true }));
    const vm = vmJson(inv.vmService.view(req.params.id));
    return t === undefined ? reply.code(200).send({ vm }) : reply.code(202).send({ vm, task: taskJson(t) });
  });

  app.post<{ Params: { id: string }; Body: { deep?: boolean; providerId?: string; inPlace?: boolean } }>('/api/vms/:id/rekey', {
    config: { privilege: Privilege.CRYPTO_RECRYPT, entity: entityOf.vm },
    schema: {
      tags: ['vm-ops'],
      summary: 'Set-VMEncryptionKey: shallow (new KEK, powered on or off, single-branch snapshots) or deep (new DEKs, every byte rewritten; powered off, no snapshots)',
      params: idParams,
      body: { type: 'object', additionalProperties: false, properties: { deep: { type: 'boolean', default: false }, providerId: { type: 'string', minLength: 1, maxLength: 256 }, inPlace: IN_PLACE } },
      response: { 202: taskRefSchema },
    },
  }, async (req, reply) => {
    const b = req.body ?? {};
    const t = await hostAware(() => ops.rekey(req.params.id, principalOf(req), { deep: b.deep === true, inPlace: b.inPlace === true, ...(b.providerId === undefined ? {} : { providerId: b.providerId }) }));
    return reply.code(202).send(taskJson(t));
  });

  app.post<{ Params: { id: string; diskId: string }; Body: { policyId: string; inPlace?: boolean } }>('/api/vms/:id/disks/:diskId/policy', {
    config: { privilege: Privilege.VM_CHANGE_POLICY, entity: entityOf.vm },
    schema: {
      tags: ['vm-ops'],
      summary: 'Enable-/Disable-VMDiskEncryption: one disk by its own policy (Cryptographer.Encrypt / Decrypt); only when the VM home is encrypted',
      params: { type: 'object', required: ['id', 'diskId'], additionalProperties: false, properties: { id: ID, diskId: DISK_ID } },
      body: { type: 'object', required: ['policyId'], additionalProperties: false, properties: { policyId: ID, inPlace: IN_PLACE } },
      response: { 200: vmAndTask, 202: vmAndTask },
    },
  }, async (req, reply) => {
    const t = await hostAware(() => ops.diskPolicy(req.params.id, req.params.diskId, req.body.policyId, principalOf(req), { inPlace: req.body.inPlace === true }));
    const vm = vmJson(inv.vmService.view(req.params.id));
    return t === undefined ? reply.code(200).send({ vm }) : reply.code(202).send({ vm, task: taskJson(t) });
  });

  app.get<{ Params: { id: string } }>('/api/vms/:id/encryption', {
    config: { privilege: Privilege.SYSTEM_READ, entity: entityOf.vm },
    schema: { tags: ['vm-ops'], summary: 'Get-VMEncryptionInfo: policy, provider, key per layer, locked, compliance, which parts use which key (read from the host)', params: idParams, response: { 200: encryptionInfoSchema } },
  }, async (req) => hostAware(async () => {
    const view = inv.vmService.view(req.params.id);
    const f = await ops.facts(view.vm);
    return encryptionInfo(view.vm, view.policy, view.compliance, f);
  }));

  // ---- snapshots (a tree) ----
  app.get<{ Params: { id: string } }>('/api/vms/:id/snapshots', {
    config: { privilege: Privilege.SYSTEM_READ, entity: entityOf.vm },
    schema: { tags: ['vm-ops'], summary: 'The snapshot tree (parentId links) and the snapshot the VM runs from', params: idParams, response: { 200: { type: 'object', required: ['snapshots'], properties: { snapshots: { type: 'array', items: snapshotSchema }, currentSnapshotId: { type: 'string' } } } } },
  }, async (req) => hostAware(() => inv.snapshots.list(req.params.id)));

  app.post<{ Params: { id: string }; Body: { name: string; memory?: boolean } }>('/api/vms/:id/snapshots', {
    config: { privilege: Privilege.VM_SNAPSHOT_CREATE, entity: entityOf.vm },
    schema: {
      tags: ['vm-ops'], summary: 'Take a disk-only snapshot (memory snapshots are refused for encrypted VMs)', params: idParams,
      body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 128 }, memory: { type: 'boolean', default: false } } },
      response: { 201: snapshotSchema },
    },
  }, async (req, reply) => reply.code(201).send(await hostAware(() => inv.snapshots.create(req.params.id, req.body.name, req.body.memory === true, principalOf(req)))));

  const snapParams = { type: 'object', required: ['id', 'snapshotId'], additionalProperties: false, properties: { id: ID, snapshotId: SNAP_ID } } as const;
  app.post<{ Params: { id: string; snapshotId: string } }>('/api/vms/:id/snapshots/:snapshotId/revert', {
    config: { privilege: Privilege.VM_SNAPSHOT_REVERT, entity: entityOf.vm },
    schema: { tags: ['vm-ops'], summary: 'Revert to a snapshot (powered off); later snapshots stay (a new one then starts a branch)', params: snapParams, response: { 200: vmSchema } },
  }, async (req) => {
    await hostAware(() => inv.snapshots.revert(req.params.id, req.params.snapshotId, principalOf(req)));
    return vmJson(inv.vmService.view(req.params.id));
  });

  app.delete<{ Params: { id: string; snapshotId: string } }>('/api/vms/:id/snapshots/:snapshotId', {
    config: { privilege: Privilege.VM_SNAPSHOT_REMOVE, entity: entityOf.vm },
    schema: { tags: ['vm-ops'], summary: 'Remove a snapshot (powered off), consolidating its layer', params: snapParams, response: { 200: vmSchema } },
  }, async (req) => {
    await hostAware(() => inv.snapshots.remove(req.params.id, req.params.snapshotId, principalOf(req)));
    return vmJson(inv.vmService.view(req.params.id));
  });

  // ---- features refused for encrypted VMs ----
  const power = (action: 'suspend' | 'resume'): void => {
    app.post<{ Params: { id: string } }>(`/api/vms/:id/${action}`, {
      config: { privilege: Privilege.VM_POWER_OFF, entity: entityOf.vm },
      schema: { tags: ['vm-ops'], summary: `${action === 'suspend' ? 'Suspend' : 'Resume'} (refused for encrypted VMs)`, params: idParams, response: { 200: vmSchema } },
    }, async (req) => {
      await hostAware(() => inv.features.suspend(req.params.id, action, principalOf(req)));
      return vmJson(inv.vmService.view(req.params.id));
    });
  };
  power('suspend');
  power('resume');

  app.get<{ Params: { id: string } }>('/api/vms/:id/settings', {
    config: { privilege: Privilege.SYSTEM_READ, entity: entityOf.vm },
    schema: { tags: ['vm-ops'], summary: 'Features and marks the encryption rules read', params: idParams, response: { 200: settingsSchema } },
  }, async (req) => inv.features.get(req.params.id));

  app.post<{ Params: { id: string }; Body: Record<string, boolean | number> & { migrateEncryption?: 'disabled' | 'opportunistic' | 'required' } }>('/api/vms/:id/settings', {
    config: { privilege: Privilege.VM_CHANGE_POLICY, entity: entityOf.vm },
    schema: {
      tags: ['vm-ops'],
      summary: 'Turn features on/off (fault tolerance, replication, content library, serial/parallel ports: refused for encrypted VMs) and mark a VM as hosting the key server or the manager (circular-dependency guard)',
      params: idParams,
      body: {
        type: 'object', additionalProperties: false, minProperties: 1,
        properties: {
          hostsKeyServer: { type: 'boolean' }, hostsManager: { type: 'boolean' }, faultTolerance: { type: 'boolean' }, replication: { type: 'boolean' },
          contentLibrary: { type: 'boolean' }, serialPorts: { type: 'integer', minimum: 0, maximum: 4 }, parallelPorts: { type: 'integer', minimum: 0, maximum: 4 },
          migrateEncryption: { type: 'string', enum: ['disabled', 'opportunistic', 'required'] },
        },
      },
      response: { 200: settingsSchema },
    },
  }, async (req) => hostAware(() => {
    if ('migrateEncryption' in req.body) inv.vmOps.migrating.refuseWhileMigrating(req.params.id, 'a change of its migrateEncryption setting');
    return inv.features.set(req.params.id, req.body, principalOf(req));
  }));

  app.post<{ Params: { id: string }; Body: { format?: 'backup' | 'ovf'; name: string; datastoreId?: string } }>('/api/vms/:id/export', {
    config: { privilege: Privilege.VM_DOWNLOAD, entity: entityOf.vm },
    schema: {
      tags: ['vm-ops'],
      summary: 'Backup export: an unencrypted copy of the VM (as a backup product reading through the host); an encrypted VM also needs Cryptographer.Decrypt. format ovf is refused for encrypted VMs',
      params: idParams,
      body: { type: 'object', required: ['name'], additionalProperties: false, properties: { format: { type: 'string', enum: ['backup', 'ovf'], default: 'backup' }, name: VM_NAME, datastoreId: ID } },
      response: { 202: taskRefSchema },
    },
  }, async (req, reply) => {
    const b = req.body;
    const t = await hostAware(() => inv.backups.exportVm(req.params.id, { format: b.format ?? 'backup', name: b.name, ...(b.datastoreId === undefined ? {} : { datastoreId: b.datastoreId }) }, principalOf(req)));
    return reply.code(202).send(taskJson(t));
  });

  app.post<{ Params: { id: string }; Body: { name: string; hostId?: string; datastoreId?: string; policyId?: string; recrypt?: 'shallow' | 'deep'; manager?: PeerRef; host?: string } }>('/api/vms/:id/clone', {
    config: { privilege: Privilege.VM_CLONE, entity: entityOf.vm },
    schema: {
      tags: ['vm-ops'],
      summary: 'Clone: keep, encrypt (an encryption policy for a plain source), decrypt (Datastore Default for an encrypted source) or recrypt shallow|deep; to another host through a shared datastore. Cryptographer.Clone + Encrypt / Decrypt / Recrypt as needed',
      params: idParams,
      body: {
        type: 'object', required: ['name'], additionalProperties: false,
        properties: {
          name: VM_NAME, hostId: ID, datastoreId: ID, policyId: ID, recrypt: { type: 'string', enum: ['shallow', 'deep'] },
          manager: peerSchema, host: { type: 'string', minLength: 1, maxLength: 256 },
        },
      },
      response: { 202: taskRefSchema },
    },
  }, async (req, reply) => {
    const b = req.body;
    if (b.manager !== undefined) {
      // to another manager (seed 001): copied here on the shared datastore, then moved there powered off; host = the host there
      const peer = b.manager;
      const t = await hostAware(() => migrationsOf(inv).cloneAcross(req.params.id, {
        name: b.name, manager: peer, host: b.host ?? b.hostId ?? '', self: selfUrl(req), ...(b.datastoreId === undefined ? {} : { datastoreId: b.datastoreId }),
        ...(b.policyId === undefined ? {} : { policyId: b.policyId }), ...(b.recrypt === undefined ? {} : { recrypt: b.recrypt }),
      }, principalOf(req)));
      return reply.code(202).send(taskJson(t));
    }
    const t = await hostAware(() => inv.backups.clone(req.params.id, {
      name: b.name, ...(b.hostId === undefined ? {} : { hostId: b.hostId }), ...(b.datastoreId === undefined ? {} : { datastoreId: b.datastoreId }),
      ...(b.policyId === undefined ? {} : { policyId: b.policyId }), ...(b.recrypt === undefined ? {} : { recrypt: b.recrypt }),
    }, principalOf(req)));
    return reply.code(202).send(taskJson(t));
  });

  app.post<{ Params: { id: string }; Body: { name: string } }>('/api/vms/:id/instant-clone', {
    config: { privilege: Privilege.VM_CLONE, entity: entityOf.vm },
    schema: {
      tags: ['vm-ops'], summary: 'Instant clone: the child runs on the parent\'s disks with its keys; afterwards neither may be rekeyed, decrypted or change policy',
      params: idParams, body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: VM_NAME } }, response: { 202: taskRefSchema },
    },
  }, async (req, reply) => reply.code(202).send(taskJson(await hostAware(() => inv.backups.instantClone(req.params.id, { name: req.body.name }, principalOf(req))))));

  app.post<{ Body: { from: string; name: string; hostId: string; datastoreId: string; policyId?: string; folderId?: string } }>('/api/vms/restore', {
    config: { privilege: Privilege.VM_UPLOAD, entity: entityOf.bodyFolder('folderId') },
    schema: {
      tags: ['vm-ops'], summary: 'Restore a backup export as a new VM following the target policy (an encryption policy also needs Cryptographer.EncryptNew; Datastore Default posts a warning that it is unencrypted)',
      body: {
        type: 'object', required: ['from', 'name', 'hostId', 'datastoreId'], additionalProperties: false,
        properties: { from: { type: 'string', minLength: 2, maxLength: 1024, pattern: '^/' }, name: VM_NAME, hostId: ID, datastoreId: ID, policyId: ID, folderId: ID },
      },
      response: { 202: taskRefSchema },
    },
  }, async (req, reply) => {
    const b = req.body;
    const t = await hostAware(() => inv.backups.restore({
      from: b.from, name: b.name, hostId: b.hostId, datastoreId: b.datastoreId,
      ...(b.policyId === undefined ? {} : { policyId: b.policyId }), ...(b.folderId === undefined ? {} : { folderId: b.folderId }),
    }, principalOf(req)));
    return reply.code(202).send(taskJson(t));
  });
}
