import type { KeyServerConfig } from './config.js';
import { KeyProviderError, KeyProviderErrorCode } from './errors.js';

/** The key servers of one site, in preference order. */
export interface SiteDescription {
  readonly name: string;
  readonly servers: readonly KeyServerConfig[];
}

/**
 * The server order a key provider should use at `localSite`: its own site's servers first,
 * then the other sites' in the order the sites are listed. With sites 1 = A,B,C and
 * 2 = D,E,F this gives A,B,C,D,E,F at site 1 and D,E,F,A,B,C at site 2 — so a manager never
 * waits on the remote site while a local server is up (seed 003: "the first order should be
 * A, B, C, D, E, F, and in the second D, E, F, A, B, C").
 */
export function siteLocalOrder(sites: readonly SiteDescription[], localSite: string): KeyServerConfig[] {
  const local = sites.find((s) => s.name === localSite);
  if (local === undefined) {
    throw new KeyProviderError(
      KeyProviderErrorCode.SITE_UNKNOWN,
      `site "${localSite}" is not one of ${sites.map((s) => `"${s.name}"`).join(', ') || 'the (empty) site list'}`,
    );
  }
  const siteNames = new Set<string>();
  const serverNames = new Set<string>();
  for (const site of sites) {
    if (siteNames.has(site.name)) {
      throw new KeyProviderError(KeyProviderErrorCode.CONFIG_INVALID, `site "${site.name}" appears twice`);
    }
    siteNames.add(site.name);
    for (const s of site.servers) {
      if (serverNames.has(s.name)) {
        throw new KeyProviderError(KeyProviderErrorCode.CONFIG_INVALID, `key server "${s.name}" appears in two sites`);
      }
      serverNames.add(s.name);
    }
  }
  return [...local.servers, ...sites.filter((s) => s !== local).flatMap((s) => s.servers)];
}
