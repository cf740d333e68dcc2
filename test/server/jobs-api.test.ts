import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobContext } from '../../src/jobs/job.js';
import { ADMIN, startHarness, type Harness } from './harness.js';

const aborted = (signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });

async function until<T>(what: string, check: () => Promise<T | null | false>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('jobs API', () => {
  let h: Harness;
  let adminId: string;
  let builderId: string;
  let asBuilder: (options: InjectOptions) => ReturnType<Harness['admin']>;
  let asViewer: (options: InjectOptions) => ReturnType<Harness['admin']>;

  const login = async (email: string, password: string, role: 'builder' | 'app_user') => {
    const user = await h.app.auth.createUser({ email, password, role });
    const res = await h.server.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email, password },
    });
    const cookie = res.cookies.find((c) => c.name === 'braid_session')!.value;
    const as = (options: InjectOptions) =>
      h.server.inject({
        ...options,
        headers: { ...(options.headers ?? {}), cookie: `braid_session=${cookie}` },
      });
    return { id: user.id, as };
  };

  beforeAll(async () => {
    h = await startHarness();
    adminId = (await h.app.auth.listUsers()).find((u) => u.email === ADMIN.email)!.id;
    const builder = await login('builder@example.test', 'builder-pass-1', 'builder');
    builderId = builder.id;
    asBuilder = builder.as;
    asViewer = (await login('viewer@example.test', 'viewer-pass-1', 'app_user')).as;
    // Runs until cancelled the first time, succeeds from its checkpoint once resumed.
    h.app.jobs.register('steps', async (ctx: JobContext<{ n: number }>) => {
      await ctx.log('info', 'step one', { n: ctx.job.params.n });
      const checkpoint = await ctx.loadCheckpoint<{ step: number }>();
      if (checkpoint) return { resumedAt: checkpoint.step };
      await ctx.saveCheckpoint({ step: 1 });
      ctx.progress({ phase: 'waiting', done: 1, total: 2, unit: 'steps' });
      await aborted(ctx.signal);
      ctx.throwIfCancelled();
      return null;
    });
    await h.app.runJobs();
  });
  afterAll(async () => h?.close());

  it('lists, shows, logs, cancels and resumes a job; 404 and 409 with stable codes', async () => {
    const job = await h.app.jobs.submit('steps', { n: 7 }, { title: 'Seven steps', createdBy: adminId });
    await until('the job to run', async () => (await h.app.jobs.get(job.id)).status === 'running');

    const list = await h.admin({ url: '/api/jobs?kind=steps&status=running' });
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json().jobs.map((j: { id: string }) => j.id)).toEqual([job.id]);

    const one = await h.admin({ url: `/api/jobs/${job.id}` });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({
      id: job.id,
      kind: 'steps',
      title: 'Seven steps',
      status: 'running',
      params: { n: 7 },
      createdBy: adminId,
      attempts: 1,
      cancelRequested: false,
      result: null,
      error: null,
    });

    const logs = await h.admin({ url: `/api/jobs/${job.id}/logs` });
    expect(logs.statusCode).toBe(200);
    const lines = logs.json().logs as { seq: number; message: string; details: unknown }[];
    expect(lines.find((l) => l.message === 'step one')).toMatchObject({ details: { n: 7 } });
    const after = await h.admin({ url: `/api/jobs/${job.id}/logs?after=1` });
    expect(after.json().logs.every((l: { seq: number }) => l.seq > 1)).toBe(true);

    const cancel = await h.admin({ method: 'POST', url: `/api/jobs/${job.id}/cancel` });
    expect(cancel.statusCode, cancel.body).toBe(200);
    expect(cancel.json().cancelRequested).toBe(true);
    const cancelled = await h.app.jobs.wait(job.id);
    expect(cancelled).toMatchObject({ status: 'cancelled', error: { code: 'job_cancelled' } });
    const again = await h.admin({ method: 'POST', url: `/api/jobs/${job.id}/cancel` });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('job_finished');

    const resume = await h.admin({ method: 'POST', url: `/api/jobs/${job.id}/resume` });
    expect(resume.statusCode, resume.body).toBe(200);
    expect(resume.json()).toMatchObject({ status: 'queued', attempts: 2 });
    const done = await h.app.jobs.wait(job.id);
    expect(done).toMatchObject({ status: 'succeeded', result: { resumedAt: 1 } });
    const notResumable = await h.admin({ method: 'POST', url: `/api/jobs/${job.id}/resume` });
    expect(notResumable.statusCode).toBe(409);
    expect(notResumable.json().error.code).toBe('job_not_resumable');

    for (const url of ['/api/jobs/nope', '/api/jobs/nope/logs']) {
      const missing = await h.admin({ url });
      expect(missing.statusCode).toBe(404);
      expect(missing.json().error.code).toBe('not_found');
    }
    const badStatus = await h.admin({ url: '/api/jobs?status=sleeping' });
    expect(badStatus.statusCode).toBe(400);
  });

  it("shows people their own jobs only; admins see everyone's", async () => {
    const admins = await h.app.jobs.submit('other', {}, { createdBy: adminId });
    // Newest first is by creation time: keep the two a few milliseconds apart.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const builders = await h.app.jobs.submit('other', {}, { createdBy: builderId });

    const mine = await asBuilder({ url: '/api/jobs?kind=other' });
    expect(mine.json().jobs.map((j: { id: string }) => j.id)).toEqual([builders.id]);
    // Asking for someone else's jobs changes nothing for a builder.
    const sneaky = await asBuilder({ url: `/api/jobs?kind=other&createdBy=${adminId}` });
    expect(sneaky.json().jobs.map((j: { id: string }) => j.id)).toEqual([builders.id]);
    expect((await asBuilder({ url: `/api/jobs/${builders.id}` })).statusCode).toBe(200);
    for (const [method, url] of [
      ['GET', `/api/jobs/${admins.id}`],
      ['GET', `/api/jobs/${admins.id}/logs`],
      ['POST', `/api/jobs/${admins.id}/cancel`],
      ['POST', `/api/jobs/${admins.id}/resume`],
    ] as const) {
      const res = await asBuilder({ method, url });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
    }
    expect((await h.app.jobs.get(admins.id)).status).toBe('queued');
    const cancelOwn = await asBuilder({ method: 'POST', url: `/api/jobs/${builders.id}/cancel` });
    expect(cancelOwn.json().status).toBe('cancelled');

    const all = await h.admin({ url: '/api/jobs?kind=other' });
    expect(all.json().jobs.map((j: { id: string }) => j.id)).toEqual([builders.id, admins.id]);
    const byUser = await h.admin({ url: `/api/jobs?kind=other&createdBy=${builderId}` });
    expect(byUser.json().jobs.map((j: { id: string }) => j.id)).toEqual([builders.id]);

    // App users reach the routes but have no jobs of their own here.
    const viewer = await asViewer({ url: '/api/jobs' });
    expect(viewer.statusCode).toBe(200);
    expect(viewer.json().jobs).toEqual([]);
    const anonymous = await h.server.inject({ url: '/api/jobs' });
    expect(anonymous.statusCode).toBe(401);
  });

  it('documents the routes in OpenAPI under the jobs tag', async () => {
    const doc = (await h.server.inject({ url: '/api/openapi.json' })).json();
    for (const path of [
      '/api/jobs',
      '/api/jobs/{id}',
      '/api/jobs/{id}/logs',
      '/api/jobs/{id}/cancel',
      '/api/jobs/{id}/resume',
    ]) {
      const ops = Object.values(doc.paths[path] ?? {}) as { tags?: string[] }[];
      expect(ops.length, path).toBeGreaterThan(0);
      expect(ops.every((op) => op.tags?.includes('jobs'))).toBe(true);
    }
  });
});
