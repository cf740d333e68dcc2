import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Sql } from '../shared/dialect-adapter.js';

/**
 * Server-side cursor streaming with DECLARE / FETCH, chosen over keyset pages and over pg-cursor:
 * - keyset pages re-run the query for every page; with a filter or a sort no index serves, each
 *   page scans and sorts the table again (quadratic). A cursor runs the query once, and all batches
 *   come from one snapshot.
 * - pg-cursor keeps one extended-protocol portal open; PostgreSQL counts statement_timeout from
 *   its first Execute to its Sync, so a stream read slowly for longer than the timeout is canceled.
 *   Each FETCH is its own statement with its own timeout.
 * The cursor needs a transaction; the caller provides one (and ends it when the consumer stops).
 */
export async function* fetchBatches<R>(
  select: Sql,
  batchSize: number,
  run: (query: Sql) => Promise<R[]>,
): AsyncGenerator<R[]> {
  const name = sql.id(`braid_stream_${randomBytes(6).toString('hex')}`);
  await run(sql`declare ${name} no scroll cursor for ${select}`);
  let open = true;
  try {
    for (;;) {
      const rows = await run(sql`fetch forward ${sql.lit(batchSize)} from ${name}`);
      if (rows.length > 0) yield rows;
      if (rows.length < batchSize) break;
    }
    open = false;
    await run(sql`close ${name}`);
  } finally {
    // The consumer stopped early: free the portal now rather than at the end of an outer
    // transaction. After an error the transaction is aborted and its rollback frees it.
    if (open) await run(sql`close ${name}`).catch(() => {});
  }
}
