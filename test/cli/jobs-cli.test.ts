import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMetaStore } from '../../src/meta/meta-store.js';
import { braid } from './run-braid.js';

describe('braid jobs', () => {
  let dataDir: string;
  const ids = { queued: 'job-queued', interrupted: 'job-interrupted' };
  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'braid-jobs-cli-'));
    // Jobs as a server or worker would have left them: one waiting, one whose process died.
    const store = await openMetaStore({ dataDir });
    await store.jobs.insert({
      id: ids.queued,
      kind: 'import',
      title: 'Import a.csv',
      params: { file: 'a.csv' },
      createdBy: null,
    });
    await store.jobs.insert({
      id: ids.interrupted,
      kind: 'consolidate',
      title: 'Merge customers',
      params: {},
      createdBy: null,
      runBy: { owner: 'gone:1:abc', leaseMs: -1_000 },
    });
    await store.jobs.appendLog(ids.interrupted, {
      level: 'info',
      message: 'copied 10 rows',
      details: { rows: 10 },
    });
    await store.jobs.sweepExpired({
      interrupted: { code: 'job_interrupted', message: 'its process stopped' },
      cancelled: { code: 'job_cancelled', message: 'cancelled' },
    });
    await store.close();
  });
  afterAll(async () => fs.rm(dataDir, { recursive: true, force: true }));

  it('lists, shows, prints logs, cancels and queues again', () => {
    const list = braid(dataDir, ['jobs', 'list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect(
      JSON.parse(list.stdout)
        .map((j: { id: string; status: string }) => [j.id, j.status])
        .sort(),
    ).toEqual([
      [ids.interrupted, 'interrupted'],
      [ids.queued, 'queued'],
    ]);
    const table = braid(dataDir, ['jobs', 'list', '--kind', 'import']);
    expect(table.stdout).toMatch(/job-queued\s+import\s+Import a\.csv\s+queued/);
    expect(table.stdout).not.toContain('Merge customers');

    const show = braid(dataDir, ['jobs', 'show', ids.interrupted, '--json']);
    expect(JSON.parse(show.stdout)).toMatchObject({
      status: 'interrupted',
      error: { code: 'job_interrupted' },
    });

    const logs = braid(dataDir, ['jobs', 'logs', ids.interrupted]);
    expect(logs.stdout).toMatch(/^1 {2}\S+ {2}info {3}copied 10 rows \{"rows":10\}$/m);

    const cancel = braid(dataDir, ['jobs', 'cancel', ids.queued]);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toMatch(/job-queued.*cancelled/);
    const again = braid(dataDir, ['jobs', 'cancel', ids.queued]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('(job_finished)');

    const resume = braid(dataDir, ['jobs', 'resume', ids.interrupted]);
    expect(resume.code, resume.stderr).toBe(0);
    expect(resume.stdout).toContain('queued again');
    expect(JSON.parse(braid(dataDir, ['jobs', 'show', ids.interrupted, '--json']).stdout)).toMatchObject({
      status: 'queued',
      attempts: 2,
    });

    const missing = braid(dataDir, ['jobs', 'show', 'nope']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('(not_found)');
    const badStatus = braid(dataDir, ['jobs', 'list', '--status', 'sleeping']);
    expect(badStatus.code).toBe(2);
  });
});
