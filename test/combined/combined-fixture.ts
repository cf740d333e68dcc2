import { createConnector } from '../../src/connectors/create-connector.js';
import type { Connector } from '../../src/connectors/connector.js';
import { parseCombinedDefinition } from '../../src/combined/combined-definition.js';
import type { CombinedTable } from '../../src/combined/combined-table.js';
import { resolveCombinedTable } from '../../src/combined/resolve-combined-table.js';
import { BraidError } from '../../src/model/errors.js';
import { qualifiedName } from '../../src/model/schema.js';
import { createSandbox, type Sandbox } from '../../src/sandbox/index.js';
import type { SourceKind } from '../../src/model/source.js';

/** Named sources over real servers, and combined tables resolved against them (no metadata store). */
export class CombinedFixture {
  readonly sandbox: Sandbox = createSandbox({ timeoutMs: 2000 });
  private readonly connectors = new Map<string, Connector>();

  add(id: string, kind: SourceKind, config: Record<string, unknown>): Connector {
    const connector = createConnector(kind, config as never);
    this.connectors.set(id, connector);
    return connector;
  }

  connector(id: string): Connector {
    return this.connectors.get(id)!;
  }

  /** Parses and resolves a definition; schemas are introspected afresh each time. */
  async table(definition: unknown, id = 'test'): Promise<CombinedTable> {
    return resolveCombinedTable(id, parseCombinedDefinition(definition), {
      sandbox: this.sandbox,
      resolveSourceId: (ref) => Promise.resolve(ref),
      resolveTable: async (sourceId, name) => {
        const connector = this.connectors.get(sourceId);
        if (!connector) throw new BraidError(404, 'unknown_source', `no source "${sourceId}"`);
        const schema = await connector.introspect();
        const table = schema.tables.find(
          (t) => qualifiedName(t, connector.defaultSchema) === name || t.name === name,
        );
        if (!table)
          throw new BraidError(404, 'unknown_table', `table "${name}" was not found in source "${sourceId}"`);
        return { connector, table };
      },
    });
  }

  async close(): Promise<void> {
    for (const connector of this.connectors.values()) await connector.close();
    await this.sandbox.close();
  }
}
