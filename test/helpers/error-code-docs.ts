import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './cli.js';

/** Bounds what the doc parser reads: docs are small, a runaway file should fail, not hang. */
const MAX_DOC_BYTES = 1 << 20;

/**
 * The codes in the first column of the table under the doc's `## Error codes` heading
 * (up to the next `## ` heading). Every `` `CODE` `` in that cell counts.
 */
export function documentedErrorCodes(markdown: string): string[] {
  if (markdown.length > MAX_DOC_BYTES) throw new Error('doc too large');
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => /^## Error codes\b/.test(l));
  if (start < 0) throw new Error('no "## Error codes" section');
  const codes: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('## ')) break;
    const cell = /^\|([^|]*)\|/.exec(line)?.[1];
    if (cell === undefined) continue;
    for (const m of cell.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) if (m[1] !== undefined) codes.push(m[1]);
  }
  return codes;
}

export function readDoc(name: string): string {
  return readFileSync(join(repoRoot, 'docs', name), 'utf8');
}

/** Sorted and de-duplicated, so a failing test prints the two sets side by side. */
export function codeSet(codes: Iterable<string>): string[] {
  return [...new Set(codes)].sort();
}
