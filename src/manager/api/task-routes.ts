import type { FastifyInstance } from 'fastify';
import { Privilege, type EntityKind, type RouteModule, type TaskInfo, type TaskState } from '../contracts.js';
import { notFound } from '../errors.js';
import { MAX_TASK_LIST } from '../activity/tasks.js';
import type { ManagerPlatform } from '../platform/platform.js';
import { TASK } from './activity-schemas.js';
import { closed, ENTITY_KIND, ERRORS, ID } from './schemas.js';
import { openSse } from './sse.js';

interface TaskQuery {
  state?: TaskState;
  kind?: string;
  entityKind?: EntityKind;
  entityId?: string;
  limit?: number;
}

const ID_PARAMS = closed({ id: ID }, ['id']);

/** Tasks: list, one by id, and its progress as server-sent events until it ends. */
export function taskRoutes(platform: ManagerPlatform): RouteModule {
  return (app: FastifyInstance) => {
    app.get<{ Querystring: TaskQuery }>(
      '/api/tasks',
      {
        config: { privilege: Privilege.SYSTEM_READ },
        schema: {
          summary: 'Recent tasks, newest first',
          tags: ['activity'],
          querystring: closed({
            state: { type: 'string', enum: ['queued', 'running', 'success', 'error'] },
            kind: { type: 'string', maxLength: 64 },
            entityKind: ENTITY_KIND,
            entityId: ID,
            limit: { type: 'integer', minimum: 1, maximum: MAX_TASK_LIST },
          }),
          response: { 200: { type: 'array', items: TASK }, ...ERRORS },
        },
      },
      async (request) => {
        const q = request.query;
        return platform.taskManager.list({
          ...(q.state !== undefined ? { state: q.state } : {}),
          ...(q.kind !== undefined ? { kind: q.kind } : {}),
          ...(q.entityKind !== undefined && q.entityId !== undefined ? { entity: { kind: q.entityKind, id: q.entityId } } : {}),
          ...(q.limit !== undefined ? { limit: q.limit } : {}),
        });
      },
    );

    app.get<{ Params: { id: string } }>(
      '/api/tasks/:id',
      {
        config: { privilege: Privilege.SYSTEM_READ },
        schema: { summary: 'One task (poll it, or follow /events)', tags: ['activity'], params: ID_PARAMS, response: { 200: TASK, ...ERRORS } },
      },
      async (request) => {
        const task = platform.taskManager.get(request.params.id);
        if (task === undefined) throw notFound('task', request.params.id);
        return task;
      },
    );

    app.get<{ Params: { id: string } }>(
      '/api/tasks/:id/events',
      {
        config: { privilege: Privilege.SYSTEM_READ },
        schema: {
          summary: "The task's state as server-sent events (`event: task`), ending with the final state",
          tags: ['activity'],
          params: ID_PARAMS,
          produces: ['text/event-stream'],
          response: { 200: { description: 'text/event-stream of task records', type: 'string' }, ...ERRORS },
        },
      },
      async (request, reply) => {
        const task = platform.taskManager.get(request.params.id);
        if (task === undefined) throw notFound('task', request.params.id);
        let unsubscribe = (): void => {};
        const stream = openSse(request, reply, () => unsubscribe());
        const ended = (t: TaskInfo): boolean => t.state === 'success' || t.state === 'error';
        let seq = 0;
        stream.send('task', task, ++seq);
        if (ended(task)) {
          stream.close();
          return;
        }
        unsubscribe = platform.taskManager.subscribe((t) => {
          if (t.id !== task.id) return;
          stream.send('task', t, ++seq);
          if (ended(t)) stream.close();
        });
        // it may have ended between get() and subscribe()
        const now = platform.taskManager.get(task.id);
        if (now !== undefined && ended(now) && !stream.closed) {
          stream.send('task', now, ++seq);
          stream.close();
        }
      },
    );
  };
}
