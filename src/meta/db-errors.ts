/**
 * True when a driver error is a unique-constraint violation, on either metadata engine. The
 * repositories turn it into a 409 with a stable code, which also covers two requests racing to
 * create the same email or source name (a check-then-insert alone would not).
 */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  // PostgreSQL: SQLSTATE 23505; better-sqlite3: extended result codes.
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** ISO 8601 UTC, the one timestamp format of the metadata store (fixed width, sorts as text). */
export function isoNow(now: Date = new Date()): string {
  return now.toISOString();
}
