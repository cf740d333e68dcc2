/** The engine-independent core of sync rules: the rule model, field mapping, policies, planning. */
export * from './sync-rule.js';
export { validateSyncRule, TRANSFORM_INPUTS } from './sync-rule-validation.js';
export {
  readCanonical,
  writeMember,
  canonicalEquals,
  canonicalText,
  type CanonicalValues,
  type MappingOptions,
} from './field-mapping.js';
export {
  decideEntity,
  type DecideInput,
  type EntityTrigger,
  type FieldDecision,
  type MemberSide,
  type SideValue,
} from './conflict-policy.js';
export {
  planReconciliation,
  type DuplicateGroup,
  type PlannedEntity,
  type PlannedRow,
  type ReconcileInput,
  type ReconcilePlan,
  type RowError,
  type UnmatchedRow,
} from './reconcile-plan.js';
