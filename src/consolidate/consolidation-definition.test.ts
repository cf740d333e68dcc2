import { describe, expect, it } from 'vitest';
import { BraidError } from '../model/errors.js';
import { parseDefinitionText } from './consolidation-definition.js';

const YAML = `
name: leads
target: { source: master }
tables:
  - table: customers
    create: true
    key: { column: id, generate: sequence }
    inputs:
      - { name: east, source: east_db, table: leads, columns: { email: email, phone: { from: tel, transform: "value.trim()" } } }
      - { source: west_db, table: people, priority: 5, updatedAt: changed, columns: { email: mail, phone: phone } }
    match:
      exact:
        - [{ field: email, normalize: [email] }]
        - phone
      fuzzy:
        fields: [{ field: email, comparator: jaro_winkler }, { field: phone, comparator: digits }]
        threshold: 0.9
        blocking: [{ field: phone, key: digits_last7 }]
    resolve: { default: newest, fields: { phone: manual } }
    decisions:
      - { entity: "east:1", field: phone, input: people }
  - table: orders
    key: { column: id }
    inputs:
      - { name: east_orders, source: east_db, table: orders, columns: { customer_id: customer, total: total },
          references: { customer_id: { table: customers } } }
`;

function error(text: string): BraidError {
  try {
    parseDefinitionText(text);
  } catch (err) {
    return err as BraidError;
  }
  throw new Error('expected the definition to be refused');
}

describe('consolidation definitions', () => {
  it('reads YAML with defaults filled in', () => {
    // The unnamed input is named after its table.
    const def = parseDefinitionText(YAML);
    expect(def.onInvalidRow).toBe('fail');
    const [customers, orders] = def.tables;
    expect(customers!.inputs.map((i) => [i.name, i.priority])).toEqual([
      ['east', 1],
      ['people', 5],
    ]);
    expect(customers!.inputs[0]!.columns.phone).toEqual({
      from: 'tel',
      transform: 'value.trim()',
      type: null,
    });
    expect(customers!.exact).toEqual([
      [{ field: 'email', normalize: ['email'] }],
      [{ field: 'phone', normalize: ['trim'] }],
    ]);
    expect(customers!.fuzzy?.threshold).toBe(0.9);
    expect(customers!.resolve).toEqual({ default: 'newest', fields: { phone: 'manual' } });
    expect(orders!.inputs[0]!.references).toEqual({ customer_id: { table: 'customers', input: null } });
    expect(orders!.key).toEqual({ column: 'id', generate: 'sequence' });
  });

  it('accepts one table written at the top level, as JSON', () => {
    const def = parseDefinitionText(
      JSON.stringify({
        name: 'one',
        target: { source: 's' },
        table: 't',
        inputs: [{ file: 'a.csv', columns: { x: 'X' } }],
      }),
    );
    expect(def.tables[0]!.table).toBe('t');
    expect(def.tables[0]!.inputs[0]!.file).toBe('a.csv');
  });

  it('names the path of every mistake', () => {
    expect(error('name: [').code).toBe('invalid_definition');
    expect(error(YAML.replace('default: newest', 'default: loudest')).message).toContain(
      'tables[0].resolve.default: must be one of priority, newest, most_common, manual',
    );
    expect(error(YAML.replace('- phone\n', '- fax\n')).message).toContain(
      'tables[0].match.exact[1].field: "fax" is not mapped',
    );
    expect(error(YAML.replace('input: people', 'input: nowhere')).message).toContain(
      'no input named "nowhere"',
    );
    expect(error(YAML.replace('table: customers }', 'table: invoices }')).message).toContain(
      'must name a table listed before this one',
    );
    expect(error(YAML.replace('threshold: 0.9', 'treshold: 0.9')).code).toBe('invalid_fuzzy');
    expect(
      error(YAML.replace('source: west_db, table: people,', 'file: x.csv, source: west_db, table: people,'))
        .message,
    ).toContain('give either source and table, or file');
    expect(
      error(YAML.replace('{ from: tel, transform: "value.trim()" }', '{ value: 1, from: tel }')).message,
    ).toContain('a constant value takes neither from nor transform');
    expect(error(YAML.replace('name: leads', 'name: leads\nmode: fast')).message).toContain(
      'definition.mode: unknown setting',
    );
  });
});
