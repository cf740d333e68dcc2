import type { MetaStore } from '../meta/index.js';
import type { SyncConflict } from '../meta/sync-conflicts-repository.js';
import type { DeadLetter } from '../meta/sync-dead-letters-repository.js';
import { BraidError, badRequest, notFound } from '../model/errors.js';
import type { JsonValue, Sandbox } from '../sandbox/sandbox.js';
import type { MemberStatus, SyncEngine } from '../sync/engine/index.js';
import { parseSyncRule, type SyncRule } from '../sync/sync-rule.js';
import { validateSyncRule } from '../sync/sync-rule-validation.js';
import type { JobQueue } from '../jobs/job-queue.js';
import { ReconcileJobs, type ReconcileJob, type ReconcileJobInput } from './reconcile-jobs.js';
import type { SourcesService } from './sources-service.js';
import type { PublishedStatus, SyncState, SyncSupervisor } from './sync-supervisor.js';

/** A sync rule as the API shows it. */
export interface SyncView {
  id: string;
  name: string;
  state: SyncState;
  rule: SyncRule;
  createdAt: string;
  updatedAt: string;
}

/** Where and how a sync runs, as any process sees it. */
export interface SyncStatusView {
  id: string;
  name: string;
  state: SyncState;
  /** The process running it (from its lease), null when none does. */
  runner: { owner: string; heartbeatAt: string; thisProcess: boolean } | null;
  running: boolean;
  /** Per member: strategy and why, lag, last position, events/s, counters, last error. */
  members: (MemberStatus & { eventsPerSecond: number | null })[];
  deadLetters: number;
  openConflicts: number;
  startError: string | null;
  reconcile: PublishedStatus['reconcile'];
  /** What a person should know when nothing runs it (no server or worker, paused...). */
  note: string | null;
}

export interface SyncsServiceOptions {
  store: MetaStore;
  sources: SourcesService;
  engine: SyncEngine;
  sandbox: Sandbox;
  /** This process's supervisor when it runs syncs, else null (a CLI command). */
  supervisor: () => SyncSupervisor | null;
  /** How long a lease lasts, to know how long a delete may wait for another process. */
  leaseMs?: number;
  /** The durable queue reconciliations run on. */
  jobs: JobQueue;
}

/**
 * Sync rules for the API and the CLI: create (validated against the live tables, then reconciled
 * and run by whichever process's supervisor takes it), pause, resume, delete (capture objects
 * removed from the sources), status from the running process's lease, reconcile jobs, the conflict
 * queue and dead letters.
 */
export class SyncsService {
  private readonly jobs: ReconcileJobs;
  /** Previous applied counts per sync member, for events/s between two status calls. */
  private readonly rates = new Map<string, { at: number; applied: number }>();

  constructor(private readonly options: SyncsServiceOptions) {
    this.jobs = new ReconcileJobs(options.engine, options.jobs);
  }

  async list(): Promise<SyncView[]> {
    return (await this.options.store.syncs.list()).map(toView);
  }

  async get(id: string): Promise<SyncView> {
    return toView(await this.record(id));
  }

  /** The id of the sync named `ref` by id or by name (names are unique), for the CLI; 404 otherwise. */
  async idOf(ref: string): Promise<string> {
    if (await this.options.store.syncs.get(ref)) return ref;
    const named = (await this.options.store.syncs.list()).find((s) => s.name === ref);
    if (!named) throw notFound(`sync "${ref}"`, { id: ref });
    return named.id;
  }

  /**
   * Creates a sync from the issue's JSON shape. Sources may be named by id or by name (stored as
   * ids). The rule is checked against the members' tables and every transform compiled before
   * anything is stored. It starts in state `reconciling` (or `paused` with `{"paused": true}`).
   */
  async create(body: unknown): Promise<SyncView> {
    const { paused, rest } = splitPaused(body);
    const rule = await this.sourceIdsOf(parseSyncRule(rest));
    await this.validate(rule);
    const record = await this.options.store.syncs.create({
      name: rule.name,
      definition: rule,
      status: paused ? 'paused' : 'reconciling',
    });
    await this.options.supervisor()?.wake();
    return toView(await this.record(record.id));
  }

  async pause(id: string): Promise<SyncView> {
    await this.setState(id, 'paused');
    return this.get(id);
  }

  /** Runs it again; a sync never reconciled (paused at creation) reconciles first. */
  async resume(id: string): Promise<SyncView> {
    const record = await this.record(id);
    if (record.status === 'deleting') throw conflict('sync_deleting', `sync "${id}" is being deleted`);
    await this.setState(id, (await this.everLinked(id)) ? 'active' : 'reconciling');
    return this.get(id);
  }

