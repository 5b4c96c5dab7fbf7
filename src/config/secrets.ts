/**
 * What counts as a secret in a config, and how to show a value without it: error messages
 * and summaries print the type or `***`, never the text.
 */

/** Keys whose values are secrets wherever they appear (influx, mqtt, driver options). */
const SECRET_KEY = /(^|[a-z_-])(pass(word|wd|phrase)?|token|secret|api[_-]?key|credentials?)$/i;

/** Query parameters that carry credentials (InfluxDB 1.x takes `u`/`p`, some proxies `token`). */
const SECRET_PARAM = /^(p|pass(word)?|token|secret|api[_-]?key|auth(orization)?|sig(nature)?)$/i;

export function isSecretKey(key: PropertyKey | undefined): boolean {
  return typeof key === 'string' && SECRET_KEY.test(key);
}

/** A URL with its password and credential query values replaced by `***` (other text unchanged). */
export function maskUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  let changed = false;
  if (url.password) {
    url.password = '***';
    changed = true;
  }
  for (const key of [...url.searchParams.keys()]) {
    if (SECRET_PARAM.test(key)) {
      url.searchParams.set(key, '***');
      changed = true;
    }
  }
  return changed ? url.toString() : text;
}
