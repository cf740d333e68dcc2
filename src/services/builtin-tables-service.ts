import { badRequest } from '../model/errors.js';
import type { AlterTableChange, TableDefinition, TableSchema } from '../model/schema.js';
import { BUILTIN_SOURCE_ID, type SourcesService } from './sources-service.js';

/**
 * Built-in tables: tables Braid itself keeps in an embedded SQLite database, designed from
 * portable types and served by the same row API as any source.
 */
export class BuiltinTablesService {
  constructor(private readonly sources: SourcesService) {}

  async create(body: unknown): Promise<TableSchema> {
    const definition = body as TableDefinition;
    if (!definition || typeof definition !== 'object' || typeof definition.name !== 'string') {
      throw badRequest('invalid_table', 'send a table definition {name, columns, primaryKey?}');
    }
    const schema = await this.sources.schema(BUILTIN_SOURCE_ID);
    if (schema.tables.some((t) => t.name === definition.name)) {
      throw badRequest('table_exists', `a built-in table "${definition.name}" already exists`, {
        table: definition.name,
      });
    }
    const connector = await this.sources.connector(BUILTIN_SOURCE_ID);
    await connector.createTable({ ...definition, schema: null });
    return this.find(definition.name, true);
  }

  async alter(name: string, body: unknown): Promise<TableSchema> {
    const changes = (body as { changes?: AlterTableChange[] })?.changes;
    if (!Array.isArray(changes) || changes.length === 0) {
      throw badRequest(
        'invalid_body',
        'send {changes: [{op: "addColumn"|"dropColumn"|"renameColumn", ...}]}',
      );
    }
    const { connector, table } = await this.sources.resolveTable(BUILTIN_SOURCE_ID, name);
    await connector.alterTable(table, changes);
    return this.find(name, true);
  }

  async drop(name: string): Promise<void> {
    const { connector, table } = await this.sources.resolveTable(BUILTIN_SOURCE_ID, name);
    await connector.dropTable(table);
    await this.sources.refresh(BUILTIN_SOURCE_ID);
  }

  private async find(name: string, refresh: boolean): Promise<TableSchema> {
    const schema = refresh
      ? await this.sources.refresh(BUILTIN_SOURCE_ID)
      : await this.sources.schema(BUILTIN_SOURCE_ID);
    const table = schema.tables.find((t) => t.name === name);
    if (!table) throw new Error(`built-in table "${name}" missing right after it was written`);
    return table;
  }
}
