import type { Command } from 'commander';
import type { Relation } from '../meta/relations-repository.js';
import { print, withApp } from './output.js';

function parseEnd(text: string): { source: string; table: string; column?: string } {
  // source:table[.column], e.g. billing:invoices.customer_id or crm:customers
  const colon = text.indexOf(':');
  const rest = text.slice(colon + 1);
  const dot = rest.lastIndexOf('.');
  return colon <= 0
    ? { source: '', table: '' }
    : dot > 0
      ? { source: text.slice(0, colon), table: rest.slice(0, dot), column: rest.slice(dot + 1) }
      : { source: text.slice(0, colon), table: rest };
}

const row = (r: Relation) => ({
  id: r.id,
  name: r.name,
  from: `${r.from.table}.${r.from.column}`,
  to: `${r.to.table}.${r.to.column}`,
  reverse: r.reverseName,
});

/** `braid relations ...`: links between tables of different sources, for `rows list --include`. */
export function registerRelationsCommands(program: Command): void {
  const relations = program
    .command('relations')
    .description('relationships between tables of different sources');

  relations
    .command('add <name> <from> <to>')
    .description(
      'link SOURCE:TABLE.COLUMN to SOURCE:TABLE[.COLUMN] (default: its key), e.g. billing:invoices.customer_id crm:customers',
    )
    .option('--reverse <name>', 'name of the relation seen from the other table (default: the from table)')
    .action(async (name: string, from: string, to: string, opts: { reverse?: string }, command: Command) => {
      const toEnd = parseEnd(to);
      const fromEnd = parseEnd(from);
      // "schema.table.column" on the from side keeps the last dot for the column; on the to side a
      // column is optional, so a qualified table must name its column too.
      const created = await withApp((app) =>
        app.relations.create({
          name,
          from: fromEnd,
          to: toEnd,
          ...(opts.reverse ? { reverseName: opts.reverse } : {}),
        }),
      );
      print(command, created, { rows: [row(created)] });
    });

  relations
    .command('list')
    .description('list relations')
    .action(async (_opts, command: Command) => {
      const list = await withApp((app) => app.relations.list());
      print(command, list, { rows: list.map(row) });
    });

  relations
    .command('remove <id>')
    .description('remove a relation')
    .action(async (id: string) => {
      await withApp((app) => app.relations.remove(id));
    });
}
