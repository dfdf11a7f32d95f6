import { ACCESS_MIGRATIONS } from '../access/migrations.js';
import { ACTIVITY_MIGRATIONS } from '../activity/migrations.js';
import type { Migration } from '../contracts.js';

/** The platform's schema; the manager opens its database with these first, then the parts' own. */
export const PLATFORM_MIGRATIONS: readonly Migration[] = [...ACTIVITY_MIGRATIONS, ...ACCESS_MIGRATIONS];
