import { readdir } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { HostError } from '../errors.js';
import { datastoreOf } from '../datastores.js';
import { CopyMode } from '../vm/vm-copy.js';
import { cloneVm, exportVm, restoreVm } from '../vm/vm-copy-ops.js';
import { instantCloneVm } from '../vm/instant-clone.js';
import { optString, readJsonBody, reqString, sendJson } from './http-util.js';
import { optionalKey } from './routes-vms.js';
import { UUID, type Route } from './route-types.js';

/** Clone modes: the manager's `recrypt` + `deep` flag names shallow / deep too. */
function modeOf(body: Record<string, unknown>): CopyMode {
  const m = reqString(body, 'mode', 16);
  if (m === 'recrypt') return body['deep'] === true ? CopyMode.DEEP : CopyMode.SHALLOW;
  if (!(Object.values(CopyMode) as string[]).includes(m)) throw new HostError('HOST_BAD_REQUEST', "'mode' must be keep, encrypt, decrypt, shallow, deep or recrypt");
  return m as CopyMode;
}

/** `from`/`vmx`: an export's .vmx, or its directory holding exactly one. */
async function exportVmx(body: Record<string, unknown>): Promise<string> {
  const from = optString(body, 'vmx', 1024) ?? reqString(body, 'from', 1024);
  if (!isAbsolute(from)) throw new HostError('HOST_BAD_REQUEST', "'from' must be an absolute path");
  if (from.endsWith('.vmx')) return from;
  const names = await readdir(from).catch(() => {
    throw new HostError('HOST_NOT_FOUND', `${from}: no such export directory`);
  });
  const vmx = names.filter((n) => n.endsWith('.vmx'));
  if (vmx.length !== 1 || vmx[0] === undefined) throw new HostError('HOST_NOT_FOUND', `${from} does not hold exactly one .vmx`);
  return join(from, vmx[0]);
}

/** Clones, instant clones, export and restore. */
export const vmCopyRoutes: Route[] = [
  {
    method: 'POST', re: new RegExp(`^/v1/vms/${UUID}/clone$`),
    handler: async (req, res, p, d) => {
      const body = await readJsonBody(req);
      const key = optionalKey(body);
      const r = await cloneVm(d.vms.inventory, p[0] ?? '', {
        name: reqString(body, 'name', 64), datastore: optString(body, 'datastore', 64) ?? 'local', mode: modeOf(body),
        register: body['register'] !== false, ...(key === undefined ? {} : { key }),
      });
      sendJson(res, 201, body['register'] === false ? r : await d.vms.get(r.uuid));
    },
  },
  {
    method: 'POST', re: new RegExp(`^/v1/vms/${UUID}/instant-clone$`),
    handler: async (req, res, p, d) => {
      const body = await readJsonBody(req);
      const uuid = p[0] ?? '';
      const parentDs = datastoreOf(d.vms.inventory.ctx, join(d.vms.inventory.vmxOf(uuid), '..', '..'));
      const r = await instantCloneVm(d.vms.inventory, uuid, { name: reqString(body, 'name', 64), datastore: optString(body, 'datastore', 64) ?? parentDs?.name ?? 'local' });
      sendJson(res, 201, await d.vms.get(r.uuid));
    },
  },
  {
    method: 'POST', re: new RegExp(`^/v1/vms/${UUID}/export$`),
    handler: async (req, res, p, d) => {
      const body = await readJsonBody(req);
      let path = optString(body, 'path', 1024);
      if (path === undefined) {
        const ds = d.store.state.datastores[reqString(body, 'datastore', 64)];
        if (ds === undefined) throw new HostError('HOST_NOT_FOUND', 'no such datastore');
        const name = reqString(body, 'name', 64);
        if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) throw new HostError('HOST_BAD_REQUEST', 'name must match [A-Za-z0-9][A-Za-z0-9._-]*');
        path = join(ds, name);
      }
      const r = await exportVm(d.vms.inventory, p[0] ?? '', path);
      sendJson(res, 201, { ...r, path });
    },
  },
  {
    method: 'POST', re: /^\/v1\/vms\/restore$/,
    handler: async (req, res, _p, d) => {
      const body = await readJsonBody(req);
      const key = optionalKey(body);
      const r = await restoreVm(d.vms.inventory, {
        vmx: await exportVmx(body), name: reqString(body, 'name', 64), datastore: optString(body, 'datastore', 64) ?? 'local',
        ...(key === undefined ? {} : { key }),
      });
      sendJson(res, 201, await d.vms.get(r.uuid));
    },
  },
];
