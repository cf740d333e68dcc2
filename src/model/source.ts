/** The engines Braid connects to. */
export const SOURCE_KINDS = ['postgres', 'mysql', 'sqlite'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

/**
 * How to reach a source. `url` wins over the separate fields. `password` and any password inside
 * `url` are secrets: the metadata store keeps them encrypted and no answer ever contains them.
 */
export interface SourceConfig {
  url?: string;
  host?: string;
  port?: number;
  database?: string;
  user?: string;
  password?: string;
  /** true: require TLS; 'verify': require TLS and verify the certificate; false/undefined: no TLS. */
  ssl?: boolean | 'verify';
  /** SQLite file path. */
  file?: string;
  /** PostgreSQL schemas to introspect (default: every non-system schema). */
  schemas?: string[];
  /** Connect and statement timeout in milliseconds (default 10 000). */
  timeoutMs?: number;
}
