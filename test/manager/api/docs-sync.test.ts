import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_ROLES } from '../../../src/manager/access/builtin-roles.js';
import { ALARM_RULES } from '../../../src/manager/activity/alarm-rules.js';
import { ManagerErrorCode, managerErrorHttpStatus } from '../../../src/manager/errors.js';
import { repoRoot } from '../../helpers/cli.js';

// fastify-style: the docs cannot drift from the code.
describe('manager docs stay in sync', () => {
  it('docs/manager.md lists every error code with its HTTP status, every built-in role and every alarm rule', async () => {
    const md = await readFile(join(repoRoot, 'docs', 'manager.md'), 'utf8');
    for (const code of Object.values(ManagerErrorCode)) {
      expect(md, code).toMatch(new RegExp(`\\| \`${code}\` \\| ${managerErrorHttpStatus[code]} \\|`));
    }
    for (const role of Object.keys(BUILTIN_ROLES)) expect(md, role).toContain(`| ${role} |`);
    for (const rule of ALARM_RULES) expect(md, rule.match).toContain(`\`${rule.match}\``);
    expect(md).toContain('Give `Cryptographer.Decrypt` sparingly');
  });
});
