import type { FastifyInstance } from 'fastify';
import { Privilege, type EntityKind, type ManagerEvent, type RouteModule, type Severity } from '../contracts.js';
import { notFound } from '../errors.js';
import { matchesFilter, MAX_EVENT_LIST, type EventFilter } from '../activity/events.js';
import type { ManagerPlatform } from '../platform/platform.js';
import { ALARM, EVENT, SEVERITY } from './activity-schemas.js';
import { closed, ENTITY_KIND, ERRORS, ID } from './schemas.js';
import { openSse } from './sse.js';

interface EventQuery {
  afterId?: number;
  entityKind?: EntityKind;
  entityId?: string;
  type?: string;
  severity?: Severity;
  limit?: number;
}

const EVENT_QUERY = closed({
  afterId: { type: 'integer', minimum: 0 },
  entityKind: ENTITY_KIND,
  entityId: ID,
  type: { type: 'string', maxLength: 128, pattern: '^[A-Za-z0-9._-]+(\\.\\*)?$' },
  severity: SEVERITY,
  limit: { type: 'integer', minimum: 1, maximum: MAX_EVENT_LIST },
});

function toFilter(q: EventQuery): EventFilter {
  return {
    ...(q.afterId !== undefined ? { afterId: q.afterId } : {}),
    ...(q.entityKind !== undefined && q.entityId !== undefined ? { entity: { kind: q.entityKind, id: q.entityId } } : {}),
    ...(q.type !== undefined ? { type: q.type } : {}),
    ...(q.severity !== undefined ? { minSeverity: q.severity } : {}),
    ...(q.limit !== undefined ? { limit: q.limit } : {}),
  };
}

/** Events (list + live stream) and the alarms derived from them. */
export function eventRoutes(platform: ManagerPlatform): RouteModule {
  return (app: FastifyInstance) => {
    app.get<{ Querystring: EventQuery }>(
      '/api/events',
      {
        config: { privilege: Privilege.SYSTEM_READ },
        schema: {
          summary: 'Events, oldest first (with afterId: the ones after it; without: the newest `limit`); severity = this or worse',
          tags: ['activity'],
          querystring: EVENT_QUERY,
          response: { 200: { type: 'array', items: EVENT }, ...ERRORS },
        },
      },
      async (request) => platform.eventLog.list(toFilter(request.query)),
    );

    app.get<{ Querystring: EventQuery }>(
      '/api/events/stream',
      {
        config: { privilege: Privilege.SYSTEM_READ },
        schema: {
          summary: 'Events as server-sent events (`event: event`, id = event id); with afterId the missed ones come first',
          tags: ['activity'],
          querystring: EVENT_QUERY,
          produces: ['text/event-stream'],
          response: { 200: { description: 'text/event-stream of events', type: 'string' }, ...ERRORS },
        },
      },
      async (request, reply) => {
        const filter = toFilter(request.query);
        const { afterId, ...live } = filter;
        const pending: ManagerEvent[] = [];
        let replaying = afterId !== undefined;
        let unsubscribe = (): void => {};
        const stream = openSse(request, reply, () => unsubscribe());
        unsubscribe = platform.eventLog.subscribe((e) => {
          if (!matchesFilter(e, live)) return;
          if (replaying) pending.push(e);
          else stream.send('event', e, e.id);
        });
        if (afterId !== undefined) {
          // replay what the client missed (Last-Event-ID style), then the live ones not already sent
          let lastId = afterId;
          for (const e of platform.eventLog.list({ ...filter, limit: MAX_EVENT_LIST })) {
            stream.send('event', e, e.id);
            lastId = e.id;
          }
          replaying = false;
          for (const e of pending) if (e.id > lastId) stream.send('event', e, e.id);
        }
      },
    );

    app.get<{ Querystring: { all?: boolean; entityKind?: EntityKind; entityId?: string } }>(
      '/api/alarms',
      {
        config: { privilege: Privilege.SYSTEM_READ },
        schema: {
          summary: 'Triggered alarms (all=true: cleared ones too)',
          tags: ['activity'],
          querystring: closed({ all: { type: 'boolean' }, entityKind: ENTITY_KIND, entityId: ID }),
          response: { 200: { type: 'array', items: ALARM }, ...ERRORS },
        },
      },
      async (request) => {
        const q = request.query;
        return platform.alarms.list({
          active: q.all !== true,
          ...(q.entityKind !== undefined && q.entityId !== undefined ? { entity: { kind: q.entityKind, id: q.entityId } } : {}),
        });
      },
    );

    app.post<{ Params: { id: number } }>(
      '/api/alarms/:id/ack',
      {
        config: { privilege: Privilege.ALARM_ACK },
        schema: {
          summary: 'Acknowledge a triggered alarm (records who and when)',
          tags: ['activity'],
          params: closed({ id: { type: 'integer', minimum: 1 } }, ['id']),
          response: { 200: ALARM, ...ERRORS },
        },
      },
      async (request) => {
        if (platform.alarms.get(request.params.id) === undefined) throw notFound('alarm', String(request.params.id));
        const alarm = platform.alarms.acknowledge(request.params.id, request.principal.user);
        platform.events.post({
          type: 'alarm.acknowledged',
          severity: 'info',
          message: `alarm ${alarm.name} on ${alarm.entity.kind} ${alarm.entity.id} acknowledged`,
          entity: alarm.entity,
          user: request.principal.user,
        });
        return alarm;
      },
    );
  };
}
