import { HostError } from '../errors.js';
import { migrationsOf } from '../migration/host-migrations.js';
import { parseChannel, parseEndpoint, parseOneTimeKey } from '../migration/migration-spec.js';
import { readJsonBody, reqString, sendJson } from './http-util.js';
import { UUID, type Route } from './route-types.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function uuidField(body: Record<string, unknown>, key: string): string {
  const v = reqString(body, key, 36);
  if (!UUID_RE.test(v)) throw new HostError('HOST_BAD_REQUEST', `'${key}' must be a lower-case uuid`);
  return v;
}

/** Live migration (both ends) and storage migration (docs/host.md "Migration"). */
export const migrateRoutes: Route[] = [
  {
    method: 'POST', re: /^\/v1\/migrations\/incoming$/,
    handler: async (req, res, _p, d) => {
      const body = await readJsonBody(req);
      const channel = parseChannel(body);
      const key = parseOneTimeKey(body, channel);
      try {
        const r = await migrationsOf(d.vms).incoming({
          migrationId: uuidField(body, 'migrationId'), vmId: uuidField(body, 'vmId'),
          vmxPath: reqString(body, 'vmxPath', 1024), channel, ...(key === undefined ? {} : { key }),
        });
        sendJson(res, 200, r);
      } finally {
        key?.key.fill(0);
        key?.nonce.fill(0);
      }
    },
  },
  {
    method: 'DELETE', re: new RegExp(`^/v1/migrations/${UUID}$`),
    handler: async (_q, res, p, d) => sendJson(res, 200, await migrationsOf(d.vms).abort(p[0] ?? '')),
  },
  {
    method: 'POST', re: new RegExp(`^/v1/vms/${UUID}/migrate$`),
    handler: async (req, res, p, d) => {
      const body = await readJsonBody(req);
      const channel = parseChannel(body);
      const key = parseOneTimeKey(body, channel);
      try {
        const r = await migrationsOf(d.vms).migrate(p[0] ?? '', {
          migrationId: uuidField(body, 'migrationId'), endpoint: parseEndpoint(body), channel, ...(key === undefined ? {} : { key }),
        });
        sendJson(res, 200, r);
      } finally {
        key?.key.fill(0);
        key?.nonce.fill(0);
      }
    },
  },
  {
    method: 'POST', re: new RegExp(`^/v1/vms/${UUID}/relocate$`),
    handler: async (req, res, p, d) => {
      const body = await readJsonBody(req);
      sendJson(res, 200, await migrationsOf(d.vms).relocate(p[0] ?? '', reqString(body, 'datastore', 64)));
    },
  },
];
