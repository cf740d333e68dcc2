import { performance } from 'node:perf_hooks';
import type { MemberStatus } from '../../src/sync/engine/index.js';
import { log } from '../support.js';
import type { BraidSetup } from './braid-setup.js';
import {
  ResourceSampler,
  killWorker,
  readLeaseStatus,
  startWorker,
  waitUntilRunning,
  type LeaseStatus,
  type WorkerProcess,
} from './braid-process.js';
import { compareTables, countSeen, readPhoneSeqs, readSeen, type UseCaseDatabases } from './databases.js';
import { epochMs, measureFloor, runLoad, type LoadResult, type SourceSide } from './load.js';

/**
 * One measured phase: the load on one side for a while, Braid (a worker process) carrying it to
 * the other side, a drain, then the numbers: latency from commit to arrival, lost, applied twice,
 * echoes, the worker's CPU and RSS. With `killAtSeconds` the worker is SIGKILLed mid-load and a
 * new one started at once, and the phase also reports convergence and the replayed events.
 */

export interface PhaseOptions {
  label: string;
  source: SourceSide;
  rows: number;
  rate: number;
  seconds: number;
  firstSeq: number;
  /** How long the target may show no progress before what is missing counts as lost. */
  drainIdleSeconds: number;
  killAtSeconds?: number;
}

export interface Runtime {
  dbs: UseCaseDatabases;
  braid: BraidSetup;
  worker: WorkerProcess;
  runtimeKind: string;
}

export interface PhaseResult {
  label: string;
  source: SourceSide;
  load: LoadResult;
  latencies: number[];
  arrived: number;
  /** Updates whose value never reached the target. */
  neverArrived: number;
  /** Of those, updates superseded by a later update of the same row whose value did arrive. */
  superseded: number;
  twice: number;
  echoes: number;
  misrouted: number;
  cpuPercent: number;
  peakRssKib: number;
  drainSeconds: number;
  floorMs: number[];
  sourceMember: MemberStatus | undefined;
  targetMember: MemberStatus | undefined;
  strategies: string;
  converged: { mismatched: number; examples: string[]; crmIds: number[] };
  /** Rows the load changed whose source value at the end is not the load's last value for them. */
  regressed: number;
  regressedExamples: string[];
  /** Differing rows among those this phase's load changed (earlier phases' leftovers excluded). */
  differingTouched: number;
  /** A few updates that never arrived: seq, row, and the row's other updates in the phase. */
  lostExamples: string[];
  kill: { downSeconds: number; replayed: number; restartedApplied: number; restartedNoop: number } | null;
}

