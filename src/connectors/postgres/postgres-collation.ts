import { sql, type Kysely } from 'kysely';
import { BYTEWISE_COLLATIONS, type CollationState } from './postgres-adapter.js';

interface DatabaseLocale {
  collate: string;
  ctype: string;
  /** pg_database.datlocprovider (PG 15+): c libc, i ICU, b builtin (PG 17); null before 15. */
  provider: string | null;
  /** pg_database.datlocale (PG 17+), the builtin/ICU locale. */
  locale: string | null;
  has_icu: boolean;
}

/**
 * Reads the database's default collation once, so the adapter can skip `COLLATE "C"` where the
 * default already sorts by code point and pick a Unicode-aware collation for lower() where the
 * default LC_CTYPE (C/POSIX) only folds ASCII. `to_jsonb(d)` reads columns that older servers
 * lack without failing.
 */
export async function detectCollation(db: Kysely<any>): Promise<CollationState> {
  const { rows } = await sql<DatabaseLocale>`
    select d.datcollate as collate, d.datctype as ctype,
           to_jsonb(d) ->> 'datlocprovider' as provider, to_jsonb(d) ->> 'datlocale' as locale,
           exists (select 1 from pg_collation where collname = 'und-x-icu') as has_icu
    from pg_database d where d.datname = current_database()`.execute(db);
  const row = rows[0];
  if (!row) return { bytewiseDefault: false, foldCollation: null };
  const provider = row.provider ?? 'c';
  const asciiOnlyCase =
    (provider === 'c' && /^(c|posix)$/i.test(row.ctype)) ||
    (provider === 'b' && /^c$/i.test(row.locale ?? 'C'));
  return {
    // ICU collations are linguistic; builtin (PG 17) ones are all code-point ordered.
    bytewiseDefault:
      provider === 'b' || (provider === 'c' && BYTEWISE_COLLATIONS.has(row.collate.toLowerCase())),
    foldCollation: asciiOnlyCase && row.has_icu ? 'und-x-icu' : null,
  };
}
