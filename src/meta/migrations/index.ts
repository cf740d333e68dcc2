import type { Migration } from 'kysely';
import * as m0001 from './0001-initial.js';
import * as m0002 from './0002-sync.js';
import * as m0003 from './0003-sync-state.js';
import * as m0004 from './0004-jobs.js';
import * as m0005 from './0005-relations.js';
import * as m0006 from './0006-combined.js';
import * as m0007 from './0007-combined-materializations.js';

/**
 * Every metadata migration, in order. To add one: create `NNNN-what-it-does.ts` next to this file
 * exporting `up` (and `down`), and append it here. Names sort as text, hence the zero padding; a
 * migration that has run is never edited, a new one is added instead.
 */
export const META_MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001-initial': m0001,
  '0002-sync': m0002,
  '0003-sync-state': m0003,
  '0004-jobs': m0004,
  '0005-relations': m0005,
  '0006-combined': m0006,
  '0007-combined-materializations': m0007,
};
