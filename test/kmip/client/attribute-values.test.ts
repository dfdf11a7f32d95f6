import { describe, expect, it } from 'vitest';
import { attributeRecord } from '../../../src/kmip/client/index.js';
import { attr } from '../../../src/kmip/attributes.js';

describe('attributeRecord', () => {
  it('turns attributes into a JSON-safe record', () => {
    const rec = attributeRecord([
      attr.name('kek-1'),
      attr.name('alias'),
      attr.enumeration('State', 2),
      attr.int('Cryptographic Length', 256),
      attr.date('Initial Date', new Date('2026-01-02T03:04:05Z')),
      attr.text('x-vm', 'vm-1'),
      attr.bool('Fresh', true),
    ]);
    expect(rec).toEqual({
      Name: ['kek-1', 'alias'],
      State: 2,
      'Cryptographic Length': 256,
      'Initial Date': '2026-01-02T03:04:05.000Z',
      'x-vm': 'vm-1',
      Fresh: true,
    });
    expect(JSON.parse(JSON.stringify(rec))).toEqual(rec);
  });
});
