import { log, mib, ms, percentile, ratio, type BenchResult } from './support.js';
import { killWorker, prepareRuntime, startWorker, waitUntilRunning } from './sync/braid-process.js';
import { setUpBraid, type CaptureChoice } from './sync/braid-setup.js';
import { createUseCaseDatabases } from './sync/databases.js';
import { runPhase, type PhaseOptions, type PhaseResult, type Runtime } from './sync/phase.js';

/**
 * The sync benchmark: on the use case's tables (CRM on MariaDB, invoicing on PostgreSQL, 100,000
 * customers each, linked by an initial reconciliation), 500 single-row updates per second on one
 * side for 60 s, and the latency from the source's commit to the row's arrival on the other side
 * through a `braid worker` process, per capture strategy; then the same with the worker SIGKILLed
 * at 30 s and restarted. See docs/benchmarks.md for what each number means.
 *
 * BENCH_SYNC_SECONDS, BENCH_SYNC_RATE, BENCH_SYNC_ROWS, BENCH_SYNC_DRAIN_SECONDS and
 * BENCH_SYNC_STRATEGIES (comma list of logical, binlog, kill, triggers, polling) shorten a run.
 */

const SECONDS = Number(process.env.BENCH_SYNC_SECONDS ?? 60);
const RATE = Number(process.env.BENCH_SYNC_RATE ?? 500);
const ROWS = Number(process.env.BENCH_SYNC_ROWS ?? 100_000);
const DRAIN_IDLE_SECONDS = Number(process.env.BENCH_SYNC_DRAIN_SECONDS ?? 60);
const ALL = ['logical', 'binlog', 'kill', 'triggers', 'polling'] as const;
type Strategy = (typeof ALL)[number];
const SELECTED = new Set(
  (process.env.BENCH_SYNC_STRATEGIES ?? ALL.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter((s): s is Strategy => (ALL as readonly string[]).includes(s)),
);
const TARGET_P50_MS = 50;
const TARGET_P99_MS = 250;
/** Expected capture per member (crm, invoicing) for each phase. */
const EXPECTED: Record<Strategy, string> = {
  logical: 'crm=binlog, invoicing=logical',
  binlog: 'crm=binlog, invoicing=logical',
  kill: 'crm=binlog, invoicing=logical',
  triggers: 'crm=triggers, invoicing=triggers',
  polling: 'crm=polling, invoicing=polling',
};

interface Setup {
  capture: CaptureChoice;
  phases: {
    strategy: Strategy;
    options: Omit<PhaseOptions, 'rows' | 'rate' | 'seconds' | 'drainIdleSeconds'>;
  }[];
}

/**
 * Log-based capture is what "auto" picks on both servers (logical on PostgreSQL, binlog on
 * MariaDB), so the logical, binlog and SIGKILL phases share one setup and one reconciliation
 * (2.5 minutes on 100,000 rows) and differ by the side the load runs on. Triggers and polling are
 * forced by the rule, for both members.
 */
const SETUPS: Setup[] = [
  {
    capture: 'auto',
    phases: [
      {
        strategy: 'logical',
        options: { label: 'logical (PostgreSQL -> MariaDB)', source: 'postgres', firstSeq: 1 },
      },
      {
        strategy: 'binlog',
        options: { label: 'binlog (MariaDB -> PostgreSQL)', source: 'mysql', firstSeq: 1_000_001 },
      },
      {
        strategy: 'kill',
        options: {
          label: 'binlog + SIGKILL (MariaDB -> PostgreSQL)',
          source: 'mysql',
          firstSeq: 2_000_001,
          killAtSeconds: Math.min(30, SECONDS / 2),
        },
      },
    ],
  },
  {
    capture: 'triggers',
    phases: [
      {
        strategy: 'triggers',
        options: { label: 'triggers (MariaDB -> PostgreSQL)', source: 'mysql', firstSeq: 3_000_001 },
      },
    ],
  },
  {
    capture: 'polling',
    phases: [
      {
        strategy: 'polling',
        options: { label: 'polling 1 s (MariaDB -> PostgreSQL)', source: 'mysql', firstSeq: 4_000_001 },
      },
    ],
  },
];

export async function runSyncLatency(): Promise<BenchResult[]> {
  const runtimeKind = prepareRuntime();
  const results: BenchResult[] = [];
  for (const setup of SETUPS) {
    const phases = setup.phases.filter((p) => SELECTED.has(p.strategy));
    if (phases.length === 0) continue;
    const dbs = await createUseCaseDatabases(ROWS);
    try {
      const braid = await setUpBraid(dbs, setup.capture);
      try {
        const worker = await startWorker(braid.env, runtimeKind);
        const rt: Runtime = { dbs, braid, worker, runtimeKind };
        try {
          const running = await waitUntilRunning(braid.store, braid.syncId, worker);
          for (const m of running.engine!.members) log(`member ${m.member}: ${m.reason}`);
          for (const phase of phases) {
            const result = await runPhase(rt, {
              ...phase.options,
              rows: ROWS,
              rate: RATE,
              seconds: SECONDS,
              drainIdleSeconds: DRAIN_IDLE_SECONDS,
            });
            results.push(toBenchResult(phase.strategy, result, braid.reconcile, runtimeKind));
          }
        } finally {
          await killWorker(rt.worker, 'SIGTERM');
        }
      } finally {
        await braid.close();
      }
    } finally {
      await dbs.drop();
    }
  }
  return results;
}

function toBenchResult(
  strategy: Strategy,
  r: PhaseResult,
  reconcile: { seconds: number; linked: number; entities: number },
  runtimeKind: string,
): BenchResult {
  const lat = r.latencies;
  const p50 = percentile(lat, 50);
  const p99 = percentile(lat, 99);
  const floorP50 = percentile(r.floorMs, 50);
  // Lost: neither the update's value nor a later value of the same row reached the target. A value
  // superseded before Braid read the row is skipped by design (apply-event reads the source row
  // now), so it is reported apart, for every strategy.
  const lost = r.neverArrived - r.superseded;
  const metrics: [string, string][] = [
    ['capture', r.strategies],
    [
      'updates sent',
      `${r.load.sent} in ${r.load.seconds.toFixed(1)} s (${Math.round(r.load.sent / r.load.seconds)}/s)`,
    ],
    ['latency p50', ms(p50, 1)],
    ['latency p95', ms(percentile(lat, 95), 1)],
    ['latency p99', ms(p99, 1)],
    ['latency max', ms(lat.at(-1) ?? Number.NaN, 1)],
    ['floor UPDATE+SELECT p50', `${ms(floorP50)} (p50 ${ratio(p50 / floorP50)})`],
    [
      'source UPDATE p50',
      ms(
        percentile(
          [...r.load.roundTripMs].sort((a, b) => a - b),
          50,
        ),
      ),
    ],
    ['lost', String(lost)],
  ];
  metrics.push(
    ['superseded (coalesced)', String(r.superseded)],
    ['applied twice', String(r.twice)],
    ['echoes', String(r.echoes)],
    ['arrived on a wrong row', String(r.misrouted)],
    ['Braid CPU (1 core)', `${r.cpuPercent.toFixed(1)} %`],
    ['Braid peak RSS', mib(r.peakRssKib)],
    ['drain', `${r.drainSeconds.toFixed(1)} s`],
  );
  if (r.kill) {
    metrics.push(
      ['sync running again after', `${r.kill.downSeconds.toFixed(1)} s`],
      ['replayed events', String(r.kill.replayed)],
      ['restarted: applied / noop', `${r.kill.restartedApplied} / ${r.kill.restartedNoop}`],
    );
  }
  metrics.push(['source rows not at their last update', String(r.regressed)]);
  metrics.push([
    'rows differing after drain',
    `${r.converged.mismatched} (${r.differingTouched} of them changed in this phase)`,
  ]);
  const clean = lost === 0 && r.twice === 0 && r.echoes === 0 && r.misrouted === 0 && r.regressed === 0;
  let target = 'none (reported only)';
  let met: boolean | null = null;
  if (strategy === 'logical' || strategy === 'binlog') {
    target = `p50 <= ${TARGET_P50_MS} ms, p99 <= ${TARGET_P99_MS} ms, 0 lost, 0 twice, 0 echoes`;
    met = p50 <= TARGET_P50_MS && p99 <= TARGET_P99_MS && clean;
  } else if (strategy === 'kill') {
    target = 'converged, 0 lost, 0 twice, 0 echoes';
    met = clean && r.converged.mismatched === 0;
  }
  const member = (m: PhaseResult['sourceMember']) =>
    m
      ? `applied ${m.eventsApplied}, noop ${m.noopEvents}, echoes skipped ${m.echoesSkipped}, writes ${m.writes}, errors ${m.errors}${m.lastError ? ` (${m.lastError})` : ''}`
      : 'no status';
  return {
    name: `sync ${strategy}`,
    metrics,
    target,
    met,
    notes: [
      `${r.label}; capture ${r.strategies === EXPECTED[strategy] ? 'as expected' : `UNEXPECTED (wanted ${EXPECTED[strategy]})`}; worker runtime ${runtimeKind}`,
      `initial reconcile in process: ${reconcile.entities} entities, ${reconcile.linked} links, ${reconcile.seconds.toFixed(1)} s`,
      `worker counters of the phase (from sync_leases.status; after a SIGKILL: the new worker's): source member ${member(r.sourceMember)}; target member ${member(r.targetMember)}`,
      `never arrived ${r.neverArrived}, of which superseded by a later update of the same row ${r.superseded}; generator at most ${r.load.maxBehindMs.toFixed(0)} ms behind schedule`,
      ...(r.converged.examples.length ? [`differing rows: ${r.converged.examples.join('; ')}`] : []),
      ...(r.regressedExamples.length
        ? [`source rows not at their last update: ${r.regressedExamples.join('; ')}`]
        : []),
      ...(r.lostExamples.length ? [`never arrived: ${r.lostExamples.join('; ')}`] : []),
    ],
  };
}
