import { describe, expect, it } from 'vitest';
import { joinSecrets, splitSecrets } from './source-secrets.js';

describe('splitSecrets / joinSecrets', () => {
  it('moves the password and the URL password out of the public config', () => {
    const config = { url: 'postgres://u:UrlPw-xyz@h/db', password: 'S3cr3t-Plaintext-Pw!', timeoutMs: 5000 };
    const { publicConfig, secrets } = splitSecrets(config);
    expect(publicConfig).toEqual({ url: 'postgres://u@h/db', timeoutMs: 5000 });
    expect(JSON.stringify(publicConfig)).not.toMatch(/UrlPw-xyz|S3cr3t/);
    expect(secrets).toEqual({ password: 'S3cr3t-Plaintext-Pw!', urlPassword: 'UrlPw-xyz' });
    expect(joinSecrets(publicConfig, secrets)).toEqual(config);
  });

  it('keeps percent-encoded URL passwords intact', () => {
    const config = { url: 'mysql://root:p%40ss%3Aw0rd@127.0.0.1:3306/test?ssl=true' };
    const { publicConfig, secrets } = splitSecrets(config);
    expect(publicConfig.url).toBe('mysql://root@127.0.0.1:3306/test?ssl=true');
    expect(joinSecrets(publicConfig, secrets)).toEqual(config);
  });

  it('moves a ?password= query parameter', () => {
    const { publicConfig, secrets } = splitSecrets({
      url: 'postgres://u@h/db?password=QueryPw&sslmode=require',
    });
    expect(publicConfig.url).toBe('postgres://u@h/db?sslmode=require');
    expect(secrets).toEqual({ urlQueryPassword: 'QueryPw' });
    expect(new URL(joinSecrets(publicConfig, secrets).url!).searchParams.get('password')).toBe('QueryPw');
  });

  it('seals a URL it cannot parse as a whole', () => {
    const { publicConfig, secrets } = splitSecrets({ url: 'not a url :pw@', user: 'u' });
    expect(publicConfig).toEqual({ user: 'u' });
    expect(secrets).toEqual({ url: 'not a url :pw@' });
    expect(joinSecrets(publicConfig, secrets)).toEqual({ url: 'not a url :pw@', user: 'u' });
  });

  it('leaves configs without secrets alone', () => {
    const config = { file: 'shop.db' };
    expect(splitSecrets(config)).toEqual({ publicConfig: config, secrets: {} });
    const url = { url: 'postgres://u@h:5432/db' };
    expect(splitSecrets(url)).toEqual({ publicConfig: url, secrets: {} });
    expect(joinSecrets(config, null)).toEqual(config);
  });
});
