import { HostError } from '../errors.js';
import { validateKeyId } from '../keys/key-cache.js';
import { optString, readJsonBody, reqInt, reqString, sendJson } from './http-util.js';
import type { CreateVmSpec } from '../vm/vm-create.js';
import { UUID, type Route } from './route-types.js';

/** VM inventory, power, snapshots, I/O and whole-VM encryption changes. */
export const vmRoutes: Route[] = [
  { method: 'GET', re: /^\/v1\/vms$/, handler: async (_q, res, _p, d) => sendJson(res, 200, { vms: await d.vms.list() }) },
  {
    method: 'POST', re: /^\/v1\/vms$/,
    handler: async (req, res, _p, d) => {
      const body = await readJsonBody(req);
      const disks = body['disks'];
      if (!Array.isArray(disks)) throw new HostError('HOST_BAD_REQUEST', "'disks' must be an array of {sizeBytes}");
      const encRaw = body['encryption'];
      let encryption: CreateVmSpec['encryption'];
      if (encRaw !== undefined && encRaw !== null) {
        const e = encRaw as Record<string, unknown>;
        encryption = { providerId: reqString(e, 'providerId', 256), keyId: validateKeyId(e['keyId']) };
      }
      const opt = (k: string): Record<string, string> => {
        const v = optString(body, k);
        return v === undefined ? {} : { [k]: v };
      };
      const spec: CreateVmSpec = {
        name: reqString(body, 'name', 64),
        datastore: optString(body, 'datastore', 64) ?? 'local',
        memoryMiB: body['memoryMiB'] === undefined ? 128 : reqInt(body, 'memoryMiB', 16, 65536),
        disks: disks.map((x: unknown) => ({ sizeBytes: reqInt((x ?? {}) as Record<string, unknown>, 'sizeBytes', 1 << 20, 2 ** 44) })),
        serialPorts: body['serialPorts'] === undefined ? 0 : reqInt(body, 'serialPorts', 0, 4),
        parallelPorts: body['parallelPorts'] === undefined ? 0 : reqInt(body, 'parallelPorts', 0, 4),
        ...(encryption === undefined ? {} : { encryption }),
        ...opt('storagePolicy'), ...opt('kernel'), ...opt('initrd'), ...opt('append'),
      };
      sendJson(res, 201, await d.vms.create(spec));
    },
  },
  {
    method: 'POST', re: /^\/v1\/vms\/register$/,
    handler: async (req, res, _p, d) => sendJson(res, 201, await d.vms.register(reqString(await readJsonBody(req), 'vmx', 1024))),
  },
  { method: 'GET', re: new RegExp(`^/v1/vms/${UUID}$`), handler: async (_q, res, p, d) => sendJson(res, 200, await d.vms.get(p[0] ?? '')) },
  {
    method: 'DELETE', re: new RegExp(`^/v1/vms/${UUID}$`),
    handler: async (_q, res, p, d) => {
      await d.vms.unregister(p[0] ?? '');
      sendJson(res, 200, { unregistered: p[0] });
    },
  },
  {
    method: 'POST', re: new RegExp(`^/v1/vms/${UUID}/power$`),
    handler: async (req, res, p, d) => sendJson(res, 200, await d.vms.power(p[0] ?? '', reqString(await readJsonBody(req), 'action', 16))),
  },
  {
    method: 'GET', re: new RegExp(`^/v1/vms/${UUID}/snapshots$`),
    handler: async (_q, res, p, d) => sendJson(res, 200, await d.vms.snapshotList(p[0] ?? '')),
  },
  {
    method: 'POST', re: new RegExp(`^/v1/vms/${UUID}/snapshots$`),
    handler: async (req, res, p, d) => {
      const body = await readJsonBody(req);
      sendJson(res, 201, await d.vms.snapshotCreate(p[0] ?? '', reqString(body, 'name', 128), body['memory'] === true));
    },
  },
  {
    method: 'POST', re: new RegExp(`^/v1/vms/${UUID}/snapshots/([a-z0-9-]{1,40})/revert$`),
    handler: async (_q, res, p, d) => {
      await d.vms.snapshotRevert(p[0] ?? '', p[1] ?? '');
      sendJson(res, 200, await d.vms.get(p[0] ?? ''));
    },
  },
  {
    method: 'DELETE', re: new RegExp(`^/v1/vms/${UUID}/snapshots/([a-z0-9-]{1,40})$`),
    handler: async (_q, res, p, d) => {
      await d.vms.snapshotDelete(p[0] ?? '', p[1] ?? '');
      sendJson(res, 200, await d.vms.get(p[0] ?? ''));
    },
  },
  {
    method: 'POST', re: new RegExp(`^/v1/vms/${UUID}/qemu-io$`),
    handler: async (req, res, p, d) => {
      const body = await readJsonBody(req);
      const output = await d.vms.qemuIo(p[0] ?? '', body['disk'] === undefined ? 0 : reqInt(body, 'disk', 0, 7), reqString(body, 'command', 200));
      sendJson(res, 200, { output });
    },
  },
  {
    method: 'POST', re: new RegExp(`^/v1/vms/${UUID}/memory-dump$`),
    handler: async (_q, res, p, d) => sendJson(res, 201, { file: await d.vms.memoryDump(p[0] ?? '') }),
  },
  {
    method: 'POST', re: new RegExp(`^/v1/vms/${UUID}/rekey$`),
    handler: async (req, res, p, d) => {
      const body = await readJsonBody(req);
      const to = { providerId: reqString(body, 'providerId', 256), keyId: validateKeyId(body['keyId']) };
      sendJson(res, 200, await d.vms.rekey(p[0] ?? '', to, body['deep'] === true, inPlaceOf(body)));
    },
  },
  {
    method: 'POST', re: new RegExp(`^/v1/vms/${UUID}/encrypt$`),
    handler: async (req, res, p, d) => {
      const body = await readJsonBody(req);
      sendJson(res, 200, await d.vms.encrypt(p[0] ?? '', { providerId: reqString(body, 'providerId', 256), keyId: validateKeyId(body['keyId']) }, inPlaceOf(body)));
    },
  },
  {
    method: 'POST', re: new RegExp(`^/v1/vms/${UUID}/decrypt$`),
    handler: async (req, res, p, d) => sendJson(res, 200, await d.vms.decrypt(p[0] ?? '', inPlaceOf(await readJsonBody(req)))),
  },
  {
    method: 'POST', re: new RegExp(`^/v1/vms/${UUID}/disks/encrypt$`),
    handler: async (req, res, p, d) => {
      const body = await readJsonBody(req);
      const key = optionalKey(body);
      sendJson(res, 200, await d.vms.diskCrypto(p[0] ?? '', reqInt(body, 'disk', 0, 7), 'encrypt', key, inPlaceOf(body)));
    },
  },
  {
    method: 'POST', re: new RegExp(`^/v1/vms/${UUID}/disks/decrypt$`),
    handler: async (req, res, p, d) => {
      const body = await readJsonBody(req);
      sendJson(res, 200, await d.vms.diskCrypto(p[0] ?? '', reqInt(body, 'disk', 0, 7), 'decrypt', undefined, inPlaceOf(body)));
    },
  },
];

/** `inPlace: true` converts the disks where they are (no second copy); anything else is the copy mode. */
export function inPlaceOf(body: Record<string, unknown>): boolean {
  const v = body['inPlace'];
  if (v !== undefined && typeof v !== 'boolean') throw new HostError('HOST_BAD_REQUEST', "'inPlace' must be a boolean");
  return v === true;
}

/** `{providerId, keyId}` at the top level or in `encryption`, or nothing. */
export function optionalKey(body: Record<string, unknown>): { providerId: string; keyId: string } | undefined {
  const e = body['encryption'];
  const o = typeof e === 'object' && e !== null ? (e as Record<string, unknown>) : body;
  if (o['keyId'] === undefined && o['providerId'] === undefined) return undefined;
  return { providerId: reqString(o, 'providerId', 256), keyId: validateKeyId(o['keyId']) };
}
