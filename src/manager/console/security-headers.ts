/**
 * Headers on every console response. The CSP allows scripts, styles and fetches from this origin
 * only and no inline script or style, so an injected string in an event message or a VM name
 * cannot run: the console builds its DOM with textContent, and the policy is the second fence.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'strict-transport-security': 'max-age=31536000',
  // assets are small and change with the manager's version: revalidate rather than go stale
  'cache-control': 'no-cache',
};
