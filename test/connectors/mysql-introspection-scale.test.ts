import { describe, expect, it } from 'vitest';
import { MYSQL_AVAILABLE, useMysqlDatabase } from './mysql-fixture.js';

const TABLES = 2000;

/** 2 000 tables, each with 8 columns, a unique index and a foreign key to the previous one. */
function ddl(): string {
  const statements: string[] = [];
  for (let i = 0; i < TABLES; i++) {
    const fk =
      i === 0 ? '' : `, parent_id int, constraint fk_${i} foreign key (parent_id) references t${i - 1} (id)`;
    statements.push(
      `create table t${i} (id int primary key auto_increment, name varchar(80) not null, email varchar(120),
        note text, amount decimal(12,2), created datetime(6), data json, unique key uq_${i}_email (email)${fk});`,
    );
  }
  return statements.join('\n');
}

describe.skipIf(!MYSQL_AVAILABLE)('MySQL introspection at scale', () => {
  const db = useMysqlDatabase('scale', ddl());

  it(
    `introspects ${TABLES} tables completely (speed: bench/introspect.ts)`,
    { timeout: 60_000 },
    async () => {
      await db.connector.introspect(); // first run also opens the pool
      const { tables } = await db.connector.introspect();
      expect(tables).toHaveLength(TABLES);
      const t5 = tables.find((t) => t.name === 't5')!;
      expect(t5.columns).toHaveLength(8);
      expect(t5.columns.find((c) => c.name === 'data')!.type).toBe('json');
      expect(t5.foreignKeys).toEqual([
        expect.objectContaining({ name: 'fk_5', referencedTable: 't4', columns: ['parent_id'] }),
      ]);
      expect(t5.uniqueIndexes).toEqual([{ name: 'uq_5_email', columns: ['email'] }]);
    },
  );
});
