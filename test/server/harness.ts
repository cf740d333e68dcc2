import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { loadConfig } from '../../src/config.js';
import { buildServer } from '../../src/server/build-server.js';
import { engineLoggerOf } from '../../src/server/engine-logger.js';
import { openBraidApp, type BraidApp } from '../../src/services/braid-app.js';

export interface Harness {
  app: BraidApp;
  server: FastifyInstance;
  dataDir: string;
  /** Everything the server logged, as text (to prove secrets never reach it). */
  logs(): string;
  /** A request as the logged-in admin. */
  admin(options: InjectOptions): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export const ADMIN = { email: 'admin@example.test', password: 'correct horse battery' };

export interface HarnessOptions {
  /** Run syncs in the server's process, as `braid start` does (a short tick keeps tests quick). */
  runSyncs?: { tickMs?: number; leaseMs?: number };
}

/** A real Braid server (in-process, real metadata store in a temp dir) with an admin logged in. */
export async function startHarness(
  env: Record<string, string> = {},
  options: HarnessOptions = {},
): Promise<Harness> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'braid-server-'));
  const config = loadConfig({ BRAID_DATA_DIR: dataDir, BRAID_DEMO: '0', ...env });
  const app = await openBraidApp(config);
  await app.createAdmin(ADMIN.email, ADMIN.password);
  let logText = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      logText += chunk.toString();
      done();
    },
  });
  const server = await buildServer(app, { logger: { level: 'trace', stream } });
  if (options.runSyncs) {
    // The sync engine's lines go to the server log, as in `braid start`, not to the test's stderr.
    app.setLogger(engineLoggerOf(server.log));
    await app.runSyncs(options.runSyncs);
  }
  const login = await server.inject({ method: 'POST', url: '/api/auth/login', payload: ADMIN });
  if (login.statusCode !== 200) throw new Error(`login failed: ${login.body}`);
  const cookie = login.cookies.find((c) => c.name === 'braid_session')!;
  return {
    app,
    server,
    dataDir,
    logs: () => logText,
    admin: (options) =>
      server.inject({
        ...options,
        headers: { ...(options.headers ?? {}), cookie: `braid_session=${cookie.value}` },
      }),
    async close() {
      await server.close();
      await app.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** URL-encodes a path segment (table names and keys may hold any character). */
export const seg = (value: string): string => encodeURIComponent(value);
