import { badRequest } from '../model/errors.js';
import type { SourceConfig, SourceKind } from '../connectors/connector.js';
import { SOURCE_KINDS } from '../model/source.js';

/** What a person sends to add or change a source. */
export interface SourceInput {
  name: string;
  kind: SourceKind;
  config: SourceConfig;
}

const CONFIG_FIELDS: Record<keyof SourceConfig, 'string' | 'number' | 'ssl' | 'strings'> = {
  url: 'string',
  host: 'string',
  port: 'number',
  database: 'string',
  user: 'string',
  password: 'string',
  ssl: 'ssl',
  file: 'string',
  schemas: 'strings',
  timeoutMs: 'number',
};

/** Checks a source config field by field, naming the first bad one. */
export function validateSourceConfig(kind: SourceKind, config: unknown): SourceConfig {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw badRequest('invalid_config', 'config must be an object');
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    const rule = CONFIG_FIELDS[key as keyof SourceConfig];
    if (!rule)
      throw badRequest('invalid_config', `config.${key} is not a known setting`, { field: `config.${key}` });
    if (value === undefined || value === null) continue;
    const ok =
      (rule === 'string' && typeof value === 'string') ||
      (rule === 'number' && typeof value === 'number' && Number.isInteger(value) && value > 0) ||
      (rule === 'ssl' && (typeof value === 'boolean' || value === 'verify')) ||
      (rule === 'strings' && Array.isArray(value) && value.every((v) => typeof v === 'string'));
    if (!ok)
      throw badRequest('invalid_config', `config.${key} has the wrong type`, { field: `config.${key}` });
    out[key] = value;
  }
  const result = out as SourceConfig;
  if (kind === 'sqlite') {
    if (!result.file)
      throw badRequest('invalid_config', 'a sqlite source needs config.file', { field: 'config.file' });
  } else if (result.url) {
    let parsed: URL;
    try {
      parsed = new URL(result.url);
    } catch {
      throw badRequest('invalid_config', 'config.url is not a valid URL', { field: 'config.url' });
    }
    const protocols = kind === 'postgres' ? ['postgres:', 'postgresql:'] : ['mysql:', 'mariadb:'];
    if (!protocols.includes(parsed.protocol)) {
      throw badRequest('invalid_config', `config.url must start with ${protocols.join(' or ')}//`, {
        field: 'config.url',
      });
    }
  } else if (!result.host) {
    throw badRequest('invalid_config', 'give config.url, or config.host with database and user', {
      field: 'config.host',
    });
  }
  return result;
}

export function validateSourceInput(body: unknown, partial = false): Partial<SourceInput> {
  const input = (body ?? {}) as Record<string, unknown>;
  const out: Partial<SourceInput> = {};
  if (input.name !== undefined || !partial) {
    if (typeof input.name !== 'string' || input.name.trim() === '') {
      throw badRequest('invalid_source', 'name is required', { field: 'name' });
    }
    out.name = input.name.trim();
  }
  if (input.kind !== undefined || !partial) {
    if (!(SOURCE_KINDS as readonly string[]).includes(input.kind as string)) {
      throw badRequest('invalid_source', `kind must be one of ${SOURCE_KINDS.join(', ')}`, { field: 'kind' });
    }
    out.kind = input.kind as SourceKind;
  }
  return out;
}
