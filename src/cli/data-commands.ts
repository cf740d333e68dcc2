import type { Command } from 'commander';
import { qualifiedName } from '../model/schema.js';
import { print, withApp } from './output.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerDataCommands(program: Command): void {
  const sources = program.command('sources').description('connect databases and fetch their tables');

  sources
    .command('add <name>')
    .description('add a source: --kind with --url, or --host/--port/--database/--user, or --file for SQLite')
    .requiredOption('--kind <kind>', 'postgres | mysql | sqlite')
    .option('--url <url>', 'connection URL')
    .option('--host <host>')
    .option('--port <port>', 'port', (v) => Number(v))
    .option('--database <database>')
    .option('--user <user>')
    .option(
      '--password-env <var>',
      'read the password from this environment variable (keeps it out of shell history)',
    )
    .option('--ssl <mode>', 'true | verify | false')
    .option('--file <file>', 'SQLite database file')
    .action(async (name: string, opts: Record<string, string | number | undefined>, command: Command) => {
      const config: Record<string, unknown> = {};
      for (const key of ['url', 'host', 'port', 'database', 'user', 'file'] as const) {
        if (opts[key] !== undefined) config[key] = opts[key];
      }
      if (opts.ssl !== undefined) config.ssl = opts.ssl === 'verify' ? 'verify' : opts.ssl === 'true';
      if (opts.passwordEnv) {
        const password = process.env[String(opts.passwordEnv)];
        if (password === undefined) throw new Error(`environment variable ${opts.passwordEnv} is not set`);
        config.password = password;
      }
      const view = await withApp((app) => app.sources.create({ name, kind: opts.kind, config }));
      print(command, view, { rows: [{ id: view.id, name: view.name, kind: view.kind }] });
    });

  sources
    .command('list')
    .description('list sources')
    .action(async (_opts, command: Command) => {
      const list = await withApp((app) => app.sources.list());
      print(command, list, {
        rows: list.map((s) => ({
          id: s.id,
          name: s.name,
          kind: s.kind,
          tables: s.tableCount ?? '',
          fetched: s.tablesFetchedAt ?? 'never',
        })),
      });
    });

  sources
    .command('test <source>')
    .description('connect to a source and report what happened')
    .action(async (source: string, _opts, command: Command) => {
      const result = await withApp(async (app) => app.sources.test(await app.sources.resolveId(source)));
      print(command, result, {
        rows: [
          result.ok
            ? { status: 'ok', server: result.serverVersion, latencyMs: result.latencyMs }
            : { status: result.code, message: result.message },
        ],
      });
      if (!result.ok) process.exitCode = 1;
    });

  sources
    .command('tables <source>')
    .description('fetch and list the tables of a source')
    .option('--cached', 'use the cached schema instead of fetching it again')
    .action(async (source: string, opts: { cached?: boolean }, command: Command) => {
      const schema = await withApp(async (app) => {
        const id = await app.sources.resolveId(source);
        return opts.cached ? app.sources.schema(id) : app.sources.refresh(id);
      });
      print(command, schema, {
        rows: schema.tables.map((t) => ({
          table: qualifiedName(t, 'public'),
          kind: t.kind,
          columns: t.columns.length,
          primaryKey: t.primaryKey.join(', '),
        })),
      });
    });

  program
    .command('rows')
    .description('read rows')
    .command('list <source> <table>')
    .description('list rows of a table with a filter, sort and page size')
    .option(
      '--where <json>',
      'filter as JSON, e.g. \'{"field":"email","op":"endsWith","value":"@acme.com"}\'',
    )
    .option('--sort <sort>', 'a,-b')
    .option('--limit <n>', 'rows per page', (v) => Number(v), 20)
    .option('--cursor <cursor>', 'continue after a previous page')
    .option('--include <relations>', 'also print the related rows of these relations (comma-separated)')
    .action(
      async (
        source: string,
        table: string,
        opts: { where?: string; sort?: string; limit: number; cursor?: string; include?: string },
        command: Command,
      ) => {
        const page = await withApp(async (app) =>
          app.rows.list(await app.sources.resolveId(source), table, {
            ...(opts.where ? { filter: opts.where } : {}),
            ...(opts.sort ? { sort: opts.sort } : {}),
            limit: opts.limit,
            ...(opts.cursor ? { cursor: opts.cursor } : {}),
            ...(opts.include ? { include: opts.include } : {}),
          }),
        );
        print(command, page, { rows: page.rows });
        if (!command.optsWithGlobals().json)
          for (const [name, related] of Object.entries(page.included ?? {})) {
            process.stdout.write(
              `\n${name} (${related.table}, by ${related.on.column} = ${related.on.relatedColumn})${related.truncated ? ', truncated' : ''}:\n`,
            );
            print(command, related.rows, { rows: related.rows });
          }
        if (!command.optsWithGlobals().json && page.next)
          process.stdout.write(`next page: --cursor ${page.next}\n`);
      },
    );

  program
    .command('query <source> <sql>')
    .description('run SQL with bound parameters: --bind name=value (repeatable) or --bindings JSON')
    .option('--bind <name=value>', 'a named binding', collect, [])
    .option('--bindings <json>', 'bindings as a JSON object or array')
    .action(
      async (source: string, sql: string, opts: { bind: string[]; bindings?: string }, command: Command) => {
        let bindings: Record<string, unknown> | unknown[] | undefined = opts.bindings
          ? JSON.parse(opts.bindings)
          : undefined;
        if (opts.bind.length > 0) {
          const named: Record<string, unknown> = {
            ...(bindings && !Array.isArray(bindings) ? bindings : {}),
          };
          for (const pair of opts.bind) {
            const at = pair.indexOf('=');
            if (at < 1) throw new Error(`--bind expects name=value, got "${pair}"`);
            named[pair.slice(0, at)] = pair.slice(at + 1);
          }
          bindings = named;
        }
        const result = await withApp(async (app) =>
          app.rows.query(await app.sources.resolveId(source), { sql, ...(bindings ? { bindings } : {}) }),
        );
        print(command, result, {
          rows: result.rows.length ? result.rows : [{ affectedRows: result.affectedRows ?? 0 }],
        });
      },
    );
}
