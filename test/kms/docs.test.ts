import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KmipErrorCodes } from '../../src/kmip/errors.js';
import { KmsErrorCode } from '../../src/kms/errors.js';
import { repoRoot } from '../helpers/cli.js';

describe('docs/kms.md', () => {
  const doc = readFileSync(join(repoRoot, 'docs', 'kms.md'), 'utf8');
  it.each([...Object.keys(KmipErrorCodes), ...Object.values(KmsErrorCode)])('documents error code %s', (code) => {
    expect(doc).toContain(`| \`${code}\` |`);
  });
});
