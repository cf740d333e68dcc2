import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { ConsolidationReport } from '../consolidate/consolidation-report.js';
import type { Job } from '../jobs/job.js';
import { badRequest } from '../model/errors.js';
import type { BraidApp } from '../services/braid-app.js';
import { followJob } from './follow-job.js';
import { print, wantsJson, withApp } from './output.js';

/** The report as a person reads it: per table, where the rows came from and what became of them. */
export function reportLines(report: ConsolidationReport): string[] {
  const lines = [`${report.name} (job ${report.job}): ${report.verdict}`];
  for (const t of report.tables) {
    lines.push(
      `${t.table}${t.created ? (report.dryRun ? ' (to be created)' : ' (created)') : ''}: ${t.records} records -> ${t.entities} rows, ` +
        `${t.duplicatesMerged} duplicates merged (${t.exactPairs} exact, ${t.fuzzyPairs} fuzzy pairs)`,
    );
    for (const i of t.inputs)
      lines.push(`  ${i.input}: ${i.read} read, ${i.staged} staged, ${i.rejected} rejected`);
    const policies = Object.entries(t.discrepancies.byPolicy).map(([p, n]) => `${p} ${n}`);
    lines.push(
      `  discrepancies: ${t.discrepancies.total}${policies.length ? ` (${policies.join(', ')})` : ''}, ${t.discrepancies.pendingReview} waiting for review`,
    );
    if (t.rejectedAtMerge) lines.push(`  left out at merge: ${t.rejectedAtMerge} records`);
    for (const n of t.narrowing) lines.push(`  narrowing: ${n}`);
    if (t.checksum)
      lines.push(
        `  checksum: expected ${t.checksum.expected}, target ${t.checksum.actual}: ${t.checksum.match ? 'equal' : 'DIFFERENT'}`,
      );
  }
  lines.push(
    `every input row accounted for: ${report.accounted ? 'yes' : 'NO'}; rejected rows: ${report.rejected}`,
  );
  for (const r of report.rejects.slice(0, 10))
    lines.push(`  ${r.table} <- ${r.input}:${r.sourceKey}${r.field ? ` ${r.field}` : ''}: ${r.reason}`);
  for (const n of report.notes) lines.push(`note: ${n}`);
  return lines;
}

function finish(command: Command, job: Job): void {
  if (wantsJson(command)) print(command, job.status === 'succeeded' ? job.result : job);
  else if (job.status === 'succeeded')
    process.stdout.write(`${reportLines(job.result as ConsolidationReport).join('\n')}\n`);
  else if (job.error?.details?.rejects)
    for (const r of job.error.details.rejects as {
      input: string;
      sourceKey: string;
      field: string | null;
      value: unknown;
      reason: string;
    }[])
      process.stderr.write(
        `  ${r.input}:${r.sourceKey}${r.field ? ` ${r.field}` : ''} ${JSON.stringify(r.value)}: ${r.reason}\n`,
      );
  if (job.status !== 'succeeded') {
    process.stderr.write(`job ${job.id} ${job.status}; resume it with: braid consolidate resume ${job.id}\n`);
    process.exitCode = 1;
  }
}

async function submitAndFollow(app: BraidApp, file: string, dryRun: boolean): Promise<Job> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw badRequest('file_not_found', `cannot read ${file}: ${err.code ?? err.message}`, { file });
  });
  const job = await app.consolidations.submit(text, {
    dryRun,
    caller: 'cli',
    createdBy: null,
    runHere: true,
  });
  process.stderr.write(`job ${job.id}\n`);
  return followJob(app, job.id);
}

/** `braid consolidate plan|run|resume|report`: consolidation jobs from YAML/JSON files kept in git. */
export function registerConsolidateCommands(program: Command): void {
  const consolidate = program
    .command('consolidate')
    .description('merge tables of several sources into one master table, with de-duplication and a report');

  consolidate
    .command('plan <job.yaml>')
    .description('dry run: read, match and merge, write nothing, report what would happen')
    .action(async (file: string, _opts, command: Command) =>
      finish(command, await withApp((app) => submitAndFollow(app, file, true))),
    );

  consolidate
    .command('run <job.yaml>')
    .description('consolidate into the target and verify it')
    .action(async (file: string, _opts, command: Command) =>
      finish(command, await withApp((app) => submitAndFollow(app, file, false))),
    );

  consolidate
    .command('resume <job-id>')
    .description('continue an interrupted or failed consolidation from its last completed step')
    .action(async (id: string, _opts, command: Command) =>
      finish(
        command,
        await withApp(async (app) => {
          await app.consolidations.resume(id, { runHere: true });
          return followJob(app, id);
        }),
      ),
    );

  consolidate
    .command('report <job-id>')
    .description('the report of a finished consolidation, or its details')
    .option('--discrepancies', 'list the discrepancies and how each was settled')
    .option('--pending', 'with --discrepancies: only those waiting for review')
    .option('--lineage [target-key]', 'the source rows behind each target row (or one)')
    .option('--table <table>', 'the table for --discrepancies / --lineage')
    .option('--rejects', 'list the rejected input rows')
    .option('--limit <n>', 'rows per listing', '100')
    .option('--offset <n>', 'skip this many', '0')
    .action(async (id: string, opts: Record<string, string | boolean | undefined>, command: Command) => {
      const page = { limit: Number(opts.limit), offset: Number(opts.offset) };
      const table = typeof opts.table === 'string' ? { table: opts.table } : {};
      const data = await withApp(async (app) => {
        if (opts.discrepancies)
          return app.consolidations.discrepancies(id, { ...table, pending: opts.pending === true, ...page });
        if (opts.lineage !== undefined)
          return app.consolidations.lineage(id, {
            ...table,
            ...(typeof opts.lineage === 'string' ? { key: opts.lineage } : {}),
            ...page,
          });
        if (opts.rejects) return app.consolidations.rejects(id, page);
        return app.consolidations.report(id);
      });
      if (!wantsJson(command) && !opts.discrepancies && opts.lineage === undefined && !opts.rejects)
        process.stdout.write(`${reportLines(data as ConsolidationReport).join('\n')}\n`);
      else print(command, data);
    });
}
