import { badRequest } from '../../model/errors.js';
import type { ColumnSchema, TableSchema } from '../../model/schema.js';

export interface HeaderMapping {
  /** Per CSV column index: the target column name, or null when the column is skipped. */
  targets: (string | null)[];
  /** Notes for people, e.g. `header "E-Mail" -> column "email" (by normalized name)`. */
  notes: string[];
}

export interface MapHeadersOptions {
  /** Skip headers that match no column (and generated columns, and empty headers) instead of failing. */
  ignoreUnknown?: boolean;
}

/**
 * Lowercase, accents stripped, every run of other characters than letters and digits turned into
 * one `_`, no `_` at either end: `"E-Mail Address "` -> `"e_mail_address"`. Letters of other scripts
 * are kept, so a header in Greek or Japanese still has a name.
 */
export function normalizeHeaderName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '_')
    .replace(/^_+|_+$/g, '');
}

/** The loosest key: normalized without underscores, so "EMail", "e_mail" and "E-Mail" meet. */
function compactKey(name: string): string {
  return normalizeHeaderName(name).replace(/_/g, '');
}

function required(column: ColumnSchema): boolean {
  return !column.nullable && column.defaultValue === null && !column.autoIncrement && !column.generated;
}

/**
 * Maps each CSV header to a column of `table`: an override first (`null` skips the header), else the
 * exact name, else the same normalized name, else the same name ignoring `_`. Fails on duplicate,
 * empty or unknown headers, on overrides naming missing columns, on generated targets and when a
 * required column is left without a header.
 *
 * @example
 * ```ts
 * mapHeaders(['E-Mail', 'Full name'], usersTable, { 'Full name': 'name' }).targets; // ['email', 'name']
 * ```
 */
export function mapHeaders(
  headers: (string | null)[],
  table: TableSchema,
  overrides: Record<string, string | null> = {},
  options: MapHeadersOptions = {},
): HeaderMapping {
  const ignoreUnknown = options.ignoreUnknown ?? false;
  const notes: string[] = [];
  const targets: (string | null)[] = [];
  const overridden = (h: string | null): boolean => h !== null && Object.hasOwn(overrides, h);
  checkDuplicates(headers, overridden);
  const byExact = new Map(table.columns.map((c) => [c.name, c]));
  const byNormalized = groupBy(table.columns, (c) => normalizeHeaderName(c.name));
  const byCompact = groupBy(table.columns, (c) => compactKey(c.name));
  const usedBy = new Map<string, number>();

  headers.forEach((header, index) => {
    const position = index + 1;
    const shown = JSON.stringify(header ?? '');
    let column: ColumnSchema | undefined;
    let how: string;
    if (overridden(header)) {
      const target = overrides[header!]!;
      if (target === null) {
        notes.push(`header ${shown} skipped (as asked)`);
        targets.push(null);
        return;
      }
      column = byExact.get(target);
      if (!column) {
        throw badRequest(
          'unknown_field',
          `header ${shown} (column ${position}) is mapped to "${target}", which table "${table.name}" does not have`,
          { header, position, field: target, table: table.name },
        );
      }
      how = 'as asked';
    } else if (header === null || header.trim() === '') {
      if (!ignoreUnknown) {
        throw badRequest('csv_empty_header', `column ${position} of the file has no header`, {
          header,
          position,
        });
      }
      notes.push(`column ${position} has no header: skipped`);
      targets.push(null);
      return;
    } else {
      const found = autoMatch(header, byExact, byNormalized, byCompact, position);
      if (!found) {
        if (!ignoreUnknown) {
          const names = table.columns.map((c) => c.name).join(', ');
          throw badRequest(
            'csv_unknown_header',
            `header ${shown} (column ${position}) matches no column of "${table.name}"; its columns are: ${names}`,
            { header, position, table: table.name, columns: table.columns.map((c) => c.name) },
          );
        }
        notes.push(`header ${shown} matches no column: skipped`);
        targets.push(null);
        return;
      }
      column = found.column;
      how = found.how;
    }
    if (column.generated) {
      if (ignoreUnknown && how !== 'as asked') {
        notes.push(`header ${shown} matches column "${column.name}", computed by the database: skipped`);
        targets.push(null);
        return;
      }
      throw badRequest(
        'read_only_field',
        `header ${shown} (column ${position}) maps to "${column.name}", which is computed by the database`,
        { header, position, field: column.name },
      );
    }
    const previous = usedBy.get(column.name);
    if (previous !== undefined) {
      throw badRequest(
        'csv_duplicate_header',
        `headers ${JSON.stringify(headers[previous] ?? '')} (column ${previous + 1}) and ${shown} (column ${position}) both map to column "${column.name}"`,
        { header, position, otherPosition: previous + 1, field: column.name },
      );
    }
    usedBy.set(column.name, index);
    notes.push(
      header === column.name && how === 'by exact name'
        ? `header ${shown} -> column "${column.name}"`
        : `header ${shown} -> column "${column.name}" (${how})`,
    );
    targets.push(column.name);
  });

  const missing = table.columns.filter((c) => required(c) && !usedBy.has(c.name)).map((c) => c.name);
  if (missing.length > 0) {
    throw badRequest(
      'csv_missing_column',
      `no header maps to the required column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} of "${table.name}" (not nullable, no default)`,
      { field: missing[0], columns: missing, table: table.name },
    );
  }
  return { targets, notes };
}

function checkDuplicates(headers: (string | null)[], overridden: (h: string | null) => boolean): void {
  const seen = new Map<string, number>();
  headers.forEach((header, index) => {
    if (header === null || header.trim() === '' || overridden(header)) return;
    const key = compactKey(header) || header;
    const first = seen.get(key);
    if (first !== undefined) {
      const a = JSON.stringify(headers[first]);
      const b = JSON.stringify(header);
      throw badRequest(
        'csv_duplicate_header',
        a === b
          ? `header ${b} appears twice (columns ${first + 1} and ${index + 1})`
          : `headers ${a} (column ${first + 1}) and ${b} (column ${index + 1}) have the same normalized name; map one of them explicitly`,
        { header, position: index + 1, otherPosition: first + 1 },
      );
    }
    seen.set(key, index);
  });
}

function autoMatch(
  header: string,
  byExact: Map<string, ColumnSchema>,
  byNormalized: Map<string, ColumnSchema[]>,
  byCompact: Map<string, ColumnSchema[]>,
  position: number,
): { column: ColumnSchema; how: string } | null {
  const exact = byExact.get(header);
  if (exact) return { column: exact, how: 'by exact name' };
  const steps: [Map<string, ColumnSchema[]>, string, string][] = [
    [byNormalized, normalizeHeaderName(header), 'by normalized name'],
    [byCompact, compactKey(header), 'by normalized name, ignoring "_"'],
  ];
  for (const [index, key, how] of steps) {
    const candidates = key === '' ? undefined : index.get(key);
    if (!candidates) continue;
    if (candidates.length > 1) {
      throw badRequest(
        'csv_ambiguous_header',
        `header ${JSON.stringify(header)} (column ${position}) could be any of ${candidates.map((c) => `"${c.name}"`).join(', ')}; map it explicitly`,
        { header, position, columns: candidates.map((c) => c.name) },
      );
    }
    return { column: candidates[0]!, how };
  }
  return null;
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
