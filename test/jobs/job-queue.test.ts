import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobCancelledError, type JobContext } from '../../src/jobs/job.js';
import { JobQueue, type JobQueueOptions } from '../../src/jobs/job-queue.js';
import type { MetaStore } from '../../src/meta/meta-store.js';
import { BraidError } from '../../src/model/errors.js';
import { META_ENGINES, type MetaFixture } from '../meta/meta-engines.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(
  what: string,
  check: () => Promise<T | null | undefined | false>,
  ms = 10_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Resolves when the signal aborts: a handler that works until it is cancelled or stopped. */
const aborted = (signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });

describe.each(META_ENGINES)('job queue on $name', (engine) => {
  describe.skipIf(!engine.available)('', () => {
    let meta: MetaFixture;
    let store: MetaStore;
    const queues: JobQueue[] = [];
    const queue = (options: Partial<JobQueueOptions> = {}, on: MetaStore = store) => {
      const q = new JobQueue({ store: on, heartbeatMs: 50, pollMs: 30, leaseMs: 2_000, ...options });
      queues.push(q);
      return q;
    };
    beforeEach(async () => {
      meta = await engine.open();
      store = meta.store;
    });
    afterEach(async () => {
      await Promise.allSettled(queues.splice(0).map((q) => q.stop()));
      await meta.cleanup();
    });

    it('runs a queued job in a process that runs jobs and stores its result', async () => {
      const q = queue();
      q.register<{ a: number; b: number }, { sum: number }>('add', async (ctx) => ({
        sum: ctx.job.params.a + ctx.job.params.b,
      }));
      await q.start();
      const job = await q.submit('add', { a: 2, b: 3 }, { title: 'Add', createdBy: 'u1' });
      expect(job).toMatchObject({
        kind: 'add',
        title: 'Add',
        status: 'queued',
        attempts: 1,
        createdBy: 'u1',
      });
      const done = await q.wait(job.id);
      expect(done).toMatchObject({ status: 'succeeded', result: { sum: 5 }, error: null, owner: q.owner });
      expect(done.startedAt).not.toBeNull();
      expect(done.finishedAt! >= done.startedAt!).toBe(true);

      // runHere: stored as running for this process at once, no poll loop needed.
      const local = queue();
      local.register('add', async (ctx: JobContext<{ a: number; b: number }>) => ctx.job.params.a * 10);
      const here = await local.submit('add', { a: 4, b: 0 }, { runHere: true });
      expect(here.status).toBe('running');
      expect((await local.wait(here.id)).result).toBe(40);
      await expect(local.submit('nope', {}, { runHere: true })).rejects.toMatchObject({
        code: 'job_kind_unknown',
      });
    });

    it('fails with the BraidError code and details, or job_failed with the message only', async () => {
      const q = queue();
      q.register('braid', async () => {
        throw new BraidError(422, 'bad_rows', 'row 3 has no email', { row: 3 });
      });
      q.register('plain', async () => {
        throw new TypeError('x is not a function');
      });
      const braid = await q.wait((await q.submit('braid', {}, { runHere: true })).id);
      expect(braid.status).toBe('failed');
      expect(braid.error).toEqual({ code: 'bad_rows', message: 'row 3 has no email', details: { row: 3 } });
      const plain = await q.wait((await q.submit('plain', {}, { runHere: true })).id);
      expect(plain.error).toEqual({ code: 'job_failed', message: 'x is not a function' });
      expect(JSON.stringify(plain)).not.toContain('    at ');
    });

    it('persists progress with rate and ETA, visible to another queue on the same store', async () => {
      const q = queue();
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      q.register('count', async (ctx) => {
        let done = 0;
        ctx.progress({ phase: 'copy', done, total: 100_000, unit: 'rows' });
        const ticker = setInterval(() => {
          done += 500;
          ctx.progress({ done });
        }, 20);
        await gate;
        clearInterval(ticker);
        ctx.progress({ phase: 'index', done: 1, total: 1, unit: 'indexes' });
        return { done };
      });
      const job = await q.submit('count', {}, { runHere: true });
      const other = new JobQueue({ store: await meta.reopen() });
      const seen = await until('progress with a rate', async () => {
        const j = await other.get(job.id);
        return j.progress?.ratePerSec ? j : null;
      });
      expect(seen.progress).toMatchObject({ phase: 'copy', total: 100_000, unit: 'rows' });
      expect(seen.progress!.done).toBeGreaterThan(0);
      // About 25,000 rows/s; the machine may be slow, so only the order of magnitude is checked.
      expect(seen.progress!.ratePerSec).toBeGreaterThan(1_000);
      expect(seen.progress!.etaSec).toBeGreaterThanOrEqual(0);
      release();
      const done = await other.wait(job.id);
      expect(done.status).toBe('succeeded');
      // The last progress is flushed with the outcome, even within 500 ms of the previous flush.
      expect(done.progress).toMatchObject({ phase: 'index', done: 1, total: 1, unit: 'indexes' });
    });

    it('cancels a job running here: the handler sees its signal', async () => {
      const q = queue();
      let sawAbort = false;
      q.register('wait', async (ctx) => {
        await aborted(ctx.signal);
        sawAbort = ctx.signal.aborted;
        ctx.throwIfCancelled();
        return 'not reached';
      });
      const job = await q.submit('wait', {}, { runHere: true });
      const cancelling = await q.cancel(job.id);
      expect(cancelling.cancelRequested).toBe(true);
      const done = await q.wait(job.id);
      expect(sawAbort).toBe(true);
      expect(done).toMatchObject({ status: 'cancelled', error: { code: 'job_cancelled' } });
      await expect(q.cancel(job.id)).rejects.toMatchObject({ status: 409, code: 'job_finished' });
    });

    it('cancels a queued job at once, and a job running in another queue at its next heartbeat', async () => {
      const idle = queue();
      const queued = await idle.submit('wait', {});
      expect((await idle.cancel(queued.id)).status).toBe('cancelled');

      const runner = queue({ heartbeatMs: 50 });
      let sawAbort = false;
      runner.register('wait', async (ctx) => {
        await aborted(ctx.signal);
        sawAbort = true;
        // Rejecting with any error after a cancel still ends as cancelled.
        throw new Error('stopped');
      });
      await runner.start();
      const remote = queue({}, await meta.reopen());
      const job = await remote.submit('wait', {});
      await until('the job to run', async () => (await remote.get(job.id)).status === 'running');
      const requested = await remote.cancel(job.id);
      expect(requested).toMatchObject({ status: 'running', cancelRequested: true });
      const done = await remote.wait(job.id);
      expect(sawAbort).toBe(true);
      expect(done.status).toBe('cancelled');
    });

    it('stop() leaves a running job interrupted; resume() runs it again from its checkpoint', async () => {
      const handler = async (ctx: JobContext) => {
        const checkpoint = await ctx.loadCheckpoint<{ step: number }>();
        if (checkpoint) {
          await ctx.log('info', 'resumed', { step: checkpoint.step });
          return { resumedFrom: checkpoint.step };
        }
        await ctx.saveCheckpoint({ step: 1 });
        ctx.progress({ phase: 'step 1', done: 1, total: 2, unit: 'steps' });
        await aborted(ctx.signal);
        ctx.throwIfCancelled();
        return { resumedFrom: null };
      };
      const first = queue();
      first.register('steps', handler);
      const job = await first.submit('steps', { file: 'a.csv' }, { runHere: true });
      await until('the checkpoint', async () => (await store.jobs.loadCheckpoint(job.id)) !== null);
      await first.stop();
      const stopped = await first.get(job.id);
      expect(stopped).toMatchObject({ status: 'interrupted', error: { code: 'job_interrupted' } });
      expect(stopped.progress).toMatchObject({ phase: 'step 1', done: 1 });

      // Another process resumes it, keeping params and checkpoint.
      const second = queue({}, await meta.reopen());
      second.register('steps', handler);
      await second.start();
      const resumed = await second.resume(job.id);
      expect(resumed).toMatchObject({
        status: 'queued',
        attempts: 2,
        params: { file: 'a.csv' },
        error: null,
      });
      const done = await second.wait(job.id);
      expect(done).toMatchObject({ status: 'succeeded', result: { resumedFrom: 1 }, attempts: 2 });
      await expect(second.resume(job.id)).rejects.toMatchObject({ status: 409, code: 'job_not_resumable' });
    });

    it('stop() marks interrupted a job whose handler ignores its signal, after the stop timeout', async () => {
      const q = queue({ stopTimeoutMs: 100 });
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      q.register('stubborn', async () => {
        await gate;
        return 'late';
      });
      const job = await q.submit('stubborn', {}, { runHere: true });
      await q.stop();
      expect((await q.get(job.id)).status).toBe('interrupted');
      release();
      await sleep(50);
      expect((await q.get(job.id)).status).toBe('interrupted');
    });

    it('marks interrupted the job of a queue that died (lease expired), which can no longer write it', async () => {
      // A queue whose heartbeat never comes: as if its process hung or was killed.
      const dead = queue({ leaseMs: 300, heartbeatMs: 3_600_000, stopTimeoutMs: 100 });
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let lateSave: unknown = null;
      dead.register('slow', async (ctx) => {
        await gate;
        try {
          await ctx.saveCheckpoint({ late: true });
        } catch (err) {
          lateSave = err;
        }
        return 'late';
      });
      const job = await dead.submit('slow', {}, { runHere: true });
      const sweeper = queue({ pollMs: 50 }, await meta.reopen());
      await sweeper.start();
      const swept = await until('the sweep', async () => {
        const j = await sweeper.get(job.id);
        return j.status === 'interrupted' ? j : null;
      });
      expect(swept.error).toMatchObject({ code: 'job_interrupted' });
      expect(await sweeper.cancel(job.id)).toMatchObject({
        status: 'cancelled',
        error: { code: 'job_cancelled' },
      });
      release();
      await until('the dead handler to end', async () => lateSave !== null);
      expect(lateSave).toBeInstanceOf(JobCancelledError);
      await sleep(100);
      // Its late outcome was not stored over the interruption.
      expect((await sweeper.get(job.id)).status).toBe('cancelled');
      expect(await store.jobs.loadCheckpoint(job.id)).toBeNull();
      const logs = await sweeper.logs(job.id);
      expect(logs.map((l) => l.message)).toContain('the process running the job stopped renewing its lease');
    });

    it('runs each of 20 queued jobs exactly once with two queues polling the same store', async () => {
      const runs: { id: string; owner: string }[] = [];
      const make = async (on: MetaStore) => {
        const q = queue({ pollMs: 10, concurrency: 3 }, on);
        q.register('work', async (ctx) => {
          runs.push({ id: ctx.job.id, owner: q.owner });
          await sleep(5 + Math.random() * 20);
          return null;
        });
        return q;
      };
      const a = await make(store);
      const b = await make(await meta.reopen());
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push((await a.submit('work', { i })).id);
      await Promise.all([a.start(), b.start()]);
      const finished = await Promise.all(ids.map((id) => a.wait(id)));
      expect(finished.every((j) => j.status === 'succeeded')).toBe(true);
      expect(runs.map((r) => r.id).sort()).toEqual([...ids].sort());

      // The claim itself: one of many concurrent claimants wins.
      const one = await a.submit('other', {});
      const owners = Array.from({ length: 8 }, (_, i) => `owner-${i}`);
      const won = await Promise.all(owners.map((o) => store.jobs.claim(one.id, o, 10_000)));
      expect(won.filter(Boolean)).toHaveLength(1);
      expect((await a.get(one.id)).owner).toBe(owners[won.indexOf(true)]);
    });

    it('keeps log lines in the order they were written', async () => {
      const q = queue();
      q.register('chatty', async (ctx) => {
        const writes = Array.from({ length: 30 }, (_, i) =>
          ctx.log(i % 3 === 0 ? 'warn' : 'info', `line ${i}`, i === 5 ? { n: 5 } : undefined),
        );
        await Promise.all(writes);
        return null;
      });
      const job = await q.submit('chatty', {}, { runHere: true });
      await q.wait(job.id);
      const logs = await q.logs(job.id);
      expect(logs.map((l) => l.seq)).toEqual(logs.map((_, i) => i + 1));
      const mine = logs.filter((l) => l.message.startsWith('line '));
      expect(mine.map((l) => l.message)).toEqual(Array.from({ length: 30 }, (_, i) => `line ${i}`));
      expect(mine[5]).toMatchObject({ level: 'info', details: { n: 5 } });
      expect(mine[3]).toMatchObject({ level: 'warn', details: null });
      const after = await q.logs(job.id, { afterSeq: logs.length - 2 });
      expect(after.map((l) => l.seq)).toEqual([logs.length - 1, logs.length]);
      await expect(q.logs('missing')).rejects.toMatchObject({ status: 404, code: 'not_found' });
    });

    it('lists newest first with filters, answers 404 for an unknown job', async () => {
      const q = queue();
      const a = await q.submit('import', { n: 1 }, { createdBy: 'u1' });
      await sleep(5);
      const b = await q.submit('import', { n: 2 }, { createdBy: 'u2' });
      await sleep(5);
      const c = await q.submit('consolidate', { n: 3 }, { createdBy: 'u1' });
      expect((await q.list()).map((j) => j.id)).toEqual([c.id, b.id, a.id]);
      expect((await q.list({ kind: 'import' })).map((j) => j.id)).toEqual([b.id, a.id]);
      expect((await q.list({ createdBy: 'u1', limit: 1 })).map((j) => j.id)).toEqual([c.id]);
      await q.cancel(b.id);
      expect((await q.list({ status: 'cancelled' })).map((j) => j.id)).toEqual([b.id]);
      await expect(q.get('missing')).rejects.toMatchObject({ status: 404, code: 'not_found' });
      await expect(q.resume(a.id)).rejects.toMatchObject({ status: 409, code: 'job_not_resumable' });
    });
  });
});
