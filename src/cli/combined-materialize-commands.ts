import type { Command } from 'commander';
import { BraidError } from '../model/errors.js';
import type { MaterializationStatus, MaterializeResult } from '../services/combined-materializations.js';
import { followJob } from './follow-job.js';
import { formatTable } from './format-table.js';
import { print, wantsJson, withApp } from './output.js';

/**
 * `braid combined materialize | materialized | dematerialize`: materialized combined tables, on
 * the same service as the API. Added to the `combined` command (created here when
 * registerCombinedCommands has not run first). As with syncs, the CLI creates the generated sync
 * but never runs it: `braid start` or `braid worker` does, and `materialized` shows what it published.
 */
export function registerCombinedMaterializeCommands(program: Command): void {
  const combined =
    program.commands.find((c) => c.name() === 'combined') ??
    program.command('combined').description('one table over tables of several databases, matched by a key');

  combined
    .command('materialize <table> <source> <new-table>')
    .description(
      'create <new-table> in <source> from a combined table, fill it and keep it current with a sync',
    )
    .action(async (ref: string, source: string, table: string, _opts, command: Command) => {
      const created = await withApp(async (app) => {
        const job = await app.combinedMaterializations.start(ref, { source, table });
        const finished = await followJob(app, job.id);
        if (finished.status !== 'succeeded')
          throw new BraidError(
            409,
            finished.error?.code ?? 'materialize_failed',
            finished.error?.message ?? `the job ended ${finished.status}`,
          );
        return finished.result as MaterializeResult;
      });
      print(command, created, {
        rows: [
          {
            combined: created.combinedName,
            source,
            table: created.table,
            rows: created.rows,
            sync: created.syncId,
          },
        ],
      });
    });

  combined
    .command('materialized <table>')
    .description('where a combined table is materialized, the state of its sync and its lag')
    .action(async (ref: string, _opts, command: Command) => {
      const { status, sourceNames } = await withApp(async (app) => ({
        status: await app.combinedMaterializations.status(ref),
        sourceNames: new Map((await app.sources.list()).map((s) => [s.id, s.name])),
      }));
      if (wantsJson(command)) return print(command, status);
      process.stdout.write(`${statusText(status, sourceNames)}\n`);
    });

  combined
    .command('dematerialize <table>')
    .description('stop keeping the materialized table current (its sync is deleted); the table stays')
    .option('--drop', 'drop the materialized table too')
    .action(async (ref: string, opts: { drop?: boolean }, command: Command) => {
      await withApp((app) => app.combinedMaterializations.dematerialize(ref, { drop: opts.drop === true }));
      const result = { combined: ref, dematerialized: true, dropped: opts.drop === true };
      print(command, result, { rows: [result] });
    });
}

function statusText(status: MaterializationStatus, sourceNames: Map<string, string>): string {
  const source = sourceNames.get(status.source) ?? status.source;
  const lines = [
    `${status.combinedName} (${status.combinedId}) materialized in ${source}.${status.table}`,
    `sync ${status.syncId}: ${status.state}${status.sync.running ? ', running' : ''}`,
    `lag: ${status.lagMs === null ? 'none measured yet' : `${status.lagMs} ms`}`,
  ];
  if (status.sync.note) lines.push(`note: ${status.sync.note}`);
  if (status.sync.startError) lines.push(`start error: ${status.sync.startError}`);
  if (status.sync.members.length > 0)
    lines.push(
      '',
      formatTable(
        status.sync.members.map((m) => ({
          member: m.member,
          source: sourceNames.get(m.source) ?? m.source,
          table: m.table,
          strategy: m.strategy,
          running: m.running,
          lag: m.lagMs === null ? '' : `${m.lagMs} ms`,
          events: m.eventsApplied,
          errors: m.errors,
        })),
      ),
    );
  return lines.join('\n');
}
