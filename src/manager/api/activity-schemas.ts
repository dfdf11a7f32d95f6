import { SEVERITIES } from '../activity/events.js';
import { closed, ENTITY_REF, ID, TIME } from './schemas.js';

export const SEVERITY = { type: 'string', enum: [...SEVERITIES] } as const;

export const EVENT = closed(
  {
    id: { type: 'integer' },
    time: TIME,
    type: { type: 'string' },
    severity: SEVERITY,
    message: { type: 'string' },
    entity: ENTITY_REF,
    user: { type: 'string' },
    data: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
  },
  ['id', 'time', 'type', 'severity', 'message'],
);

export const TASK = closed(
  {
    id: ID,
    kind: { type: 'string' },
    entity: ENTITY_REF,
    user: { type: 'string' },
    state: { type: 'string', enum: ['queued', 'running', 'success', 'error'] },
    percent: { type: 'number' },
    bytesDone: { type: 'integer' },
    bytesTotal: { type: 'integer' },
    rate: { type: 'number' },
    message: { type: 'string' },
    startedAt: TIME,
    endedAt: TIME,
    result: {},
    error: closed({ code: { type: 'string' }, message: { type: 'string' } }, ['code', 'message']),
  },
  ['id', 'kind', 'state', 'percent', 'startedAt'],
);

export const ALARM = closed(
  {
    id: { type: 'integer' },
    name: { type: 'string' },
    entity: ENTITY_REF,
    status: { type: 'string', enum: ['green', 'yellow', 'red'] },
    message: { type: 'string' },
    eventId: { type: 'integer' },
    triggeredAt: TIME,
    updatedAt: TIME,
    acknowledged: closed({ by: { type: 'string' }, at: TIME }, ['by', 'at']),
  },
  ['id', 'name', 'entity', 'status', 'message', 'eventId', 'triggeredAt', 'updatedAt'],
);
