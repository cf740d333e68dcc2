import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { BraidConfig } from '../config.js';
import { JobQueue } from '../jobs/job-queue.js';
import { openMetaStore, type MetaStore } from '../meta/index.js';
import { AuthService, type User } from './auth-service.js';
import { BuiltinTablesService } from './builtin-tables-service.js';
import { CombinedMaterializations } from './combined-materializations.js';
import { CombinedService } from './combined-service.js';
import { ConsolidationsService } from './consolidations-service.js';
import { ExportsService } from './exports-service.js';
import { FileAccess } from './file-access.js';
import { ImportsService } from './imports-service.js';
import { ensureDemoWorkspace } from './demo-workspace.js';
import { createSandbox, type Sandbox } from '../sandbox/sandbox.js';
import { SyncEngine, type EngineLogger } from '../sync/engine/index.js';
import { RelationsService } from './relations-service.js';
import { RowsService } from './rows-service.js';
import { SourcesService } from './sources-service.js';
import { SyncSupervisor } from './sync-supervisor.js';
import { SyncsService } from './syncs-service.js';

export const DEMO_ADMIN_EMAIL = 'admin@braid.local';
const INITIAL_PASSWORD_FILE = 'initial-admin-password';

/** What `prepareFirstRun` did, for the start banner. */
export interface FirstRun {
  demoSources: string[];
  /** Lines telling the person how to log in, when Braid knows. */
  admin: string[] | null;
}

/**
 * The composition root: the metadata store and every service, wired once. The HTTP server and the
 * CLI both start from here, so they call the very same code.
 */
export class BraidApp {
  readonly auth: AuthService;
  readonly sources: SourcesService;
  readonly rows: RowsService;
  /** Links between tables of different sources; row reads include related rows through them. */
  readonly relations: RelationsService;
  readonly builtinTables: BuiltinTablesService;
  /** Runs user transforms (sync rules; automations later). */
  readonly sandbox: Sandbox;
  readonly syncEngine: SyncEngine;
  readonly syncs: SyncsService;
  /** Combined tables: one virtual table over tables of several sources, read and edited as one. */
  readonly combined: CombinedService;
  /** Combined tables materialized into a real table, kept current by a generated sync rule. */
  readonly combinedMaterializations: CombinedMaterializations;
  /** Set once `runSyncs` was called: this process then runs syncs (the server, a worker). */
  private supervisor: SyncSupervisor | null = null;
  /**
   * Durable jobs (imports, consolidations...). Every process can submit and watch them; the ones
   * that call `runJobs` (`braid start`, `braid worker`) also claim queued jobs.
   */
  readonly jobs: JobQueue;
  private jobsRunning: Promise<void> | null = null;
  /** Server-side files the API may read, and where uploads are kept until their job ends. */
  readonly files: FileAccess;
  readonly imports: ImportsService;
  readonly exports: ExportsService;
  readonly consolidations: ConsolidationsService;
  private log: EngineLogger = stderrLogger;

  constructor(
    readonly config: BraidConfig,
    readonly meta: MetaStore,
  ) {
    this.auth = new AuthService(meta);
    this.sources = new SourcesService(meta.sources, config.dataDir);
    this.relations = new RelationsService(meta.relations, this.sources);
    this.rows = new RowsService(this.sources, this.relations);
    this.builtinTables = new BuiltinTablesService(this.sources);
    this.sources.setUsageCheck(async (id) => [
      ...(await this.syncs.list())
        .filter((sync) => sync.rule.members.some((member) => member.source === id))
        .map((sync) => `sync "${sync.name}"`),
      ...(await this.relations.usersOf(id)),
      ...(await this.combined.usersOf(id)),
    ]);
    this.sandbox = createSandbox();
    // The engine logs through `this.log`, so the server can route it into its own logger later.
    const logger: EngineLogger = {
      info: (message, details) => this.log.info(message, details),
      warn: (message, details) => this.log.warn(message, details),
      error: (message, details) => this.log.error(message, details),
    };
    this.syncEngine = new SyncEngine({
      store: meta,
      sources: this.sources,
      sandbox: this.sandbox,
      logger,
      pollingDir: path.join(config.dataDir, 'polling'),
    });
    this.jobs = new JobQueue({
      store: meta,
      logger,
      leaseMs: config.jobLeaseMs,
      heartbeatMs: Math.min(2_000, Math.max(100, Math.floor(config.jobLeaseMs / 4))),
    });
    this.files = new FileAccess(config.fileRoots, path.join(config.dataDir, 'uploads'));
    this.imports = new ImportsService({
      sources: this.sources,
      jobs: this.jobs,
      files: this.files,
      rejectsDir: path.join(config.dataDir, 'imports'),
    });
    this.exports = new ExportsService(this.sources, () => this.combined);
    this.consolidations = new ConsolidationsService({
      sources: this.sources,
      jobs: this.jobs,
      sandbox: this.sandbox,
      files: this.files,
      workDir: path.join(config.dataDir, 'consolidations'),
    });
    this.syncs = new SyncsService({
      store: meta,
      sources: this.sources,
      engine: this.syncEngine,
      sandbox: this.sandbox,
      supervisor: () => this.supervisor,
      jobs: this.jobs,
    });
    this.combined = new CombinedService({ store: meta, sources: this.sources, sandbox: this.sandbox });
    this.combinedMaterializations = new CombinedMaterializations({
      store: meta,
      sources: this.sources,
      combined: this.combined,
      syncs: this.syncs,
      jobs: this.jobs,
    });
  }

