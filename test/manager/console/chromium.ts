import { X509Certificate, createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium (apt package `chromium`); never a browser downloaded by `npx playwright install`. */
export const CHROMIUM = '/usr/bin/chromium';

export interface ConsoleBrowser {
  readonly context: BrowserContext;
  /** A new tab: its own sessionStorage, so its own console session. */
  newPage(): Promise<Page>;
  /** Every request a tab made outside the manager's origin (the console must fetch nothing else). */
  readonly foreignRequests: string[];
  /** Console errors and page errors, CSP violations included. */
  readonly pageErrors: string[];
  close(): Promise<void>;
}

/** SHA-256 of the certificate's SubjectPublicKeyInfo, base64: what Chromium's SPKI pin list takes. */
export function spkiPin(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/**
 * Headless Chromium with a fresh profile that trusts exactly the manager's self-signed
 * certificate (its SPKI pinned), not every certificate.
 */
export async function launchConsoleBrowser(managerUrl: string, managerDataDir: string): Promise<ConsoleBrowser> {
  const pin = spkiPin(await readFile(join(managerDataDir, 'tls', 'manager-server.crt'), 'utf8'));
  const profile = await mkdtemp(join(tmpdir(), 'vmcrypt-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run',
      `--ignore-certificate-errors-spki-list=${pin}`,
    ],
    viewport: { width: 1360, height: 860 },
    timeout: 60_000,
  });
  const origin = new URL(managerUrl).origin;
  const foreignRequests: string[] = [];
  const pageErrors: string[] = [];
  const watch = (page: Page): void => {
    page.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith(`${origin}/`) && !u.startsWith('data:') && u !== 'about:blank') foreignRequests.push(u);
    });
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  return {
    context,
    newPage: () => context.newPage(),
    foreignRequests,
    pageErrors,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
