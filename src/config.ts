import path from 'node:path';

/** Braid's configuration, read from the environment (12-factor). */
export interface BraidConfig {
  /** Where the metadata store, the key file, built-in tables and the demo live. */
  dataDir: string;
  /** Metadata store: a PostgreSQL URL, or undefined for the SQLite file in dataDir. */
  databaseUrl: string | undefined;
  /** Enables BullMQ workers when set (later issues). */
  redisUrl: string | undefined;
  /** 32-byte key (hex or base64) or a passphrase; else a key file in dataDir. */
  secretKey: string | undefined;
  port: number;
  host: string;
  /** Create the demo workspace on first start. */
  demo: boolean;
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  /** Largest accepted request body in bytes (JSON; CSV uploads stream to disk without this limit). */
  bodyLimit: number;
  /**
   * Directories the HTTP API may read server-side files from (imports, CSV inputs of
   * consolidations): BRAID_FILE_ROOTS, separated by the platform's path delimiter; always includes
   * `<dataDir>/files`. The CLI reads any file its user can.
   */
  fileRoots: string[];
  /**
   * How long a job's owner may go silent before another process declares the job interrupted
   * (BRAID_JOB_LEASE_MS, default 15 s). Shorter means faster recovery after a crash, at the cost of
   * more heartbeats.
   */
  jobLeaseMs: number;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): BraidConfig {
  const port = Number(env.PORT ?? 4100);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be a port number, got "${env.PORT}"`);
  const dataDir = path.resolve(env.BRAID_DATA_DIR ?? '.braid');
  return {
    dataDir,
    databaseUrl: env.BRAID_DATABASE_URL || undefined,
    redisUrl: env.BRAID_REDIS_URL || undefined,
    secretKey: env.BRAID_SECRET_KEY || undefined,
    port,
    host: env.HOST ?? '127.0.0.1',
    demo: env.BRAID_DEMO !== '0',
    adminEmail: env.BRAID_ADMIN_EMAIL || undefined,
    adminPassword: env.BRAID_ADMIN_PASSWORD || undefined,
    bodyLimit: Number(env.BRAID_BODY_LIMIT ?? 10 * 1024 * 1024),
    jobLeaseMs: Number(env.BRAID_JOB_LEASE_MS ?? 15_000),
    fileRoots: [
      path.join(dataDir, 'files'),
      ...(env.BRAID_FILE_ROOTS ?? '')
        .split(path.delimiter)
        .filter(Boolean)
        .map((root) => path.resolve(root)),
    ],
  };
}