  /** Where the sync engine and supervisor write what they do (stderr lines by default). */
  setLogger(logger: EngineLogger): void {
    this.log = logger;
  }

  /**
   * Makes this process run syncs: a supervisor takes the lease of each active sync nobody else
   * runs. Resolves after the first round (the syncs found are started or failed to start).
   */
  async runSyncs(options: { tickMs?: number; leaseMs?: number } = {}): Promise<SyncSupervisor> {
    if (!this.supervisor) {
      this.supervisor = new SyncSupervisor({
        store: this.meta,
        engine: this.syncEngine,
        logger: this.log,
        ...options,
      });
      await this.supervisor.start();
    }
    return this.supervisor;
  }

  /** Makes this process claim and run queued jobs of the kinds it has handlers for (once). */
  async runJobs(): Promise<void> {
    this.jobsRunning ??= this.jobs.start();
    await this.jobsRunning;
  }

  createAdmin(email: string, password: string): Promise<User> {
    return this.auth.createAdmin(email, password);
  }

  /**
   * First start: the admin from BRAID_ADMIN_EMAIL/PASSWORD, or, with nothing configured, a
   * generated one whose password is shown once and kept in a 0600 file in the data dir; and the
   * demo workspace unless BRAID_DEMO=0.
   */
  async prepareFirstRun(): Promise<FirstRun> {
    const result: FirstRun = { demoSources: [], admin: null };
    const fromEnv = await this.auth.ensureAdminFromEnv({
      adminEmail: this.config.adminEmail,
      adminPassword: this.config.adminPassword,
    });
    if (fromEnv.created)
      result.admin = [`  admin login: ${this.config.adminEmail} (password from BRAID_ADMIN_PASSWORD)`];
    const passwordFile = path.join(this.config.dataDir, INITIAL_PASSWORD_FILE);
    if ((await this.auth.listUsers()).length === 0) {
      const password = randomBytes(12).toString('base64url');
      await this.auth.createAdmin(DEMO_ADMIN_EMAIL, password);
      await fs.writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
      result.admin = [
        `  admin login: ${DEMO_ADMIN_EMAIL} / ${password}`,
        `  (shown once; also in ${passwordFile}, readable only by you: change it or delete the file)`,
      ];
    } else if (!result.admin) {
      const hasFile = await fs.access(passwordFile).then(
        () => true,
        () => false,
      );
      result.admin = hasFile ? [`  admin login: ${DEMO_ADMIN_EMAIL}, password in ${passwordFile}`] : null;
    }
    if (this.config.demo) result.demoSources = await ensureDemoWorkspace(this.config.dataDir, this.sources);
    return result;
  }

  async close(): Promise<void> {
    // Syncs first: their leases are released so another process takes over without waiting.
    await this.supervisor?.stop();
    // Jobs running here end as `interrupted` (resumable) before the store closes.
    await this.jobs.stop();
    await this.syncEngine.stopAll();
    await this.sources.closeAll();
    await this.sandbox.close();
    await this.meta.close();
  }
}

export async function openBraidApp(config: BraidConfig): Promise<BraidApp> {
  await fs.mkdir(config.dataDir, { recursive: true });
  const meta = await openMetaStore({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    secretKey: config.secretKey,
  });
  return new BraidApp(config, meta);
}

/** One line per message on stderr: `level message {details}`. */
const stderrLogger: EngineLogger = {
  info: (message, details) => writeLine('info', message, details),
  warn: (message, details) => writeLine('warn', message, details),
  error: (message, details) => writeLine('error', message, details),
};

function writeLine(level: string, message: string, details?: Record<string, unknown>): void {
  process.stderr.write(
    `${new Date().toISOString()} ${level} ${message}${details ? ` ${JSON.stringify(details)}` : ''}\n`,
  );
}