  /**
   * Stops the sync wherever it runs, removes its capture objects from the sources (slots,
   * publications, triggers, changelogs) and deletes the rule with its links, positions, conflicts
   * and dead letters. Waits for the running process to let go (at most a lease's length).
   */
  async delete(id: string): Promise<void> {
    await this.record(id);
    await this.options.store.syncs.setStatus(id, 'deleting');
    await this.options.supervisor()?.wake();
    const deadline = Date.now() + (this.options.leaseMs ?? 15_000) + 5_000;
    while (await this.options.store.syncLeases.isHeld(id)) {
      if (Date.now() > deadline) {
        throw conflict('sync_busy', `sync "${id}" is still run by another process; try again shortly`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await this.options.engine.remove(id);
    await this.options.store.syncs.delete(id);
  }

  async status(id: string): Promise<SyncStatusView> {
    const record = await this.record(id);
    const { store, engine } = this.options;
    const here = this.options.supervisor()?.holds(id) ?? false;
    const lease = await store.syncLeases.get<PublishedStatus>(id);
    const live = lease !== null && lease.expiresAt >= new Date().toISOString();
    const published: PublishedStatus | null = live ? lease.status : null;
    const engineStatus = here ? await engine.status(id) : (published?.engine ?? null);
    const counts = engineStatus ?? {
      deadLetters: await store.syncDeadLetters.count(id),
      openConflicts: await store.syncConflicts.countOpen(id),
    };
    const state = record.status as SyncState;
    return {
      id,
      name: record.name,
      state,
      runner: live ? { owner: lease.owner, heartbeatAt: lease.heartbeatAt, thisProcess: here } : null,
      running: engineStatus?.running ?? false,
      members: (engineStatus?.members ?? []).map((m) => ({
        ...m,
        eventsPerSecond: this.rate(id, m.member, m.eventsApplied),
      })),
      deadLetters: counts.deadLetters,
      openConflicts: counts.openConflicts,
      startError: published?.startError ?? null,
      reconcile: published?.reconcile ?? null,
      note: noteFor(state, live),
    };
  }

  /** Starts a reconciliation job (`dry-run` or `apply`); `wait` answers once it is done. */
  async reconcile(id: string, input: unknown): Promise<ReconcileJob> {
    await this.record(id);
    const options = parseReconcileInput(input);
    const job = await this.jobs.start(id, options);
    if (options.wait) return this.jobs.settled(job.id);
    return job;
  }

  async reconcileJob(id: string, jobId: string): Promise<ReconcileJob> {
    const job = await this.jobs.get(jobId);
    if (!job || job.syncId !== id) throw notFound(`reconcile job "${jobId}"`, { id: jobId });
    return job;
  }

  async conflicts(id: string, status: unknown = 'open'): Promise<SyncConflict[]> {
    await this.record(id);
    if (status !== 'open' && status !== 'resolved' && status !== 'all') {
      throw badRequest(
        'invalid_status',
        `status must be "open", "resolved" or "all", got "${String(status)}"`,
        {
          field: 'status',
          value: status,
        },
      );
    }
    return this.options.store.syncConflicts.list(id, status);
  }

  /** Resolves a conflict with one side's value (`{"member": 1}`) or a value (`{"value": ...}`), written to every member. */
  async resolveConflict(id: string, conflictId: string, body: unknown, by: string): Promise<SyncConflict> {
    const found = await this.options.store.syncConflicts.get(conflictId);
    if (!found || found.syncId !== id) throw notFound(`conflict "${conflictId}"`, { id: conflictId });
    return this.options.engine.resolveConflict(conflictId, parseChoice(body), by);
  }

  async deadLetters(id: string): Promise<DeadLetter[]> {
    await this.record(id);
    return this.options.store.syncDeadLetters.list(id);
  }

  /** Applies a dead letter's event again (after its cause was fixed); it is dropped on success. */
  async retryDeadLetter(id: string, letterId: string): Promise<void> {
    await this.deadLetter(id, letterId);
    await this.options.engine.retryDeadLetter(letterId);
  }

  async dropDeadLetter(id: string, letterId: string): Promise<void> {
    await this.deadLetter(id, letterId);
    await this.options.store.syncDeadLetters.delete(letterId);
  }

  private async deadLetter(id: string, letterId: string): Promise<DeadLetter> {
    const letter = await this.options.store.syncDeadLetters.get(letterId);
    if (!letter || letter.syncId !== id) throw notFound(`dead letter "${letterId}"`, { id: letterId });
    return letter;
  }

  /** Whether the sync ever linked a row (ran or reconciled), so resuming need not reconcile. */
  private async everLinked(id: string): Promise<boolean> {
    for await (const link of this.options.store.entityLinks.allOf(id, 1)) return link !== undefined;
    return false;
  }

  private async record(id: string) {
    const record = await this.options.store.syncs.get(id);
    if (!record) throw notFound(`sync "${id}"`, { id });
    return record;
  }

  private async setState(id: string, state: SyncState): Promise<void> {
    const record = await this.record(id);
    if (record.status === 'deleting') throw conflict('sync_deleting', `sync "${id}" is being deleted`);
    await this.options.store.syncs.setStatus(id, state);
    await this.options.supervisor()?.wake();
  }

  /** Members may name their source by name; the stored rule always holds ids. */
  private async sourceIdsOf(rule: SyncRule): Promise<SyncRule> {
    const sources = await this.options.sources.list();
    const idOf = (ref: string) =>
      sources.some((s) => s.id === ref) ? ref : (sources.find((s) => s.name === ref)?.id ?? ref);
    return {
      ...rule,
      members: rule.members.map((m) => ({ ...m, source: idOf(m.source) })),
      conflict: {
        ...rule.conflict,
        ...(rule.conflict.order
          ? { order: rule.conflict.order.map((o) => (typeof o === 'string' ? idOf(o) : o)) }
          : {}),
      },
    };
  }

  /** Every member's table as it is now (null when missing), then validateSyncRule. */
  private async validate(rule: SyncRule): Promise<void> {
    const tables = [];
    for (const [index, member] of rule.members.entries()) {
      try {
        tables.push((await this.options.sources.resolveTable(member.source, member.table)).table);
      } catch (err) {
        if (err instanceof BraidError && err.status === 404) {
          throw badRequest('invalid_sync_rule', `members[${index}]: ${err.message}`, {
            problems: [{ path: `members[${index}]`, message: err.message }],
          });
        }
        throw err;
      }
    }
    await validateSyncRule(rule, tables, this.options.sandbox);
  }

  private rate(syncId: string, member: number, applied: number): number | null {
    const key = `${syncId}:${member}`;
    const now = Date.now();
    const previous = this.rates.get(key);
    this.rates.set(key, { at: now, applied });
    if (!previous || now - previous.at < 200 || applied < previous.applied) return null;
    return Math.round(((applied - previous.applied) * 1000) / (now - previous.at));
  }
}

function toView(record: {
  id: string;
  name: string;
  definition: unknown;
  status: string;
  createdAt: string;
  updatedAt: string;
}): SyncView {
  return {
    id: record.id,
    name: record.name,
    state: record.status as SyncState,
    rule: parseSyncRule(record.definition),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

function noteFor(state: SyncState, running: boolean): string | null {
  if (state === 'paused') return 'paused: resume it to capture and apply changes again';
  if (state === 'deleting') return 'being deleted';
  if (!running)
    return 'no Braid server or worker is running this sync: start `braid start` or `braid worker`';
  return null;
}

function conflict(code: string, message: string): BraidError {
  return new BraidError(409, code, message);
}

/**
 * Takes `paused` out of a create body: it is not part of the rule, and parseSyncRule refuses
 * unknown keys (even one set to undefined, which is why it is removed rather than blanked).
 */
function splitPaused(body: unknown): { paused: boolean; rest: unknown } {
  if (body === null || typeof body !== 'object' || Array.isArray(body) || !('paused' in body)) {
    return { paused: false, rest: body };
  }
  const { paused, ...rest } = body as { paused?: unknown };
  if (paused !== undefined && typeof paused !== 'boolean') {
    throw badRequest('invalid_sync_rule', 'paused: must be true or false', {
      problems: [{ path: 'paused', message: 'must be true or false' }],
    });
  }
  return { paused: paused === true, rest };
}

function parseReconcileInput(input: unknown): ReconcileJobInput {
  const body = (input ?? {}) as Record<string, unknown>;
  if (typeof body !== 'object' || Array.isArray(body))
    throw badRequest('invalid_body', 'the body must be an object');
  const mode = body.mode ?? 'dry-run';
  if (mode !== 'dry-run' && mode !== 'apply') {
    throw badRequest('invalid_mode', `mode must be "dry-run" or "apply", got ${JSON.stringify(mode)}`, {
      field: 'mode',
      value: mode,
    });
  }
  for (const key of Object.keys(body)) {
    if (!['mode', 'createMissing', 'wait'].includes(key)) {
      throw badRequest('invalid_body', `unknown property "${key}" (known: mode, createMissing, wait)`, {
        field: key,
      });
    }
  }
  for (const flag of ['createMissing', 'wait'] as const) {
    if (body[flag] !== undefined && typeof body[flag] !== 'boolean') {
      throw badRequest('invalid_body', `${flag} must be true or false`, { field: flag, value: body[flag] });
    }
  }
  return { mode, createMissing: body.createMissing === true, wait: body.wait === true };
}

function parseChoice(body: unknown): { member: number } | { value: JsonValue } {
  const input = (body ?? {}) as Record<string, unknown>;
  const hasMember = 'member' in input && input.member !== undefined;
  const hasValue = 'value' in input;
  if (hasMember === hasValue) {
    throw badRequest('invalid_choice', 'give either "member" (the side whose value wins) or "value"', {
      field: 'member',
    });
  }
  if (hasMember) {
    if (!Number.isInteger(input.member)) {
      throw badRequest(
        'invalid_choice',
        `member must be a member index, got ${JSON.stringify(input.member)}`,
        {
          field: 'member',
          value: input.member,
        },
      );
    }
    return { member: input.member as number };
  }
  return { value: input.value as JsonValue };
}
