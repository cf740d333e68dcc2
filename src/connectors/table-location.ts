import type { Connector } from './connector.js';

/**
 * Where a table a person names (`name`, or `schema.name` on engines with schemas) is found or
 * created. An unqualified name goes to the connector's `createSchema` (for a PostgreSQL source
 * limited to some schemas, the first of them: a table created elsewhere would be invisible through
 * the source), else its default schema.
 */
export function tableLocation(connector: Connector, table: string): { schema: string | null; name: string } {
  if (!connector.capabilities.schemas) return { schema: null, name: table };
  const dot = table.indexOf('.');
  if (dot > 0) return { schema: table.slice(0, dot), name: table.slice(dot + 1) };
  return { schema: connector.createSchema ?? connector.defaultSchema, name: table };
}
