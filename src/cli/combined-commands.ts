import fs from 'node:fs/promises';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { CombinedPage, CombinedRow } from '../combined/combined-table.js';
import type { CombinedWriteResult } from '../combined/combined-writes.js';
import { badRequest } from '../model/errors.js';
import type { CombinedListParams, CombinedTableView } from '../services/combined-service.js';
import { formatTable } from './format-table.js';
import { print, wantsJson, withApp } from './output.js';

type PageOptions = {
  filter?: string;
  sort?: string;
  limit?: number;
  cursor?: string;
  offset?: number;
  fields?: string;
  count?: boolean | string;
};
type SetOptions = { set: string[]; setJson: string[] };

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/**
 * `braid combined ...`: combined tables from the command line, on the same CombinedService as the
 * API. A combined table is named by id or by name wherever one is taken.
 */
export function registerCombinedCommands(program: Command): void {
  const combined = program
    .command('combined')
    .description('one table over tables of several databases, matched by a key');

  combined
    .command('list')
    .description('list combined tables')
    .action(async (_opts, command: Command) => {
      const list = await withApp((app) => app.combined.list());
      print(command, list, { rows: list.map(summary) });
    });

  combined
    .command('show <table>')
    .description('show a combined table definition (id or name)')
    .action(async (ref: string, _opts, command: Command) => {
      print(command, await withApp((app) => app.combined.get(ref)));
    });

  combined
    .command('create <file>')
    .description('create a combined table from a JSON or YAML file (the body of POST /api/combined)')
    .action(async (file: string, _opts, command: Command) => {
      const body = await readDefinition(file);
      const view = await withApp((app) => app.combined.create(body));
      print(command, view, { rows: [summary(view)] });
    });

  combined
    .command('update <table> <file>')
    .description('replace the definition of a combined table')
    .action(async (ref: string, file: string, _opts, command: Command) => {
      const body = await readDefinition(file);
      const view = await withApp((app) => app.combined.update(ref, body));
      print(command, view, { rows: [summary(view)] });
    });

  combined
    .command('delete <table>')
    .description('delete a combined table (its members keep their rows)')
    .action(async (ref: string, _opts, command: Command) => {
      const id = await withApp(async (app) => {
        const { id: found } = await app.combined.get(ref);
        await app.combined.remove(found);
        return found;
      });
      print(command, { id, deleted: true }, { rows: [{ id, deleted: true }] });
    });

  pageOptions(
    combined
      .command('preview <file>')
      .description('check a definition file and show its columns and first rows, without storing it'),
  ).action(async (file: string, opts: PageOptions, command: Command) => {
    const body = await readDefinition(file);
    const preview = await withApp((app) => app.combined.preview(body, listParams(opts)));
    if (wantsJson(command)) return print(command, preview);
    const columns = preview.columns.map((c) => ({
      column: c.name,
      type: c.type,
      from: c.owners.map((o) => `${o.member}.${o.column}`).join(', '),
    }));
    process.stdout.write(`${formatTable(columns)}\n\n`);
    printPage(command, preview.page);
  });

  pageOptions(
    combined.command('rows <table>').description('list rows with a filter, sort and page size'),
  ).action(async (ref: string, opts: PageOptions, command: Command) => {
    printPage(command, await withApp((app) => app.combined.rows(ref, listParams(opts))));
  });

  registerRowCommands(combined);
}

function registerRowCommands(combined: Command): void {
  combined
    .command('get-row <table> <key>')
    .description('show one row (by its _key) and the member rows behind it')
    .action(async (ref: string, key: string, _opts, command: Command) => {
      print(command, await withApp((app) => app.combined.getRow(ref, key)));
    });

  setOptions(
    combined
      .command('update-row <table> <key>')
      .description('change columns of a row; each is written to the members owning it'),
  ).action(async (ref: string, key: string, opts: SetOptions, command: Command) => {
    const changes = values(opts);
    printWrite(command, await withApp((app) => app.combined.updateRow(ref, key, changes)));
  });

  setOptions(
    combined.command('insert-row <table>').description('insert a row into the members that take inserts'),
  ).action(async (ref: string, opts: SetOptions, command: Command) => {
    const row = values(opts);
    printWrite(command, await withApp((app) => app.combined.insertRow(ref, row)));
  });

  combined
    .command('delete-row <table> <key>')
    .description("delete a row from the members the table's delete policy names")
    .action(async (ref: string, key: string, _opts, command: Command) => {
      printWrite(command, await withApp((app) => app.combined.deleteRow(ref, key)));
    });
}

