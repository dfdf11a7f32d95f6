import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VmRule } from '../../../src/manager/inventory/ops/rules.js';
import { repoRoot } from '../../helpers/cli.js';

// the refusals name their rule; the docs list exactly those rules
describe('VM operation rules stay in sync with docs/manager.md', () => {
  it('lists every rule once in the Rules table, and no other', async () => {
    const md = await readFile(join(repoRoot, 'docs', 'manager.md'), 'utf8');
    const section = md.slice(md.indexOf('## VM operations'));
    const documented = [...section.matchAll(/^\| `([a-z-]+)` \| /gm)].map((m) => m[1]);
    expect(new Set(documented)).toEqual(new Set(Object.values(VmRule)));
    expect(documented).toHaveLength(Object.values(VmRule).length);
  });
});
