import { describe, expect, it } from 'vitest';
import { siteLocalOrder, type SiteDescription } from '../../src/keyprovider/site-order.js';
import { KeyProviderError } from '../../src/keyprovider/errors.js';

const server = (name: string) => ({ name, host: `${name.toLowerCase()}.example.org`, port: 5696 });
const sites: SiteDescription[] = [
  { name: 'site1', servers: ['A', 'B', 'C'].map(server) },
  { name: 'site2', servers: ['D', 'E', 'F'].map(server) },
];

describe('siteLocalOrder', () => {
  it('gives A..F on site 1 and D,E,F,A,B,C on site 2 (seed 003)', () => {
    expect(siteLocalOrder(sites, 'site1').map((s) => s.name)).toEqual(['A', 'B', 'C', 'D', 'E', 'F']);
    expect(siteLocalOrder(sites, 'site2').map((s) => s.name)).toEqual(['D', 'E', 'F', 'A', 'B', 'C']);
  });

  it('puts the local site first and keeps the other sites in listed order', () => {
    const three = [...sites, { name: 'cloud', servers: [server('G')] }];
    expect(siteLocalOrder(three, 'site2').map((s) => s.name)).toEqual(['D', 'E', 'F', 'A', 'B', 'C', 'G']);
    expect(siteLocalOrder(three, 'cloud').map((s) => s.name)).toEqual(['G', 'A', 'B', 'C', 'D', 'E', 'F']);
  });

  it('refuses an unknown local site, a duplicate site and a server in two sites', () => {
    const code = (fn: () => unknown): string => {
      try {
        fn();
        return 'none';
      } catch (e) {
        return e instanceof KeyProviderError ? e.code : 'other';
      }
    };
    expect(code(() => siteLocalOrder(sites, 'site3'))).toBe('KEY_PROVIDER_SITE_UNKNOWN');
    expect(code(() => siteLocalOrder([...sites, sites[0] as SiteDescription], 'site1'))).toBe('KEY_PROVIDER_CONFIG_INVALID');
    expect(
      code(() => siteLocalOrder([...sites, { name: 'x', servers: [server('A')] }], 'site1')),
    ).toBe('KEY_PROVIDER_CONFIG_INVALID');
  });
});
