import type { Connector } from '../connectors/connector.js';
import type { DatabaseSchema, TableSchema } from '../model/schema.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import type { ConsolidationDefinition } from './consolidation-definition.js';

/** What the job needs from the sources layer (implemented by the sources service). */
export interface SourceAccess {
  resolveId(idOrName: string): Promise<string>;
  resolveTable(id: string, name: string): Promise<{ connector: Connector; table: TableSchema }>;
  connector(id: string): Promise<Connector>;
  refresh(id: string): Promise<DatabaseSchema>;
  /** Checks that a server-side file may be read (inside the allowed directories) and answers its path. */
  checkFile(file: string): Promise<string>;
}

export interface ConsolidationRun {
  jobId: string;
  definition: ConsolidationDefinition;
  /** Plan only: read, match and merge into the work store, write nothing to the target. */
  dryRun: boolean;
  /** The job's work store lives here (kept after the job for its report and lineage). */
  workDir: string;
  sandbox: Sandbox;
  sources: SourceAccess;
  signal?: AbortSignal;
  progress(update: { phase: string; done: number; total: number | null; unit: string }): void;
  log(level: 'info' | 'warn' | 'error', message: string, details?: Record<string, unknown>): void;
}
