import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { codeSet, documentedErrorCodes, readDoc } from '../helpers/error-code-docs.js';

/**
 * The CLI has no code table of its own: its codes are the literals it passes to VmcryptError,
 * plus UsageError's USAGE. Read them from the source so docs/cli.md cannot drift from it.
 */
function cliErrorCodes(): { codes: string[]; unreadable: string[] } {
  const codes: string[] = [];
  const unreadable: string[] = [];
  for (const file of tsFiles(join(repoRoot, 'src', 'cli'))) {
    const text = readFileSync(file, 'utf8');
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
    const visit = (node: ts.Node): void => {
      if (ts.isNewExpression(node) && ts.isIdentifier(node.expression)) {
        const where = `${relative(repoRoot, file)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
        if (node.expression.text === 'UsageError') codes.push('USAGE');
        if (node.expression.text === 'VmcryptError') {
          const first = node.arguments?.[0];
          if (first !== undefined && ts.isStringLiteralLike(first)) codes.push(first.text);
          else unreadable.push(where);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { codes, unreadable };
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

// fastify-style: the docs cannot drift from the code.
describe('docs/cli.md stays in sync', () => {
  it('its "## Error codes" table lists exactly the codes src/cli raises itself', () => {
    const { codes, unreadable } = cliErrorCodes();
    // A code computed at run time could never be documented: every VmcryptError in the CLI names a literal.
    expect(unreadable, 'VmcryptError with a non-literal code').toEqual([]);
    expect(codes.length).toBeGreaterThan(0);
    const documented = documentedErrorCodes(readDoc('cli.md'));
    expect(codeSet(documented)).toEqual(codeSet(codes));
    expect(documented.length, 'a code listed twice').toBe(new Set(documented).size);
  });
});