function minus(now: MemberStatus, then: MemberStatus | undefined): MemberStatus {
  if (!then) return now;
  return {
    ...now,
    eventsApplied: now.eventsApplied - then.eventsApplied,
    echoesSkipped: now.echoesSkipped - then.echoesSkipped,
    writes: now.writes - then.writes,
    noopEvents: now.noopEvents - then.noopEvents,
    errors: now.errors - then.errors,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runPhase(rt: Runtime, options: PhaseOptions): Promise<PhaseResult> {
  const { dbs, braid } = rt;
  const target: SourceSide = options.source === 'postgres' ? 'mysql' : 'postgres';
  const open = (side: SourceSide) => (side === 'postgres' ? dbs.pgClient() : dbs.myConnection());
  const sourceClient = await open(options.source);
  const targetClient = await open(target);
  const close = async () => {
    await sourceClient.end();
    await targetClient.end();
  };
  try {
    const floorMs = await measureFloor(target, targetClient);
    const before = (await readLeaseStatus(braid.store, braid.syncId))?.engine?.members ?? [];
    const targetBefore = await countSeen(targetClient);
    const sampler = new ResourceSampler(rt.worker.pid);
    sampler.start();
    log(`${options.label}: ${options.rate}/s for ${options.seconds} s on ${options.source}`);
    let killedAtMs = 0;
    let oldOwner = '';
    let restart: Promise<LeaseStatus> | null = null;
    const load = await runLoad({
      side: options.source,
      client: sourceClient,
      rows: options.rows,
      rate: options.rate,
      seconds: options.seconds,
      firstSeq: options.firstSeq,
      ...(options.killAtSeconds !== undefined && {
        event: {
          atSeconds: options.killAtSeconds,
          run: () => {
            // Without pausing the load: the kill and the restart run beside it.
            restart = (async () => {
              oldOwner = (await readLeaseStatus(braid.store, braid.syncId))?.owner ?? '';
              killedAtMs = epochMs();
              await killWorker(rt.worker, 'SIGKILL');
              log(`${options.label}: worker SIGKILLed at ${options.killAtSeconds} s, starting a new one`);
              rt.worker = await startWorker(braid.env, rt.runtimeKind);
              sampler.follow(rt.worker.pid);
              return waitUntilRunning(braid.store, braid.syncId, rt.worker, { notOwner: oldOwner });
            })();
          },
        },
      }),
    });
    log(
      `${options.label}: sent ${load.sent} updates in ${load.seconds.toFixed(1)} s (at most ${load.maxBehindMs.toFixed(0)} ms behind schedule)`,
    );
    // The restart must have finished (new worker running the sync) before the drain counts.
    const restarted = restart ? await (restart as Promise<LeaseStatus>) : null;
    const drainStarted = performance.now();
    await drain(targetClient, targetBefore + load.sent, options.drainIdleSeconds, dbs);
    const drainSeconds = (performance.now() - drainStarted) / 1000;
    sampler.stop();
    const activeSeconds = (epochMs() - load.startedAtMs) / 1000;
    const status = await readLeaseStatus(braid.store, braid.syncId);
    const result = await analyse(dbs, options, load, target);
    // Counters of this phase only, unless the worker was replaced (its successor starts at zero).
    const members = (status?.engine?.members ?? []).map((m) =>
      options.killAtSeconds === undefined
        ? minus(
            m,
            before.find((b) => b.member === m.member),
          )
        : m,
    );
    const sourceIndex = options.source === 'mysql' ? 0 : 1;
    const sourceMember = members.find((m) => m.member === sourceIndex);
    const targetMember = members.find((m) => m.member !== sourceIndex);
    let kill: PhaseResult['kill'] = null;
    const converged = await compareTables(dbs);
    // Converged is not enough: both sides could agree on an older value that Braid wrote back
    // over the person's last edit. Every row the load changed must end with the load's last value.
    const finalSeqs = await readPhoneSeqs(dbs, options.source);
    const lastSeqOfRow = new Map<number, number>();
    load.ids.forEach((id, i) => lastSeqOfRow.set(id, load.firstSeq + i));
    let regressed = 0;
    const regressedExamples: string[] = [];
    for (const [id, seq] of lastSeqOfRow) {
      const final = finalSeqs.get(id) ?? 0;
      if (final === seq) continue;
      regressed++;
      if (regressedExamples.length < 3) {
        const i = final - load.firstSeq;
        const earlier = i >= 0 && i < load.sent && load.ids[i] === id;
        regressedExamples.push(
          `row ${id} ends at seq ${final} (${earlier ? `an earlier update of this row, ${(load.commitMs[seq - load.firstSeq]! - load.commitMs[i]!).toFixed(0)} ms before its last` : 'not a value of this phase'}), last update seq ${seq}`,
        );
      }
    }
    if (options.killAtSeconds !== undefined) {
      // The source's events reach Braid in commit order (= seq order, one load connection). The
      // killed worker had handled every update up to the last one that arrived before the kill;
      // the rest were due to its successor. What the successor applied beyond those was replayed.
      let handledBeforeKill = 0;
      result.firstArrivalBySeq.forEach((at, i) => {
        if (at <= killedAtMs) handledBeforeKill = i + 1;
      });
      const applied = sourceMember?.eventsApplied ?? 0;
      kill = {
        // Until the new worker's first status with every member running (heartbeats are 1 s apart).
        downSeconds: restarted ? (Date.parse(restarted.heartbeatAt) - killedAtMs) / 1000 : Number.NaN,
        replayed: applied - (load.sent - handledBeforeKill),
        restartedApplied: applied,
        restartedNoop: sourceMember?.noopEvents ?? 0,
      };
    }
    return {
      label: options.label,
      source: options.source,
      load,
      latencies: result.latencies,
      arrived: result.arrived,
      neverArrived: result.neverArrived,
      superseded: result.superseded,
      twice: result.twice,
      echoes: result.echoes,
      misrouted: result.misrouted,
      cpuPercent: (100 * sampler.cpuSeconds()) / activeSeconds,
      peakRssKib: sampler.peakRssKib,
      drainSeconds,
      floorMs,
      sourceMember,
      targetMember,
      strategies: members.map((m) => `${m.member === 0 ? 'crm' : 'invoicing'}=${m.strategy}`).join(', '),
      converged,
      regressed,
      regressedExamples,
      differingTouched: converged.crmIds.filter((id) => load.ids.includes(id)).length,
      kill,
      lostExamples: result.lostExamples,
    };
  } finally {
    await close();
  }
}

/**
 * Waits until the target recorded `expected` updates and the tables agree (then 2 s more, for
 * late duplicates), or until it made no progress for `idleSeconds`. A strategy that coalesces
 * (polling) may never reach `expected`; it is done when the tables agree after 5 s without progress.
 */
async function drain(
  client: Parameters<typeof countSeen>[0],
  expected: number,
  idleSeconds: number,
  dbs: UseCaseDatabases,
): Promise<void> {
  let last = -1;
  let lastProgress = performance.now();
  let checkedAt = -1;
  for (;;) {
    const seen = await countSeen(client);
    // Duplicate arrivals can make up for coalesced ones: the count alone does not end the drain.
    if (seen >= expected && (await compareTables(dbs)).mismatched === 0) break;
    if (seen !== last) {
      last = seen;
      lastProgress = performance.now();
    }
    const idle = (performance.now() - lastProgress) / 1000;
    if (idle > idleSeconds) break;
    if (idle > 5 && checkedAt !== seen) {
      checkedAt = seen;
      if ((await compareTables(dbs)).mismatched === 0) break;
    }
    await sleep(200);
  }
  await sleep(2_000);
}

interface Analysis {
  latencies: number[];
  /** First arrival (epoch ms) by seq - firstSeq; NaN when it never arrived. */
  firstArrivalBySeq: Float64Array;
  /** Arrivals on another row than the one the update changed. */
  misrouted: number;
  arrived: number;
  neverArrived: number;
  superseded: number;
  twice: number;
  echoes: number;
  lostExamples: string[];
}

async function analyse(
  dbs: UseCaseDatabases,
  options: PhaseOptions,
  load: LoadResult,
  target: SourceSide,
): Promise<Analysis> {
  const arrivals = await readSeen(dbs, target);
  const firstArrival = new Float64Array(load.sent).fill(Number.NaN);
  const count = new Uint32Array(load.sent);
  let misrouted = 0;
  for (const a of arrivals) {
    const i = a.seq - load.firstSeq;
    if (i < 0 || i >= load.sent) continue;
    // Both tables were filled in the same order: row i on one side is row i on the other.
    if (a.id !== load.ids[i]) misrouted++;
    count[i]!++;
    if (!(firstArrival[i]! <= a.atMs)) firstArrival[i] = a.atMs;
  }
  // The last update of each row: an earlier one that never arrived was superseded if the later did.
  const lastOfRow = new Map<number, number>();
  for (let i = 0; i < load.sent; i++) lastOfRow.set(load.ids[i]!, i);
  const latencies: number[] = [];
  let neverArrived = 0;
  let superseded = 0;
  let twice = 0;
  const lostExamples: string[] = [];
  for (let i = 0; i < load.sent; i++) {
    if (count[i]! > 1) twice++;
    if (count[i] === 0) {
      neverArrived++;
      const last = lastOfRow.get(load.ids[i]!)!;
      if (last > i && count[last]! > 0) superseded++;
      else if (lostExamples.length < 5) {
        const others = [];
        for (let j = 0; j < load.sent; j++)
          if (j !== i && load.ids[j] === load.ids[i])
            others.push(
              `seq ${load.firstSeq + j} ${count[j] ? 'arrived' : 'lost'} at +${(load.commitMs[j]! - load.commitMs[i]!).toFixed(0)} ms`,
            );
        lostExamples.push(
          `seq ${load.firstSeq + i} row ${load.ids[i]} (${others.join(', ') || 'only update of the row'})`,
        );
      }
      continue;
    }
    latencies.push(firstArrival[i]! - load.commitMs[i]!);
  }
  // Every write into the source table since the load began, beyond the load's own, is Braid's.
  const sourceWrites = (await readSeen(dbs, options.source)).filter(
    (s) => s.atMs >= load.startedAtMs - 5,
  ).length;
  latencies.sort((a, b) => a - b);
  return {
    latencies,
    firstArrivalBySeq: firstArrival,
    misrouted,
    arrived: load.sent - neverArrived,
    neverArrived,
    superseded,
    twice,
    echoes: sourceWrites - load.sent,
    lostExamples,
  };
}
