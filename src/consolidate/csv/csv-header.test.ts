import { describe, it, expect } from 'vitest';
import { BraidError } from '../../model/errors.js';
import { plainColumn, type ColumnSchema, type TableSchema } from '../../model/schema.js';
import { mapHeaders, normalizeHeaderName } from './csv-header.js';

function table(name: string, columns: ColumnSchema[]): TableSchema {
  return { schema: null, name, kind: 'table', columns, primaryKey: [], foreignKeys: [], uniqueIndexes: [] };
}

const users = table('users', [
  plainColumn('id', 'integer', { nullable: false, autoIncrement: true }),
  plainColumn('email', 'string', { nullable: false }),
  plainColumn('full_name', 'string'),
  plainColumn('created_at', 'datetimetz', { nullable: false, defaultValue: 'now()' }),
  plainColumn('name_upper', 'string', { generated: true }),
]);

function failure(fn: () => unknown): BraidError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BraidError);
    return err as BraidError;
  }
  throw new Error('expected an error');
}

describe('normalizeHeaderName', () => {
  it('lowercases, strips accents and turns other characters into single underscores', () => {
    expect(normalizeHeaderName('E-Mail Address ')).toBe('e_mail_address');
    expect(normalizeHeaderName('  Prénom / Nom  ')).toBe('prenom_nom');
    expect(normalizeHeaderName('__Zip-Code__')).toBe('zip_code');
    expect(normalizeHeaderName('Größe (cm)')).toBe('große_cm');
    expect(normalizeHeaderName('名前')).toBe('名前');
    expect(normalizeHeaderName('---')).toBe('');
  });
});

describe('mapHeaders', () => {
  it('matches by exact, normalized and underscore-free names, with notes', () => {
    const m = mapHeaders(['id', 'EMail', 'Full Name'], users);
    expect(m.targets).toEqual(['id', 'email', 'full_name']);
    expect(m.notes).toEqual([
      'header "id" -> column "id"',
      'header "EMail" -> column "email" (by normalized name)',
      'header "Full Name" -> column "full_name" (by normalized name)',
    ]);
    expect(mapHeaders(['E_Mail', 'fullname'], users).targets).toEqual(['email', 'full_name']);
    expect(mapHeaders(['E_Mail'], users).notes[0]).toContain('ignoring "_"');
  });

  it('applies overrides, null skipping a header', () => {
    const m = mapHeaders(['Courriel', 'junk', 'Nom'], users, {
      Courriel: 'email',
      junk: null,
      Nom: 'full_name',
    });
    expect(m.targets).toEqual(['email', null, 'full_name']);
    expect(m.notes[1]).toBe('header "junk" skipped (as asked)');
  });

  it('csv_unknown_header lists the columns', () => {
    const err = failure(() => mapHeaders(['email', 'phone'], users));
    expect(err.code).toBe('csv_unknown_header');
    expect(err.status).toBe(400);
    expect(err.details).toMatchObject({ header: 'phone', position: 2 });
    expect(err.message).toContain('id, email, full_name, created_at, name_upper');
  });

  it('skips unknown and empty headers with ignoreUnknown', () => {
    const m = mapHeaders(['email', 'phone', '', null], users, {}, { ignoreUnknown: true });
    expect(m.targets).toEqual(['email', null, null, null]);
  });

  it('csv_empty_header', () => {
    const err = failure(() => mapHeaders(['email', '  '], users));
    expect(err.code).toBe('csv_empty_header');
    expect(err.details).toMatchObject({ position: 2 });
    expect(failure(() => mapHeaders([null, 'email'], users)).details).toMatchObject({ position: 1 });
  });

  it('csv_duplicate_header for equal or same-normalized headers, unless one is overridden', () => {
    const same = failure(() => mapHeaders(['email', 'full_name', 'email'], users));
    expect(same.code).toBe('csv_duplicate_header');
    expect(same.details).toMatchObject({ header: 'email', position: 3, otherPosition: 1 });
    const normalized = failure(() => mapHeaders(['E-Mail', 'email'], users));
    expect(normalized.code).toBe('csv_duplicate_header');
    expect(normalized.details).toMatchObject({ position: 2 });
    expect(mapHeaders(['E-Mail', 'email'], users, { 'E-Mail': null }).targets).toEqual([null, 'email']);
  });

  it('csv_duplicate_header when two headers reach the same column', () => {
    const err = failure(() => mapHeaders(['email', 'Courriel'], users, { Courriel: 'email' }));
    expect(err.code).toBe('csv_duplicate_header');
    expect(err.details).toMatchObject({ position: 2, field: 'email' });
  });

  it('unknown_field for an override naming a missing column', () => {
    const err = failure(() => mapHeaders(['email', 'Tel'], users, { Tel: 'phone' }));
    expect(err.code).toBe('unknown_field');
    expect(err.details).toMatchObject({ header: 'Tel', position: 2, field: 'phone' });
  });

  it('csv_missing_column for required columns without header', () => {
    const err = failure(() => mapHeaders(['full_name'], users));
    expect(err.code).toBe('csv_missing_column');
    expect(err.details).toMatchObject({ field: 'email', columns: ['email'] });
    // id (autoIncrement), created_at (default) and name_upper (generated) are not required.
    expect(mapHeaders(['email'], users).targets).toEqual(['email']);
  });

  it('read_only_field for a generated column, skipped with ignoreUnknown', () => {
    const err = failure(() => mapHeaders(['email', 'Name Upper'], users));
    expect(err.code).toBe('read_only_field');
    expect(err.details).toMatchObject({ header: 'Name Upper', position: 2, field: 'name_upper' });
    expect(
      failure(() => mapHeaders(['email', 'x'], users, { x: 'name_upper' }, { ignoreUnknown: true })).code,
    ).toBe('read_only_field');
    expect(mapHeaders(['email', 'name_upper'], users, {}, { ignoreUnknown: true }).targets).toEqual([
      'email',
      null,
    ]);
  });

  it('csv_ambiguous_header when a loose name fits several columns', () => {
    const t = table('t', [plainColumn('E_mail', 'string'), plainColumn('e_mail', 'string')]);
    expect(failure(() => mapHeaders(['E-MAIL'], t)).code).toBe('csv_ambiguous_header');
  });
});
