/**
 * A server URL with any `user:pass@` taken out (it becomes basic auth and is never echoed),
 * query and fragment dropped. Explicit credentials from the config win over the URL's.
 */
export function serverUrl(raw: string, username?: string, password?: string): { url: URL; username?: string; password?: string } {
  const url = new URL(raw);
  const user = username ?? (url.username ? decodeURIComponent(url.username) : undefined);
  const pass = password ?? (url.password ? decodeURIComponent(url.password) : undefined);
  url.username = '';
  url.password = '';
  url.search = '';
  url.hash = '';
  return { url, username: user, password: pass };
}
