import fs from 'node:fs/promises';
import os from 'node:os';
import type { Command } from 'commander';
import { BraidError, badRequest } from '../model/errors.js';
import type { BraidApp } from '../services/braid-app.js';
import type { ReconcileJob } from '../services/reconcile-jobs.js';
import type { SyncStatusView } from '../services/syncs-service.js';
import { formatTable } from './format-table.js';
import { print, wantsJson, withApp } from './output.js';

/**
 * `braid sync ...`: sync rules from the command line, on the same SyncsService as the API. These
 * commands open the metadata store directly; they never run syncs themselves (`braid start` and
 * `braid worker` do), so `status` shows what the running process published in its lease.
 */
export function registerSyncCommands(program: Command): void {
  const sync = program.command('sync').description('keep fields equal across tables of different databases');

  sync
    .command('create')
    .description('create a sync rule from a JSON file (the body of POST /api/syncs)')
    .requiredOption('--file <file>', 'the rule as JSON, or - for stdin')
    .action(async (opts: { file: string }, command: Command) => {
      const body = parseRuleFile(opts.file, await readRuleFile(opts.file));
      const view = await withApp((app) => app.syncs.create(body));
      print(command, view, { rows: [{ id: view.id, name: view.name, state: view.state }] });
    });

  sync
    .command('list')
    .description('list sync rules')
    .action(async (_opts, command: Command) => {
      const list = await withApp((app) => app.syncs.list());
      print(command, list, {
        rows: list.map((s) => ({
          id: s.id,
          name: s.name,
          state: s.state,
          tables: s.rule.members.map((m) => m.table).join(', '),
          policy: s.rule.conflict.policy,
        })),
      });
    });

  sync
    .command('show <sync>')
    .description('show a sync rule (id or name)')
    .action(async (ref: string, _opts, command: Command) => {
      print(command, await withSync(ref, (app, id) => app.syncs.get(id)));
    });

  sync
    .command('status <sync>')
    .description('where a sync runs and, per member, its capture strategy, lag, position and counters')
    .action(async (ref: string, _opts, command: Command) => {
      const { status, sourceNames } = await withSync(ref, async (app, id) => ({
        status: await app.syncs.status(id),
        sourceNames: new Map((await app.sources.list()).map((s) => [s.id, s.name])),
      }));
      if (wantsJson(command)) return print(command, status);
      process.stdout.write(`${statusText(status, sourceNames)}\n`);
    });

  for (const action of ['pause', 'resume'] as const) {
    sync
      .command(`${action} <sync>`)
      .description(action === 'pause' ? 'stop capturing and applying changes' : 'run a paused sync again')
      .action(async (ref: string, _opts, command: Command) => {
        const view = await withSync(ref, (app, id) => app.syncs[action](id));
        print(command, view, { rows: [{ id: view.id, name: view.name, state: view.state }] });
      });
  }

  sync
    .command('delete <sync>')
    .description('stop a sync, remove its capture objects from the sources and delete it')
    .action(async (ref: string, _opts, command: Command) => {
      const id = await withSync(ref, async (app, syncId) => {
        await app.syncs.delete(syncId);
        return syncId;
      });
      print(command, { id, deleted: true }, { rows: [{ id, deleted: true }] });
    });

  registerReconcileCommand(sync);
  registerQueueCommands(sync);
}

/** Opens the app and finds the sync by id or name. */
function withSync<T>(ref: string, fn: (app: BraidApp, id: string) => Promise<T>): Promise<T> {
  return withApp(async (app) => fn(app, await app.syncs.idOf(ref)));
}

