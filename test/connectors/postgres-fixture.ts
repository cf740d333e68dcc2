import { afterAll, beforeAll } from 'vitest';
import type { Connector, SourceConfig } from '../../src/connectors/connector.js';
import { createPostgresConnector } from '../../src/connectors/postgres/index.js';
import type { TableSchema } from '../../src/model/schema.js';
import { createPostgresSchema, postgresExec, POSTGRES_URL } from '../support/servers.js';

/**
 * One PostgreSQL schema per test file, created with `ddl` (run with search_path set to it) and
 * dropped afterwards, and a connector limited to that schema.
 */
export interface PgFixture {
  readonly schema: string;
  readonly connector: Connector;
  /** Introspects again and answers the table of that name. */
  table(name: string): Promise<TableSchema>;
  exec(statements: string): Promise<void>;
  /** Another connector on the same schema (closed by the fixture). */
  open(config?: Partial<SourceConfig>): Connector;
}

export function usePostgresSchema(prefix: string, ddl = ''): PgFixture {
  let schema = '';
  let connector: Connector | undefined;
  const extra: Connector[] = [];
  let drop: (() => Promise<void>) | undefined;

  const fixture: PgFixture = {
    get schema() {
      return schema;
    },
    get connector() {
      if (!connector) throw new Error('fixture not ready (did beforeAll fail?)');
      return connector;
    },
    async table(name) {
      const { tables } = await fixture.connector.introspect();
      const found = tables.find((t) => t.schema === schema && t.name === name);
      if (!found) throw new Error(`table ${name} not found in ${schema}`);
      return found;
    },
    exec: (statements) => postgresExec(schema, statements),
    open(config = {}) {
      const c = createPostgresConnector({ url: POSTGRES_URL, schemas: [schema], ...config });
      extra.push(c);
      return c;
    },
  };

  beforeAll(async () => {
    const created = await createPostgresSchema(prefix);
    schema = created.schema;
    drop = created.drop;
    if (ddl) await postgresExec(schema, ddl);
    connector = createPostgresConnector({ url: POSTGRES_URL, schemas: [schema] });
  });

  afterAll(async () => {
    await Promise.all([connector?.close(), ...extra.map((c) => c.close())]);
    await drop?.();
  });

  return fixture;
}
