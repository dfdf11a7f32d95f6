import { makePrivateDir } from '../../fs/private-files.js';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import { AccessControl } from '../access/checker.js';
import { ensureInitialAdmin, type InitialAdmin } from '../access/initial-admin.js';
import { PermissionStore } from '../access/permissions.js';
import { RoleStore } from '../access/roles.js';
import { SessionStore } from '../access/sessions.js';
import { UserStore } from '../access/users.js';
import { AlarmBook } from '../activity/alarms.js';
import { EventLog } from '../activity/events.js';
import { TaskManager } from '../activity/tasks.js';
import type { Platform } from '../contracts.js';
import { applyMigrations, openDatabase } from '../db/database.js';
import { createManagerLogger } from './logger.js';
import { createPlatformMetrics, type PlatformMetrics } from './metrics.js';
import { PLATFORM_MIGRATIONS } from './migrations.js';

export const DATABASE_FILE = 'manager.db';

export interface CreatePlatformOptions {
  readonly dataDir: string;
  /** An open database (the manager's, with every part's migrations); default DATA/manager.db. */
  readonly db?: Database;
  readonly log?: Logger;
  readonly now?: () => Date;
  /** The initial administrator's password; generated (and written to DATA) when absent. */
  readonly adminPassword?: string;
}

/** The platform with the concrete services behind the contract's interfaces. */
export interface ManagerPlatform extends Platform {
  readonly now: () => Date;
  readonly eventLog: EventLog;
  readonly alarms: AlarmBook;
  readonly taskManager: TaskManager;
  readonly accessControl: AccessControl;
  readonly users: UserStore;
  readonly sessions: SessionStore;
  readonly roles: RoleStore;
  readonly permissions: PermissionStore;
  readonly httpMetrics: PlatformMetrics;
  /** Present on the first start only. */
  readonly initialAdmin?: InitialAdmin;
  close(): void;
}

export async function createPlatform(opts: CreatePlatformOptions): Promise<ManagerPlatform> {
  const now = opts.now ?? (() => new Date());
  await makePrivateDir(opts.dataDir, { tighten: true });
  const ownDb = opts.db === undefined;
  const db = opts.db ?? openDatabase(join(opts.dataDir, DATABASE_FILE), PLATFORM_MIGRATIONS, { now });
  try {
    applyMigrations(db, PLATFORM_MIGRATIONS, now);
    const log = opts.log ?? createManagerLogger();
    const alarms = new AlarmBook(db, now);
    const eventLog = new EventLog(db, now, { derive: (e) => alarms.apply(e) });
    let taskManager: TaskManager | undefined;
    const httpMetrics = createPlatformMetrics(() => taskManager);
    taskManager = new TaskManager(db, now, {
      onEnd: (t) => {
        if (t.state === 'error') log.warn({ task: t.id, kind: t.kind, code: t.error?.code }, 'task failed');
      },
    });
    const users = new UserStore(db, now);
    const sessions = new SessionStore(db, now);
    const roles = new RoleStore(db, now);
    const permissions = new PermissionStore(db, roles, users);
    const accessControl = new AccessControl(permissions, roles);
    const initialAdmin = await ensureInitialAdmin(opts.dataDir, users, permissions, opts.adminPassword);
    sessions.purgeExpired();
    return {
      dataDir: opts.dataDir,
      db,
      log,
      metrics: httpMetrics.registry,
      events: eventLog,
      tasks: taskManager,
      access: accessControl,
      now,
      eventLog,
      alarms,
      taskManager,
      accessControl,
      users,
      sessions,
      roles,
      permissions,
      httpMetrics,
      ...(initialAdmin !== undefined ? { initialAdmin } : {}),
      close: () => {
        if (ownDb && db.open) db.close();
      },
    };
  } catch (err) {
    if (ownDb) db.close();
    throw err;
  }
}