function pageOptions(command: Command): Command {
  return command
    .option(
      '--filter <json>',
      'filter as JSON, e.g. \'{"field":"email","op":"endsWith","value":"@acme.com"}\'',
    )
    .option('--sort <sort>', 'a,-b')
    .option('--limit <n>', 'rows per page', (v) => Number(v), 20)
    .option('--cursor <cursor>', 'continue after a previous page')
    .option('--offset <n>', 'skip this many rows', (v) => Number(v))
    .option('--fields <columns>', 'only these columns (comma-separated)')
    .option('--count [mode]', 'also count the rows: exactly, or "estimate" from the members counts');
}

function setOptions(command: Command): Command {
  return command
    .option('--set <column=value>', 'a column value, as text (repeatable)', collect, [])
    .option('--set-json <column=json>', 'a column value as JSON, e.g. phone=null (repeatable)', collect, []);
}

function listParams(opts: PageOptions): CombinedListParams {
  return {
    ...(opts.filter ? { filter: opts.filter } : {}),
    ...(opts.sort ? { sort: opts.sort } : {}),
    ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
    ...(opts.cursor ? { cursor: opts.cursor } : {}),
    ...(opts.offset !== undefined ? { offset: opts.offset } : {}),
    ...(opts.fields ? { fields: opts.fields } : {}),
    ...(opts.count !== undefined ? { count: opts.count } : {}),
  };
}

/** `--set a=text` and `--set-json b=null` as one object of column values. */
function values(opts: SetOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const split = (pair: string, flag: string): [string, string] => {
    const at = pair.indexOf('=');
    if (at < 1) throw badRequest('invalid_value', `${flag} expects column=value, got "${pair}"`);
    return [pair.slice(0, at), pair.slice(at + 1)];
  };
  for (const pair of opts.set) {
    const [column, text] = split(pair, '--set');
    out[column] = text;
  }
  for (const pair of opts.setJson) {
    const [column, text] = split(pair, '--set-json');
    try {
      out[column] = JSON.parse(text);
    } catch (err) {
      throw badRequest('invalid_value', `--set-json ${column}: not JSON: ${(err as Error).message}`);
    }
  }
  if (Object.keys(out).length === 0)
    throw badRequest('invalid_value', 'give at least one --set column=value');
  return out;
}

async function readDefinition(file: string): Promise<unknown> {
  const text = await fs.readFile(file, 'utf8');
  try {
    // YAML is a superset of JSON, so one parser reads both.
    return parseYaml(text) as unknown;
  } catch (err) {
    throw badRequest('invalid_definition', `${file} is not valid JSON or YAML: ${(err as Error).message}`);
  }
}

function summary(view: CombinedTableView): Record<string, unknown> {
  return {
    id: view.id,
    name: view.name,
    join: view.definition.join,
    members: view.definition.members.map((m) => `${m.name}: ${m.table}`).join(', '),
    columns: view.definition.columns.length,
  };
}

/** Rows for people: the key first (get-row takes it), then the columns; `_members` is in `--json`. */
function forPeople(rows: CombinedRow[]): Record<string, unknown>[] {
  return rows.map(({ _key, _members: _ignored, ...rest }) => ({ _key, ...rest }));
}

function printPage(command: Command, page: CombinedPage): void {
  print(command, page, { rows: forPeople(page.rows) });
  if (wantsJson(command)) return;
  if (page.total !== undefined)
    process.stdout.write(`${page.totalExact === false ? 'about ' : ''}${page.total} rows\n`);
  if (page.next) process.stdout.write(`next page: --cursor ${page.next}\n`);
}

function printWrite(command: Command, result: CombinedWriteResult): void {
  const members = result.members.map((m) => ({
    member: m.member,
    action: m.action,
    error: m.error?.message,
  }));
  print(command, result, { rows: members });
  if (!wantsJson(command) && result.row) process.stdout.write(`\n${formatTable(forPeople([result.row]))}\n`);
}