async function readRuleFile(file: string): Promise<string> {
  if (file !== '-') return fs.readFile(file, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseRuleFile(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const name = file === '-' ? 'stdin' : file;
    throw badRequest('invalid_json', `${name} is not valid JSON: ${(err as Error).message}`);
  }
}

function statusText(status: SyncStatusView, sourceNames: Map<string, string>): string {
  const runner = status.runner ? `${status.runner.owner} (heartbeat ${status.runner.heartbeatAt})` : 'none';
  const lines = [
    `${status.name} (${status.id}): ${status.state}${status.running ? ', running' : ''}`,
    `runner: ${runner}`,
    `dead letters: ${status.deadLetters}, open conflicts: ${status.openConflicts}`,
  ];
  if (status.reconcile) lines.push(`initial reconciliation: ${status.reconcile.state}`);
  if (status.startError) lines.push(`start error: ${status.startError}`);
  if (status.note) lines.push(`note: ${status.note}`);
  if (status.members.length > 0) {
    lines.push(
      '',
      formatTable(
        status.members.map((m) => ({
          member: m.member,
          source: sourceNames.get(m.source) ?? m.source,
          table: m.table,
          strategy: m.strategy,
          reason: m.reason,
          running: m.running,
          lag: m.lagMs === null ? '' : `${m.lagMs} ms`,
          position: m.lastPosition,
          events: m.eventsApplied,
          writes: m.writes,
          errors: m.errors,
        })),
        undefined,
        // The reason lists why better strategies were passed over: worth its length.
        120,
      ),
    );
  }
  return lines.join('\n');
}

function registerReconcileCommand(sync: Command): void {
  sync
    .command('reconcile <sync>')
    .description('compare the members (a dry run unless --apply) in this process and print the summary')
    .option('--apply', 'link matches, write the decided values and open conflicts')
    .option('--create-missing', 'with --apply: create unmatched rows in the members that lack them')
    .action(async (ref: string, opts: { apply?: boolean; createMissing?: boolean }, command: Command) => {
      if (opts.createMissing && !opts.apply)
        throw badRequest('invalid_option', '--create-missing needs --apply');
      const job = await withSync(ref, async (app, id) => {
        const started = await app.syncs.reconcile(id, {
          mode: opts.apply ? 'apply' : 'dry-run',
          createMissing: opts.createMissing === true,
        });
        return followJob(app, id, started);
      });
      if (job.state === 'failed')
        throw new BraidError(500, 'reconcile_failed', `reconciliation failed: ${job.error}`);
      const { summary, applied } = job.report!;
      print(command, job, {
        rows: [
          {
            mode: job.mode,
            rows: summary.rows.join(' / '),
            matched: summary.matched,
            unmatched: summary.unmatched.join(' / '),
            discrepancies: summary.discrepancies,
            conflicts: summary.conflicts,
            duplicates: summary.duplicateGroups,
            rowErrors: summary.rowErrors,
            linked: applied.linked,
            written: applied.rowsWritten,
            created: applied.created,
          },
        ],
      });
    });
}

/** Polls the job until it ends, with a line on stderr each time its progress changes. */
async function followJob(app: BraidApp, syncId: string, started: ReconcileJob): Promise<ReconcileJob> {
  let job = started;
  let shown = '';
  for (;;) {
    const { phase, done, total } = job.progress;
    const count = total !== null ? ` ${done}/${total}` : done > 0 ? ` ${done}` : '';
    const line = `reconcile: ${phase}${count}`;
    if (line !== shown) process.stderr.write(`${line}\n`);
    shown = line;
    if (job.state !== 'running') return job;
    await new Promise((resolve) => setTimeout(resolve, 200));
    job = await app.syncs.reconcileJob(syncId, job.id);
  }
}

/** The conflict queue of the manual policy and the dead letters. */
function registerQueueCommands(sync: Command): void {
  sync
    .command('conflicts <sync>')
    .description('conflicts waiting for review (--all: resolved ones too)')
    .option('--all', 'also the resolved conflicts')
    .action(async (ref: string, opts: { all?: boolean }, command: Command) => {
      const list = await withSync(ref, (app, id) => app.syncs.conflicts(id, opts.all ? 'all' : 'open'));
      print(command, list, {
        rows: list.map((c) => ({
          id: c.id,
          field: c.field,
          entity: c.entityId,
          sides: c.sides.map((s) => `${s.member}: ${JSON.stringify(s.value)}`).join(', '),
          status: c.status,
          created: c.createdAt,
        })),
      });
    });

  sync
    .command('resolve <sync> <conflictId>')
    .description("resolve a conflict with one member's value (--member N) or a value (--value JSON)")
    .option('--member <n>', 'the member whose value wins', (v) => Number(v))
    .option('--value <json>', 'the value to write to every member, as JSON ("555 0100" with the quotes)')
    .action(
      async (
        ref: string,
        conflictId: string,
        opts: { member?: number; value?: string },
        command: Command,
      ) => {
        if ((opts.member === undefined) === (opts.value === undefined)) {
          throw badRequest('invalid_choice', 'give either --member N or --value JSON');
        }
        const choice =
          opts.member !== undefined ? { member: opts.member } : { value: parseValue(opts.value!) };
        const by = `cli:${os.userInfo().username}`;
        const resolved = await withSync(ref, (app, id) =>
          app.syncs.resolveConflict(id, conflictId, choice, by),
        );
        print(command, resolved, {
          rows: [
            {
              id: resolved.id,
              field: resolved.field,
              status: resolved.status,
              resolution: resolved.resolution,
            },
          ],
        });
      },
    );

  sync
    .command('dead-letters <sync>')
    .description('changes that could not be applied, with the reason')
    .action(async (ref: string, _opts, command: Command) => {
      const list = await withSync(ref, (app, id) => app.syncs.deadLetters(id));
      print(command, list, {
        rows: list.map((l) => ({
          id: l.id,
          member: l.member,
          reason: l.reason,
          attempts: l.attempts,
          created: l.createdAt,
        })),
      });
    });

  for (const [name, description] of [
    ['retry', 'apply a dead letter again (after fixing its cause)'],
    ['drop', 'drop a dead letter for good'],
  ] as const) {
    sync
      .command(`${name} <sync> <letterId>`)
      .description(description)
      .action(async (ref: string, letterId: string, _opts, command: Command) => {
        await withSync(ref, (app, id) =>
          name === 'retry' ? app.syncs.retryDeadLetter(id, letterId) : app.syncs.dropDeadLetter(id, letterId),
        );
        const done = name === 'retry' ? { id: letterId, retried: true } : { id: letterId, dropped: true };
        print(command, done, { rows: [done] });
      });
  }
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest('invalid_value', `--value must be JSON (a string needs quotes: '"${text}"')`);
  }
}
