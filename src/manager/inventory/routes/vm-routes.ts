import type { FastifyInstance } from 'fastify';
import { Privilege } from '../../contracts.js';
import type { Inventory } from '../inventory.js';
import { ID, idParams, list, taskRefSchema, vmSchema, VM_NAME } from './schemas.js';
import { entityOf, hostAware, principalOf, vmJson } from './route-util.js';

const taskJson = (t: { id: string; kind: string; state: string }) => ({ id: t.id, kind: t.kind, state: t.state });

export function vmRoutes(app: FastifyInstance, inv: Inventory): void {
  const svc = inv.vmService;

  app.get('/api/vms', {
    config: { privilege: Privilege.SYSTEM_READ },
    schema: { tags: ['vms'], summary: 'List VMs: desired state (policy), observed state and compliance', response: { 200: list('vms', vmSchema) } },
  }, async () => ({ vms: svc.list().map(vmJson) }));

  app.get<{ Params: { id: string } }>('/api/vms/:id', {
    config: { privilege: Privilege.SYSTEM_READ, entity: entityOf.vm },
    schema: { tags: ['vms'], summary: 'One VM with desired / observed state and compliance', params: idParams, response: { 200: vmSchema } },
  }, async (req) => vmJson(svc.view(req.params.id)));

  app.post<{ Body: { name: string; hostId: string; datastoreId: string; folderId?: string; policyId?: string; memoryMiB?: number; disks?: { sizeBytes: number }[] } }>('/api/vms', {
    config: { privilege: Privilege.VM_CREATE, entity: entityOf.bodyFolder('folderId') },
    schema: {
      tags: ['vms'],
      summary: 'Create a VM on a host and datastore; an encryption policy makes it encrypted (also needs Cryptographer.EncryptNew). Runs as a task.',
      body: {
        type: 'object', required: ['name', 'hostId', 'datastoreId'], additionalProperties: false,
        properties: {
          name: VM_NAME, hostId: ID, datastoreId: ID, folderId: ID, policyId: ID,
          memoryMiB: { type: 'integer', minimum: 16, maximum: 65536, default: 128 },
          disks: {
            type: 'array', maxItems: 8, default: [],
            items: { type: 'object', required: ['sizeBytes'], additionalProperties: false, properties: { sizeBytes: { type: 'integer', minimum: 1048576, maximum: 17592186044416, multipleOf: 512 } } },
          },
        },
      },
      response: { 202: { type: 'object', required: ['vm', 'task'], properties: { vm: vmSchema, task: taskRefSchema } } },
    },
  }, async (req, reply) => {
    const b = req.body;
    const r = svc.create({
      name: b.name, hostId: b.hostId, datastoreId: b.datastoreId, disks: b.disks ?? [],
      ...(b.folderId === undefined ? {} : { folderId: b.folderId }),
      ...(b.policyId === undefined ? {} : { policyId: b.policyId }),
      ...(b.memoryMiB === undefined ? {} : { memoryMiB: b.memoryMiB }),
    }, principalOf(req));
    return reply.code(202).send({ vm: vmJson(r.vm), task: taskJson(r.task) });
  });

  app.post<{ Body: { hostId: string; vmxPath: string; folderId?: string; policyId?: string } }>('/api/vms/register', {
    config: { privilege: Privilege.VM_REGISTER, entity: entityOf.bodyFolder('folderId') },
    schema: {
      tags: ['vms'], summary: 'Register an existing VM (its .vmx on a datastore of the host); an encrypted one needs Cryptographer.RegisterVM',
      body: {
        type: 'object', required: ['hostId', 'vmxPath'], additionalProperties: false,
        properties: { hostId: ID, vmxPath: { type: 'string', minLength: 2, maxLength: 1024, pattern: '^/.*\\.vmx$' }, folderId: ID, policyId: ID },
      },
      response: { 201: vmSchema },
    },
  }, async (req, reply) => {
    const b = req.body;
    const v = await hostAware(() => svc.register({
      hostId: b.hostId, vmxPath: b.vmxPath,
      ...(b.folderId === undefined ? {} : { folderId: b.folderId }),
      ...(b.policyId === undefined ? {} : { policyId: b.policyId }),
    }, principalOf(req)));
    return reply.code(201).send(vmJson(v));
  });

  const power = (action: 'on' | 'off' | 'reset', privilege: Privilege, path: string, summary: string): void => {
    app.post<{ Params: { id: string } }>(path, {
      config: { privilege, entity: entityOf.vm },
      schema: { tags: ['vms'], summary, params: idParams, response: { 200: vmSchema } },
    }, async (req) => vmJson(await hostAware(() => svc.power(req.params.id, action, principalOf(req)))));
  };
  power('on', Privilege.VM_POWER_ON, '/api/vms/:id/power-on', 'Power on (an encrypted VM must be unlocked)');
  power('off', Privilege.VM_POWER_OFF, '/api/vms/:id/power-off', 'Power off');
  power('reset', Privilege.VM_POWER_ON, '/api/vms/:id/reset', 'Reset');

  app.post<{ Params: { id: string } }>('/api/vms/:id/reconcile', {
    config: { privilege: Privilege.VM_CHANGE_POLICY, entity: entityOf.vm },
    schema: { tags: ['vms'], summary: 'Rerun the VM\'s unfinished operation from the step where it stopped (a task)', params: idParams, response: { 202: taskRefSchema } },
  }, async (req, reply) => {
    const who = principalOf(req);
    const view = svc.view(req.params.id);
    const kind = view.operation?.kind;
    if (kind === 'create' && view.policy.encryption) inv.platform.access.check(who, Privilege.CRYPTO_ENCRYPT_NEW, { kind: 'vm', id: view.vm.id });
    // encryption operations rerun under the VM's lock, with the privilege that started them
    if (kind !== undefined && kind !== 'create') return reply.code(202).send(taskJson(inv.vmOps.rerun(req.params.id, who)));
    return reply.code(202).send(taskJson(svc.rerun(req.params.id, who)));
  });

  app.delete<{ Params: { id: string } }>('/api/vms/:id', {
    config: { privilege: Privilege.VM_DELETE, entity: entityOf.vm },
    schema: { tags: ['vms'], summary: 'Remove a powered-off VM from the inventory and unregister it from its host (files stay)', params: idParams, response: { 204: { type: 'null' } } },
  }, async (req, reply) => {
    await hostAware(() => svc.remove(req.params.id, principalOf(req)));
    return reply.code(204).send();
  });
}
