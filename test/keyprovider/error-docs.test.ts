import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '../helpers/cli.js';
import { KmipClientErrorCode } from '../../src/kmip/client/index.js';
import { KeyProviderErrorCode, FailureKind } from '../../src/keyprovider/index.js';

describe('error codes are documented', () => {
  it('docs/kmip-client.md lists every KMIP client code', async () => {
    const doc = await readFile(join(repoRoot, 'docs', 'kmip-client.md'), 'utf8');
    for (const code of Object.values(KmipClientErrorCode)) expect(doc, code).toContain(`\`${code}\``);
  });

  it('docs/key-providers.md lists every key provider code and failure kind', async () => {
    const doc = await readFile(join(repoRoot, 'docs', 'key-providers.md'), 'utf8');
    for (const code of Object.values(KeyProviderErrorCode)) expect(doc, code).toContain(`\`${code}\``);
    for (const kind of Object.values(FailureKind)) expect(doc, kind).toContain(`\`${kind}\``);
  });
});
