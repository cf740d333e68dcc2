import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openBraidApp } from '../../src/services/braid-app.js';
import { captureName } from '../../src/sync/engine/index.js';
import { mysqlAvailable, postgresAvailable } from '../support/servers.js';
import {
  leftovers,
  openUseCaseDatabases,
  waitFor,
  type UseCaseDatabases,
} from '../sync/use-case-databases.js';
import { ISSUE_EXAMPLE } from '../sync/use-case-tables.js';

const ready = (await mysqlAvailable()) && (await postgresAvailable());
const BIN = path.resolve('bin/braid.mjs');
const NAME = 'customer contacts';

/**
 * `braid sync ...` as a person runs it: each command its own process on a shared data dir, and a
 * `braid worker` process running the syncs meanwhile (the CLI never runs them itself).
 */
describe.skipIf(!ready)('braid sync CLI', () => {
  let dbs: UseCaseDatabases;
  let dataDir: string;
  let worker: ChildProcess | null = null;
  let syncId: string | null = null;
  const env = () => ({ ...process.env, BRAID_DATA_DIR: dataDir, BRAID_DEMO: '0' });

  function braid(...args: string[]) {
    const result = spawnSync(process.execPath, [BIN, ...args], {
      env: env(),
      encoding: 'utf8',
      timeout: 90_000,
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  }
  const statusJson = () => {
    const run = braid('sync', 'status', NAME, '--json');
    if (run.code !== 0) throw new Error(`sync status failed (${run.code}): ${run.stderr}`);
    return JSON.parse(run.stdout);
  };

  beforeAll(async () => {
    dbs = await openUseCaseDatabases('cli_sync');
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'braid-sync-cli-'));
    // Sources named as in the issue, so the rule file can name them instead of giving ids.
    const app = await openBraidApp(loadConfig({ BRAID_DATA_DIR: dataDir, BRAID_DEMO: '0' }));
    try {
      await app.sources.create({ name: 'crm', kind: 'mysql', config: { url: dbs.mariadbUrl } });
      await app.sources.create({ name: 'invoicing', kind: 'postgres', config: dbs.postgresConfig });
    } finally {
      await app.close();
    }
  });

  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      const exited = new Promise((resolve) => worker!.once('exit', resolve));
      worker.kill('SIGTERM');
      await exited;
    }
    // A failed test may leave the sync: its replication slot would outlive the schema.
    const app = await openBraidApp(loadConfig({ BRAID_DATA_DIR: dataDir, BRAID_DEMO: '0' }));
    try {
      if (syncId && (await app.meta.syncs.get(syncId))) await app.syncs.delete(syncId);
    } finally {
      await app.close();
      await dbs?.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses a bad rule file with the path of the problem and a non-zero exit', async () => {
    const bad = JSON.parse(
      ISSUE_EXAMPLE.replace('<crm source id>', 'crm').replace('<invoicing source id>', 'invoicing'),
    );
    bad.members[0].fields.email = 'e_mail';
    const file = path.join(dataDir, 'bad-rule.json');
    await fs.writeFile(file, JSON.stringify(bad));
    const refused = braid('sync', 'create', '--file', file);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toContain('members[0].fields.email');
    expect(refused.stderr).toContain('no column "e_mail"');

    await fs.writeFile(file, '{"name": ');
    const notJson = braid('sync', 'create', '--file', file);
    expect(notJson.code).not.toBe(0);
    expect(notJson.stderr).toContain('bad-rule.json is not valid JSON');
    expect(braid('sync', 'status', 'ghost').stderr).toContain('sync "ghost" was not found');
  });

  it('creates a sync from a file naming the sources, and lists it', async () => {
    const file = path.join(dataDir, 'rule.json');
    // The issue's body as written, with source names where it has ids.
    await fs.writeFile(
      file,
      ISSUE_EXAMPLE.replaceAll('<crm source id>', 'crm').replaceAll('<invoicing source id>', 'invoicing'),
    );
    const created = braid('sync', 'create', '--file', file);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/customer contacts\s+reconciling/);
    const list = JSON.parse(braid('sync', 'list', '--json').stdout);
    expect(list).toHaveLength(1);
    syncId = list[0].id;
    expect(list[0].rule.members.map((m: { table: string }) => m.table)).toEqual([
      'crm_business_information',
      'invoice_customers',
    ]);
    const shown = JSON.parse(braid('sync', 'show', syncId!, '--json').stdout);
    expect(shown.name).toBe(NAME);
    // Nothing runs it yet, and status says so.
    expect(braid('sync', 'status', NAME).stdout).toContain('no Braid server or worker is running this sync');
  });

  it('shows the status a running worker publishes, member by member', async () => {
    worker = spawn(process.execPath, [BIN, 'worker', '--lease', '3'], { env: env(), stdio: 'ignore' });
    await waitFor(
      'the worker to reconcile and run the sync',
      async () => {
        const status = statusJson();
        return (
          status.state === 'active' &&
          status.members.filter((m: { running: boolean }) => m.running).length === 2
        );
      },
      90_000,
    );
    const text = braid('sync', 'status', NAME);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/customer contacts \(\S+\): active, running/);
    expect(text.stdout).toMatch(
      /member\s+source\s+table\s+strategy\s+reason\s+running\s+lag\s+position\s+events\s+writes\s+errors/,
    );
    expect(text.stdout).toMatch(/0\s+crm\s+crm_business_information\s+binlog/);
    expect(text.stdout).toMatch(/1\s+invoicing\s+invoice_customers\s+logical/);
  }, 120_000);

  it('pauses and resumes by name', () => {
    const paused = braid('sync', 'pause', NAME);
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toMatch(/customer contacts\s+paused/);
    expect(statusJson().state).toBe('paused');
    const resumed = braid('sync', 'resume', NAME, '--json');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).state).toBe('active');
  });

  it('reconciles in its own process, with progress on stderr and the summary on stdout', () => {
    const run = braid('sync', 'reconcile', NAME);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^reconcile: /m);
    expect(run.stdout).toMatch(/mode\s+rows\s+matched/);
    expect(run.stdout).toMatch(/dry-run\s+4 \/ 4\s+3/);
    const none = braid('sync', 'dead-letters', NAME, '--json');
    expect(JSON.parse(none.stdout)).toEqual([]);
    // Nothing waits for review; what the priority policy settled (the initial reconciliation's
    // phone discrepancy) is on record with its winner.
    expect(JSON.parse(braid('sync', 'conflicts', NAME, '--json').stdout)).toEqual([]);
    const all = JSON.parse(braid('sync', 'conflicts', NAME, '--all', '--json').stdout) as {
      status: string;
      resolution: { by: string; winner: number };
    }[];
    expect(all.length).toBeGreaterThan(0);
    for (const c of all)
      expect(c).toMatchObject({ status: 'resolved', resolution: { by: 'policy:priority', winner: 0 } });
  });

  it('deletes the sync and its capture objects', async () => {
    const fragment = captureName(syncId!, 0).slice(0, -3);
    expect((await leftovers(dbs, fragment)).length).toBeGreaterThan(0);
    const deleted = braid('sync', 'delete', NAME);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(JSON.parse(braid('sync', 'list', '--json').stdout)).toEqual([]);
    expect(await leftovers(dbs, fragment)).toEqual([]);
  }, 60_000);
});
