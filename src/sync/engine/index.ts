/** The sync engine runtime: capture per member, apply with echo suppression, reconcile. */
export { SyncEngine, type MemberStatus, type SyncEngineOptions, type SyncStatus } from './sync-engine.js';
export type { EngineLogger, MemberStats } from './sync-context.js';
export type { ReconcileOptions, ReconcileProgress, ReconcileReport } from './reconcile-apply.js';
export { CAPTURE_ORDER, captureName, type CaptureSelection } from './capture-choice.js';
export type { ConflictChoice, ConflictResolution } from './resolve-conflict.js';
