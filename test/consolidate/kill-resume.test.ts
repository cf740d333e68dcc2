import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { ConsolidationReport } from '../../src/consolidate/consolidation-report.js';
import type { Job } from '../../src/jobs/job.js';
import { openBraidApp, type BraidApp } from '../../src/services/braid-app.js';
import {
  createMysqlDatabase,
  createPostgresSchema,
  mysqlAvailable,
  postgresAvailable,
  postgresExec,
} from '../support/servers.js';

const ready = (await mysqlAvailable()) && (await postgresAvailable());
const ROWS = 30_000;
const LEASE_MS = 1_500;

/** `braid ...` as its own Node process (not bin/braid.mjs, whose child would outlive a SIGKILL). */
function braid(dataDir: string, args: string[]): ChildProcess & { output(): string; out(): string } {
  const child = spawn(
    process.execPath,
    ['--no-node-snapshot', '--import', 'tsx', path.resolve('src/cli/main.ts'), ...args],
    {
      env: { ...process.env, BRAID_DATA_DIR: dataDir, BRAID_DEMO: '0', BRAID_JOB_LEASE_MS: String(LEASE_MS) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  ) as ChildProcess & { output(): string; out(): string };
  let output = '';
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    stdout += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.output = () => output;
  child.out = () => stdout;
  return child;
}

async function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A consolidation run by `braid consolidate` processes killed with SIGKILL at several points
 * (while reading an input, while writing the master, while verifying) and resumed each time by a
 * new process must end with exactly the master an uninterrupted run produces: same rows, same
 * generated keys, same checksum.
 */
describe.skipIf(!ready)('consolidation killed with SIGKILL and resumed', () => {
  let dataDir: string;
  let watcher: BraidApp;
  let leads: { schema: string; url: string; drop(): Promise<void> };
  let master: { url: string; drop(): Promise<void> };
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'braid-kill-'));
    leads = await createPostgresSchema('kill_leads');
    // Two lists of ROWS leads, a third of the west list repeating east's people in other spellings.
    await postgresExec(
      leads.schema,
      `create table east (id int primary key, name text, email text, phone text, updated_at timestamptz);
       insert into east select i, 'Person ' || i, 'p' || i || '@east.example', '555' || lpad(i::text, 7, '0'),
         timestamptz '2026-01-01' + i * interval '1 minute' from generate_series(1, ${ROWS}) i;
       create table west (id int primary key, name text, email text, phone text, updated_at timestamptz);
       insert into west select i, upper('person ' || i), case when i % 3 = 0 then 'P' || i || '@EAST.example'
         else 'w' || i || '@west.example' end,
         case when i % 3 = 0 then '(555) ' else '(556) ' end || lpad(i::text, 7, '0'),
         timestamptz '2026-02-01' + i * interval '1 minute' from generate_series(1, ${ROWS}) i;`,
    );
    master = await createMysqlDatabase('kill_master');
    const app = await openBraidApp(loadConfig({ BRAID_DATA_DIR: dataDir, BRAID_DEMO: '0' }));
    await app.sources.create({
      name: 'leads',
      kind: 'postgres',
      config: { url: leads.url, schemas: [leads.schema] },
    });
    await app.sources.create({ name: 'master', kind: 'mysql', config: { url: master.url } });
    await app.close();
    watcher = await openBraidApp(loadConfig({ BRAID_DATA_DIR: dataDir, BRAID_DEMO: '0' }));
  }, 120_000);

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await watcher?.close();
    await leads?.drop();
    await master?.drop();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  async function writeDefinition(name: string, table: string, inputs: string[]): Promise<string> {
    const columns = `{ name: name, email: { from: email, transform: "value.toLowerCase()" }, phone: { from: phone, transform: "value.replace(/\\\\D/g, '')" } }`;
    const file = path.join(dataDir, `${name}.yaml`);
    await fs.writeFile(
      file,
      `name: ${name}
target: { source: master }
table: ${table}
create: true
key: { column: id, generate: sequence }
inputs:
${inputs.map((i) => `  - { name: ${i}, source: leads, table: ${i}, updatedAt: updated_at, columns: ${columns} }`).join('\n')}
${inputs.length > 1 ? 'match: { exact: [[{ field: email, normalize: [email] }], [{ field: phone, normalize: [digits] }]] }\nresolve: { default: priority, fields: { name: newest } }' : ''}
`,
    );
    return file;
  }

  async function runToEnd(args: string[]): Promise<string> {
    const child = braid(dataDir, args);
    children.push(child);
    const code = await exited(child);
    expect(code, child.output()).toBe(0);
    return child.out();
  }

  /** Starts a run or resume and kills it with SIGKILL once `when` holds for the job (or it ends). */
  async function runAndKill(
    args: string[],
    when: (job: Job) => boolean | Promise<boolean>,
  ): Promise<{ id: string; killed: string | null }> {
    const child = braid(dataDir, args);
    children.push(child);
    let id = args[0] === 'consolidate' && args[1] === 'resume' ? args[2]! : null;
    for (;;) {
      if (child.exitCode !== null) return { id: id!, killed: null };
      id ??= /job ([0-9a-z-]{8,})/.exec(child.output())?.[1] ?? null;
      if (id) {
        const job = await watcher.jobs.get(id);
        if (job.status === 'running' && job.progress && (await when(job))) {
          child.kill('SIGKILL');
          await exited(child);
          return { id, killed: `${job.progress.phase} ${job.progress.done}` };
        }
        if (job.status !== 'running' && job.status !== 'queued') {
          await exited(child);
          return { id, killed: null };
        }
      }
      await sleep(25);
    }
  }

  async function loadRunning(): Promise<number> {
    const conn = await mysql.createConnection({ uri: master.url });
    const [rows] = await conn.query(
      "select count(*) as n from information_schema.processlist where info like 'load data%'",
    );
    await conn.end();
    return Number((rows as { n: number }[])[0]!.n);
  }

  async function tableRows(table: string): Promise<unknown[]> {
    const conn = await mysql.createConnection({ uri: master.url });
    const [rows] = await conn.query(`select * from \`${table}\` order by id`);
    await conn.end();
    return rows as unknown[];
  }

  async function resumeAfterLease(id: string, when: (job: Job) => boolean | Promise<boolean>) {
    await sleep(LEASE_MS + 300); // the dead process's lease must run out before another may resume
    return runAndKill(['consolidate', 'resume', id], when);
  }

  it('a staged job (two inputs, matching) killed three times ends exactly as an uninterrupted run', async () => {
    const reference = await writeDefinition('reference', 'ref_leads', ['east', 'west']);
    const output = await runToEnd(['--json', 'consolidate', 'run', reference]);
    const expected = JSON.parse(output) as ConsolidationReport;
    expect(expected.verdict).toBe('verified');
    expect(expected.tables[0]!.entities).toBe(ROWS * 2 - ROWS / 3);

    const killedFile = await writeDefinition('killed', 'killed_leads', ['east', 'west']);
    const kills: string[] = [];
    let step = await runAndKill(
      ['consolidate', 'run', killedFile],
      (job) => job.progress!.phase.includes('<- west') && job.progress!.done > 2_000,
    );
    if (step.killed) kills.push(step.killed);
    // Matching and merging run in memory for a moment only: either is a kill between staging and write.
    step = await resumeAfterLease(step.id, (job) => /^(match|merge) /.test(job.progress!.phase));
    if (step.killed) kills.push(step.killed);
    // The load itself is quick; the master's own process list shows it while it runs.
    step = await resumeAfterLease(step.id, async () => (await loadRunning()) > 0);
    if (step.killed) kills.push(`${step.killed} (LOAD DATA running)`);
    await sleep(LEASE_MS + 300);
    const job = (await watcher.jobs.get(step.id)) as Job<unknown, ConsolidationReport>;
    if (job.status !== 'succeeded') await runToEnd(['consolidate', 'resume', step.id]);
    const finished = (await watcher.jobs.get(step.id)) as Job<unknown, ConsolidationReport>;

    // The kill while reading always lands (30,000 rows take seconds); the others usually do.
    expect(kills.length, kills.join('; ')).toBeGreaterThanOrEqual(2);
    console.info(`killed at: ${kills.join('; ')}`);
    expect(finished.status).toBe('succeeded');
    expect(finished.attempts).toBeGreaterThanOrEqual(3);
    const report = finished.result!;
    expect(report.verdict).toBe('verified');
    expect(report.tables[0]!.checksum!.actual).toBe(expected.tables[0]!.checksum!.actual);
    expect(report.tables[0]!.discrepancies).toEqual(expected.tables[0]!.discrepancies);
    expect(await tableRows('killed_leads')).toEqual(await tableRows('ref_leads'));
  }, 240_000);

  it('a direct copy killed while writing leaves nothing and is redone exactly', async () => {
    const reference = await writeDefinition('copy_reference', 'copy_ref', ['east']);
    const output = await runToEnd(['--json', 'consolidate', 'run', reference]);
    const expected = JSON.parse(output) as ConsolidationReport;
    const killedFile = await writeDefinition('copy_killed', 'copy_killed', ['east']);
    const step = await runAndKill(
      ['consolidate', 'run', killedFile],
      (job) => job.progress!.phase.startsWith('copy') && job.progress!.done > 5_000,
    );
    expect(step.killed).not.toBeNull();
    expect(await tableRows('copy_killed')).toEqual([]); // the load's transaction died with the process
    await sleep(LEASE_MS + 300);
    await runToEnd(['consolidate', 'resume', step.id]);
    const finished = (await watcher.jobs.get(step.id)) as Job<unknown, ConsolidationReport>;
    expect(finished.result!.verdict).toBe('verified');
    expect(finished.result!.tables[0]!.checksum!.actual).toBe(expected.tables[0]!.checksum!.actual);
    expect(await tableRows('copy_killed')).toEqual(await tableRows('copy_ref'));
  }, 120_000);
});
