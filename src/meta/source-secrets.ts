import type { SourceConfig } from '../model/source.js';

/**
 * The secret parts of a source config, kept apart so only they are sealed. `urlPassword` is the
 * password of `url` in its percent-encoded form; `urlQueryPassword` a `?password=` parameter (libpq
 * accepts one); `url` the whole URL when it cannot be parsed, because then nothing in it can be
 * shown safely.
 */
export interface SourceSecrets {
  password?: string;
  urlPassword?: string;
  urlQueryPassword?: string;
  url?: string;
}

/**
 * Splits a config into what may be stored and shown as-is and what must be sealed.
 *
 * @example
 * splitSecrets({ url: 'postgres://u:pw@h/db', password: 'x' });
 * // { publicConfig: { url: 'postgres://u@h/db' }, secrets: { password: 'x', urlPassword: 'pw' } }
 */
export function splitSecrets(config: SourceConfig): { publicConfig: SourceConfig; secrets: SourceSecrets } {
  const { password, url, ...rest } = config;
  const publicConfig: SourceConfig = { ...rest };
  const secrets: SourceSecrets = {};
  if (password !== undefined) secrets.password = password;
  if (url !== undefined) {
    const parsed = parseUrl(url);
    if (!parsed) {
      secrets.url = url;
    } else {
      if (parsed.password !== '') {
        secrets.urlPassword = parsed.password;
        parsed.password = '';
      }
      const queryPassword = parsed.searchParams.get('password');
      if (queryPassword !== null) {
        secrets.urlQueryPassword = queryPassword;
        parsed.searchParams.delete('password');
      }
      publicConfig.url = parsed.toString();
    }
  }
  return { publicConfig, secrets };
}

/** Puts sealed-and-opened secrets back into a public config: the inverse of splitSecrets. */
export function joinSecrets(
  publicConfig: SourceConfig,
  secrets: SourceSecrets | null | undefined,
): SourceConfig {
  const config: SourceConfig = { ...publicConfig };
  if (!secrets) return config;
  if (secrets.password !== undefined) config.password = secrets.password;
  if (secrets.url !== undefined) {
    config.url = secrets.url;
  } else if (
    config.url !== undefined &&
    (secrets.urlPassword !== undefined || secrets.urlQueryPassword !== undefined)
  ) {
    const parsed = parseUrl(config.url);
    if (parsed) {
      if (secrets.urlPassword !== undefined) parsed.password = secrets.urlPassword;
      if (secrets.urlQueryPassword !== undefined)
        parsed.searchParams.set('password', secrets.urlQueryPassword);
      config.url = parsed.toString();
    }
  }
  return config;
}

export function hasSecrets(secrets: SourceSecrets): boolean {
  return Object.keys(secrets).length > 0;
}

function parseUrl(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}
