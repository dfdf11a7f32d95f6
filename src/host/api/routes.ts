import { stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { HostError } from '../errors.js';
import { CryptoMode } from '../host-store.js';
import { validateKeyId } from '../keys/key-cache.js';
import { listCoreDumps, writeCoreDump } from '../keys/coredump.js';
import { readJsonBody, reqString, sendJson } from './http-util.js';
import { listDatastores } from '../datastores.js';
import type { ApiDeps, Handler, Route } from './route-types.js';
import { vmRoutes } from './routes-vms.js';
import { vmCopyRoutes } from './routes-vm-copy.js';
import { migrateRoutes } from './routes-migrate.js';
import { migrationsOf } from '../migration/host-migrations.js';

export type { ApiDeps } from './route-types.js';

const MAX_KEYS_PER_PUSH = 256;

async function hostInfo(deps: ApiDeps): Promise<Record<string, unknown>> {
  const s = deps.store.state;
  const dumps = await listCoreDumps(deps.store.dataDir);
  return {
    name: s.name,
    version: deps.version,
    thumbprint: deps.thumbprint,
    cryptoMode: s.cryptoMode,
    ...(s.hostKeyId === undefined ? {} : { hostKeyId: s.hostKeyId, hostKeyPresent: deps.cache.has(s.hostKeyId) }),
    lockedVms: deps.vms.lockedVms(),
    coreDumps: dumps,
    encryptedCoreDumpExists: dumps.some((d) => d.encrypted),
    migration: migrationsOf(deps.vms).capability(),
  };
}

const routes: Route[] = [
  { method: 'GET', re: /^\/v1\/host$/, handler: async (_q, res, _p, d) => sendJson(res, 200, await hostInfo(d)) },
  {
    method: 'POST', re: /^\/v1\/host\/crypto-mode$/,
    handler: async (req, res, _p, d) => {
      const body = await readJsonBody(req);
      const mode = body['mode'];
      const cur = d.store.state.cryptoMode;
      if (mode === CryptoMode.PREPARED) {
        if (cur === CryptoMode.SAFE) throw new HostError('HOST_CRYPTO_MODE', 'a crypto-safe host cannot go back to prepared');
        await d.store.update((s) => ({ ...s, cryptoMode: CryptoMode.PREPARED }));
      } else if (mode === CryptoMode.SAFE) {
        const hostKeyId = validateKeyId(body['hostKeyId'], 'hostKeyId');
        if (cur === CryptoMode.INCAPABLE) throw new HostError('HOST_CRYPTO_MODE', 'prepare the host first (mode prepared)');
        if (!d.cache.has(hostKeyId)) throw new HostError('HOST_KEY_MISSING', `host key ${hostKeyId} is not in the key cache; push it first`);
        // already safe with another id = host key rotation: new dumps use the new key,
        // old dumps keep theirs (crypto-util coredump recrypt moves them)
        await d.store.update((s) => ({ ...s, cryptoMode: CryptoMode.SAFE, hostKeyId }));
        d.events.post('host.cryptoSafe', `host is crypto-safe with host key ${hostKeyId}`);
      } else {
        throw new HostError('HOST_BAD_REQUEST', "mode must be 'prepared' or 'safe'");
      }
      sendJson(res, 200, await hostInfo(d));
    },
  },
  { method: 'GET', re: /^\/v1\/keys$/, handler: async (_q, res, _p, d) => sendJson(res, 200, { keyIds: d.cache.ids() }) },
  {
    method: 'POST', re: /^\/v1\/keys$/,
    handler: async (req, res, _p, d) => {
      if (d.store.state.cryptoMode === CryptoMode.INCAPABLE) throw new HostError('HOST_CRYPTO_MODE', 'host is crypto-incapable: prepare it before pushing keys');
      const body = await readJsonBody(req);
      const keys = body['keys'];
      if (!Array.isArray(keys) || keys.length === 0 || keys.length > MAX_KEYS_PER_PUSH) throw new HostError('HOST_BAD_REQUEST', `'keys' must be an array of 1–${MAX_KEYS_PER_PUSH} {keyId, key}`);
      const parsed = keys.map((k: unknown, i: number) => {
        const o = (typeof k === 'object' && k !== null ? k : {}) as Record<string, unknown>;
        const keyId = validateKeyId(o['keyId'], `keys[${i}].keyId`);
        const b64 = o['key'];
        if (typeof b64 !== 'string' || !/^[A-Za-z0-9+/]{43}=$/.test(b64)) throw new HostError('HOST_BAD_REQUEST', `keys[${i}].key must be 32 bytes in base64`);
        return { keyId, b64 };
      });
      // only keys new to the cache can unlock a VM: a re-push announces nothing again
      const fresh: string[] = [];
      try {
        for (const { keyId, b64 } of parsed) {
          const key = Buffer.from(b64, 'base64');
          try {
            const isNew = !d.cache.has(keyId);
            d.cache.put(keyId, key);
            if (isNew) fresh.push(keyId);
          } finally {
            key.fill(0);
          }
        }
      } finally {
        // keys stored before a refusal (cache full) still unlock their VMs
        d.vms.onKeysPushed(fresh);
      }
      sendJson(res, 200, { keyIds: d.cache.ids() });
    },
  },
  {
    method: 'DELETE', re: /^\/v1\/keys\/([\x21-\x7e]{1,768})$/,
    handler: async (_q, res, p, d) => {
      let raw: string;
      try {
        raw = decodeURIComponent(p[0] ?? '');
      } catch {
        throw new HostError('HOST_BAD_REQUEST', 'key id in the path is not valid percent-encoding');
      }
      const keyId = validateKeyId(raw);
      if (!d.cache.remove(keyId)) throw new HostError('HOST_NOT_FOUND', `key ${keyId} is not in the cache`);
      d.events.post('key.removed', `key ${keyId} removed from the key cache`);
      sendJson(res, 200, { keyIds: d.cache.ids() });
    },
  },
  {
    method: 'GET', re: /^\/v1\/datastores$/,
    handler: async (_q, res, _p, d) => sendJson(res, 200, { datastores: await listDatastores(d.vms.inventory.ctx) }),
  },
  {
    method: 'POST', re: /^\/v1\/datastores$/,
    handler: async (req, res, _p, d) => {
      const body = await readJsonBody(req);
      const name = reqString(body, 'name', 64);
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) throw new HostError('HOST_BAD_REQUEST', 'datastore name must match [A-Za-z0-9][A-Za-z0-9._-]*');
      const path = reqString(body, 'path', 1024);
      if (!isAbsolute(path)) throw new HostError('HOST_BAD_REQUEST', 'datastore path must be absolute');
      const st = await stat(path).catch(() => undefined);
      if (st === undefined || !st.isDirectory()) throw new HostError('HOST_DATASTORE', `${path} is not a directory`);
      const existing = d.store.state.datastores[name];
      if (existing !== undefined && existing !== path) throw new HostError('HOST_CONFLICT', `datastore ${name} already exists at ${existing}`);
      await d.store.update((s) => ({ ...s, datastores: { ...s.datastores, [name]: path } }));
      sendJson(res, 201, { name, path });
    },
  },
  ...vmRoutes,
  ...vmCopyRoutes,
  ...migrateRoutes,
  {
    method: 'GET', re: /^\/v1\/events$/,
    handler: async (req, res, _p, d) => {
      const after = Number(new URL(req.url ?? '/', 'https://host').searchParams.get('after') ?? '0');
      sendJson(res, 200, { events: d.events.after(Number.isInteger(after) && after >= 0 ? after : 0) });
    },
  },
  {
    method: 'POST', re: /^\/v1\/diagnostics$/,
    handler: async (_q, res, _p, d) => sendJson(res, 201, await writeCoreDump(d.store, d.cache, 'diagnostics requested by the manager')),
  },
  {
    method: 'POST', re: /^\/v1\/debug\/datastore-free$/,
    handler: async (req, res, _p, d) => {
      if (!d.allowCrash) throw new HostError('HOST_NOT_FOUND', 'no such endpoint');
      const body = await readJsonBody(req);
      const free = body['freeBytes'];
      if (free !== null && (typeof free !== 'number' || !Number.isSafeInteger(free) || free < 0)) throw new HostError('HOST_BAD_REQUEST', "'freeBytes' must be a non-negative integer or null");
      d.vms.inventory.ctx.faults?.setFreeBytes(reqString(body, 'name', 64), free === null ? undefined : free);
      sendJson(res, 200, { datastores: await listDatastores(d.vms.inventory.ctx) });
    },
  },
  {
    method: 'POST', re: /^\/v1\/debug\/crash$/,
    handler: async (_q, res, _p, d) => {
      if (!d.allowCrash) throw new HostError('HOST_NOT_FOUND', 'no such endpoint');
      sendJson(res, 202, { crashing: true });
      setTimeout(() => {
        throw new Error('crash requested through /v1/debug/crash');
      }, 50);
    },
  },
];

/** Method and path pattern of every route: the docs test compares this set with docs/host-api.yaml. */
export const ROUTE_TABLE: ReadonlyArray<{ readonly method: string; readonly pattern: RegExp }> = routes.map((r) => ({ method: r.method, pattern: r.re }));

/** Finds the route; NOT_FOUND (404) or a 405 hint when the path exists with another method. */
export function matchRoute(method: string, path: string): { handler: Handler; params: string[] } {
  let pathKnown = false;
  for (const r of routes) {
    const m = r.re.exec(path);
    if (m === null) continue;
    pathKnown = true;
    if (r.method === method) return { handler: r.handler, params: m.slice(1) };
  }
  throw new HostError(pathKnown ? 'HOST_BAD_REQUEST' : 'HOST_NOT_FOUND', pathKnown ? `method ${method} not allowed on ${path}` : `no such endpoint ${method} ${path}`);
}
