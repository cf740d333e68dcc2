import type { Row } from './values.js';

export type ChangeOp = 'insert' | 'update' | 'delete';

/**
 * One committed row change in a source, as every capture strategy delivers it. Values are wire
 * values (model/values.ts), keyed by column name. Delivery is at least once: consumers apply
 * idempotently, using `position` (ordered within one capture stream) to skip what they have done.
 */
export interface ChangeEvent {
  /** Source id. */
  source: string;
  /** Table as people name it: `name`, or `schema.name` outside the default schema. */
  table: string;
  op: ChangeOp;
  /** Primary-key values of the row (after the change; before it for deletes). */
  key: Row;
  /** The row before the change, when the strategy knows it (updates and deletes). */
  before?: Row;
  /** The row after the change (inserts and updates). */
  after?: Row;
  /** Commit time of the source transaction, ISO 8601 UTC. */
  commitTime: string;
  /** Opaque, durable, ordered position of this event in its capture stream. */
  position: string;
  /** Set when the change was written by a Braid writer that tagged its transaction (echo suppression). */
  origin?: string;
}
