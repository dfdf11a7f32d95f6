import type { FastifyInstance } from 'fastify';
import { EntityKind, Privilege } from '../../contracts.js';
import type { Inventory } from '../inventory.js';
import { clusterSchema, folderSchema, ID, idParams, list, NAME } from './schemas.js';
import { entityOf, principalOf } from './route-util.js';

/** Folders, clusters (HA flag) and the whole tree in one call (what a console draws). */
export function treeRoutes(app: FastifyInstance, inv: Inventory): void {
  app.get('/api/folders', {
    config: { privilege: Privilege.SYSTEM_READ },
    schema: { tags: ['inventory'], summary: 'List folders', response: { 200: list('folders', folderSchema) } },
  }, async () => ({ folders: inv.tree.listFolders() }));

  app.post<{ Body: { name: string; parentId?: string } }>('/api/folders', {
    config: { privilege: Privilege.FOLDER_CREATE, entity: entityOf.bodyFolder('parentId') },
    schema: {
      tags: ['inventory'], summary: 'Create a folder (under the root or parentId)',
      body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: NAME, parentId: ID } },
      response: { 201: folderSchema },
    },
  }, async (req, reply) => {
    const f = inv.tree.createFolder(req.body.name, req.body.parentId);
    inv.platform.events.post({ type: 'folder.created', severity: 'info', entity: { kind: EntityKind.FOLDER, id: f.id }, user: principalOf(req).user, message: `folder ${f.name} created` });
    return reply.code(201).send(f);
  });

  app.delete<{ Params: { id: string } }>('/api/folders/:id', {
    config: { privilege: Privilege.FOLDER_CREATE, entity: entityOf.folder },
    schema: { tags: ['inventory'], summary: 'Delete an empty folder', params: idParams, response: { 204: { type: 'null' } } },
  }, async (req, reply) => {
    inv.tree.deleteFolder(req.params.id);
    return reply.code(204).send();
  });

  app.get('/api/clusters', {
    config: { privilege: Privilege.SYSTEM_READ },
    schema: { tags: ['inventory'], summary: 'List clusters', response: { 200: list('clusters', clusterSchema) } },
  }, async () => ({ clusters: inv.tree.listClusters() }));

  app.post<{ Body: { name: string; ha?: boolean } }>('/api/clusters', {
    config: { privilege: Privilege.CLUSTER_EDIT },
    schema: {
      tags: ['inventory'], summary: 'Create a cluster',
      body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: NAME, ha: { type: 'boolean', default: false } } },
      response: { 201: clusterSchema },
    },
  }, async (req, reply) => {
    const c = inv.tree.createCluster(req.body.name, req.body.ha === true);
    inv.platform.events.post({ type: 'cluster.created', severity: 'info', entity: { kind: EntityKind.CLUSTER, id: c.id }, user: principalOf(req).user, message: `cluster ${c.name} created (HA ${c.ha ? 'on' : 'off'})` });
    return reply.code(201).send(c);
  });

  app.post<{ Params: { id: string }; Body: { ha: boolean } }>('/api/clusters/:id/ha', {
    config: { privilege: Privilege.CLUSTER_EDIT, entity: entityOf.cluster },
    schema: {
      tags: ['inventory'], summary: 'Turn vSphere HA on or off (HA on: VM keys go to every host of the cluster)',
      params: idParams,
      body: { type: 'object', required: ['ha'], additionalProperties: false, properties: { ha: { type: 'boolean' } } },
      response: { 200: clusterSchema },
    },
  }, async (req) => {
    const c = inv.tree.setClusterHa(req.params.id, req.body.ha);
    inv.platform.events.post({ type: 'cluster.haChanged', severity: 'info', entity: { kind: EntityKind.CLUSTER, id: c.id }, user: principalOf(req).user, message: `cluster ${c.name}: HA ${c.ha ? 'on' : 'off'}` });
    return c;
  });

  app.delete<{ Params: { id: string } }>('/api/clusters/:id', {
    config: { privilege: Privilege.CLUSTER_EDIT, entity: entityOf.cluster },
    schema: { tags: ['inventory'], summary: 'Delete an empty cluster', params: idParams, response: { 204: { type: 'null' } } },
  }, async (req, reply) => {
    inv.tree.deleteCluster(req.params.id);
    return reply.code(204).send();
  });

  app.get('/api/entities', {
    config: { privilege: Privilege.SYSTEM_READ },
    schema: {
      tags: ['inventory'], summary: 'The inventory tree: every object with its parent',
      response: {
        200: list('entities', {
          type: 'object', required: ['kind', 'id', 'name'],
          properties: { kind: { type: 'string' }, id: { type: 'string' }, name: { type: 'string' }, parent: { type: 'object', properties: { kind: { type: 'string' }, id: { type: 'string' } } } },
        }),
      },
    },
  }, async () => {
    const root = { kind: EntityKind.ROOT, id: 'root' };
    const at = (kind: string, id: string | undefined) => (id === undefined ? root : { kind, id });
    return {
      entities: [
        { ...root, name: 'root' },
        ...inv.tree.listFolders().map((f) => ({ kind: EntityKind.FOLDER, id: f.id, name: f.name, parent: at(EntityKind.FOLDER, f.parentId) })),
        ...inv.tree.listClusters().map((c) => ({ kind: EntityKind.CLUSTER, id: c.id, name: c.name, parent: root })),
        ...inv.hosts.list().map((h) => ({ kind: EntityKind.HOST, id: h.id, name: h.name, parent: at(EntityKind.CLUSTER, h.clusterId) })),
        ...inv.datastores.list().map((d) => ({ kind: EntityKind.DATASTORE, id: d.id, name: d.name, parent: root })),
        ...inv.vms.list().map((v) => ({ kind: EntityKind.VM, id: v.id, name: v.name, parent: at(EntityKind.FOLDER, v.folderId) })),
      ],
    };
  });
}
