import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import type { ImportJobResult } from '../services/imports-service.js';
import { badRequest } from '../model/errors.js';
import { followJob } from './follow-job.js';
import { print, wantsJson, withApp } from './output.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `--map "E-Mail=email" --map "Notes=-"`: a header to a column, `-` to skip the CSV column. */
function mappingOf(pairs: string[]): Record<string, string | null> | undefined {
  if (pairs.length === 0) return undefined;
  const mapping: Record<string, string | null> = {};
  for (const pair of pairs) {
    const at = pair.lastIndexOf('=');
    if (at <= 0) throw badRequest('invalid_mapping', `--map expects "CSV header=column", got "${pair}"`);
    const column = pair.slice(at + 1).trim();
    mapping[pair.slice(0, at)] = column === '-' ? null : column;
  }
  return mapping;
}

async function write(out: Writable, chunk: string): Promise<void> {
  if (!out.write(chunk)) await once(out, 'drain');
}

/** `braid import` and `braid export`: CSV in and out of any table, streamed, with no row cap. */
export function registerTransferCommands(program: Command): void {
  program
    .command('import <file> <source> <table>')
    .description('load a CSV file into a table (all or nothing by default), with a progress bar')
    .option('--create', 'create the table from the CSV, with column types inferred from all of it')
    .option('--skip-bad-rows', 'load the valid rows and write the others to a rejects file')
    .option('--map <header=column>', 'map a CSV header to a column ("-" skips it); repeatable', collect, [])
    .option('--ignore-unknown', 'skip CSV columns that match no column of the table')
    .option('--delimiter <char>', 'field delimiter (detected when omitted)')
    .option('--encoding <name>', 'utf-8, utf-16le, utf-16be or windows-1252 (detected when omitted)')
    .action(
      async (
        file: string,
        source: string,
        table: string,
        opts: Record<string, unknown>,
        command: Command,
      ) => {
        const job = await withApp(async (app) => {
          const submitted = await app.imports.submit(
            {
              file,
              source,
              table,
              create: opts.create === true,
              mode: opts.skipBadRows ? 'skip_bad_rows' : 'all_or_nothing',
              ...(mappingOf(opts.map as string[]) ? { mapping: mappingOf(opts.map as string[]) } : {}),
              ...(opts.ignoreUnknown ? { ignoreUnknownColumns: true } : {}),
              ...(opts.delimiter || opts.encoding
                ? {
                    dialect: {
                      ...(opts.delimiter ? { delimiter: opts.delimiter } : {}),
                      ...(opts.encoding ? { encoding: opts.encoding } : {}),
                    },
                  }
                : {}),
            },
            { caller: 'cli', createdBy: null, runHere: true },
          );
          const finished = await followJob(app, submitted.id);
          return { ...finished, rejectsFile: app.imports.rejectsFileOf(submitted.id) };
        });
        if (wantsJson(command)) print(command, job);
        const result = job.result as ImportJobResult | null;
        if (job.status !== 'succeeded' || !result) {
          const errors =
            (job.error?.details?.errors as {
              line: number;
              column: string | null;
              value: string | null;
              reason: string;
            }[]) ?? [];
          if (!wantsJson(command)) {
            for (const e of errors.slice(0, 20))
              process.stderr.write(
                `  line ${e.line}${e.column ? ` ${e.column}` : ''}${e.value !== null ? ` ${JSON.stringify(e.value)}` : ''}: ${e.reason}\n`,
              );
            if (errors.length > 20)
              process.stderr.write(`  ... ${Number(job.error?.details?.rowsRejected) - 20} more\n`);
          }
          process.exitCode = 1;
          return;
        }
        if (!wantsJson(command)) {
          process.stdout.write(
            `${result.rowsLoaded} rows loaded into ${result.table}${result.created ? ' (created)' : ''}, ${result.rowsRejected} rejected\n`,
          );
          if (result.rowsRejected > 0) process.stdout.write(`rejected rows: ${job.rejectsFile}\n`);
        }
      },
    );

  program
    .command('export [source] [table]')
    .description(
      'write a table or a combined table (or the rows a filter selects) as CSV or JSON lines, streamed',
    )
    .option('--combined <table>', 'export this combined table (id or name) instead of a source table')
    .option('--format <format>', 'csv or jsonl', 'csv')
    .option('--filter <json>', 'filter as JSON, e.g. {"field":"country","op":"eq","value":"FR"}')
    .option('--sort <sort>', 'e.g. "name,-created_at"')
    .option('--columns <list>', 'columns to export, comma-separated')
    .option('-o, --output <file>', 'write here instead of standard output')
    .action(
      async (
        source: string | undefined,
        table: string | undefined,
        opts: Record<string, string | undefined>,
      ) => {
        await withApp(async (app) => {
          if (opts.combined ? source !== undefined : source === undefined || table === undefined)
            throw badRequest('invalid_arguments', 'give <source> <table>, or --combined <table> alone');
          const exported = await app.exports.open({
            ...(opts.combined ? { combined: opts.combined } : { source: source!, table: table! }),
            ...(opts.format ? { format: opts.format } : {}),
            ...(opts.filter ? { filter: opts.filter } : {}),
            ...(opts.sort ? { sort: opts.sort } : {}),
            ...(opts.columns ? { columns: opts.columns } : {}),
          });
          const out = opts.output ? createWriteStream(opts.output) : process.stdout;
          for await (const chunk of exported.chunks) await write(out, chunk);
          if (opts.output) {
            out.end();
            await once(out, 'finish');
            process.stderr.write(`${exported.progress.rows} rows written to ${opts.output}\n`);
          }
        });
      },
    );
}
