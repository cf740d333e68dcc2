import { describe, expect, it } from 'vitest';
import { escapeTsv } from '../../src/connectors/mysql/mysql-bulk-load.js';
import { resolveTarget } from '../../src/connectors/mysql/mysql-config.js';
import { mysqlColumnType } from '../../src/connectors/mysql/mysql-ddl.js';
import { translateMysqlError } from '../../src/connectors/mysql/mysql-errors.js';
import { inlineParams } from '../../src/connectors/mysql/mysql-raw-query.js';
import { braidSqlMode, parseServerInfo } from '../../src/connectors/mysql/mysql-session.js';
import { parseEnumValues, plainDecimal, portableType } from '../../src/connectors/mysql/mysql-types.js';
import { BraidError } from '../../src/model/errors.js';

/** The pure parts of the connector: parsing and formatting that needs no server to check. */
describe('MySQL connector pure functions', () => {
  it('reads URLs and fields, without echoing the URL in errors', () => {
    expect(resolveTarget({ url: 'mysql://u%40x:p%3Aw@db.example:3307/shop?ssl=verify' })).toEqual({
      host: 'db.example',
      port: 3307,
      database: 'shop',
      user: 'u@x',
      password: 'p:w',
      ssl: 'verify',
      timeoutMs: 10_000,
    });
    expect(resolveTarget({ host: 'h', user: 'u', database: 'd', ssl: true, timeoutMs: 500 })).toMatchObject({
      host: 'h',
      port: 3306,
      ssl: true,
      timeoutMs: 500,
    });
    // An explicit ssl setting wins over the URL's.
    expect(resolveTarget({ url: 'mysql://u@h/d?sslmode=require', ssl: false }).ssl).toBe(false);
    let caught: unknown;
    try {
      resolveTarget({ url: 'postgres://u:secret-pw@h/d' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(BraidError);
    expect((caught as Error).message).not.toContain('secret-pw');
  });

  it('keeps the server sql_mode, adds STRICT_ALL_TABLES and drops NO_BACKSLASH_ESCAPES', () => {
    expect(braidSqlMode('ANSI_QUOTES,NO_BACKSLASH_ESCAPES,ONLY_FULL_GROUP_BY')).toBe(
      'ANSI_QUOTES,ONLY_FULL_GROUP_BY,STRICT_ALL_TABLES',
    );
    expect(braidSqlMode('')).toBe('STRICT_ALL_TABLES');
    expect(braidSqlMode('STRICT_ALL_TABLES')).toBe('STRICT_ALL_TABLES');
  });

  it('tells MariaDB from MySQL by the version string', () => {
    expect(parseServerInfo('10.11.6-MariaDB-0+deb12u1-log', true)).toMatchObject({
      flavor: 'mariadb',
      major: 10,
      minor: 11,
    });
    expect(parseServerInfo('8.0.36', false)).toMatchObject({
      flavor: 'mysql',
      major: 8,
      patch: 36,
      localInfile: false,
    });
    expect(mysqlColumnType({ name: 'r', type: 'uuid' }, parseServerInfo('8.0.36', false))).toBe(
      'char(36) character set ascii',
    );
    expect(mysqlColumnType({ name: 's', type: 'string' }, parseServerInfo('8.0.36', false))).toContain(
      'utf8mb4_0900_bin',
    );
    expect(
      mysqlColumnType({ name: 's', type: 'string' }, parseServerInfo('10.11.6-MariaDB', true)),
    ).toContain('nopad_bin');
  });

  it('maps MySQL 8 spellings of types (no display widths, native JSON)', () => {
    expect(portableType({ dataType: 'int', columnType: 'int', jsonCheck: false })).toBe('integer');
    expect(portableType({ dataType: 'int', columnType: 'int unsigned', jsonCheck: false })).toBe('bigint');
    expect(portableType({ dataType: 'tinyint', columnType: 'tinyint(1)', jsonCheck: false })).toBe('boolean');
    expect(portableType({ dataType: 'tinyint', columnType: 'tinyint', jsonCheck: false })).toBe('integer');
    expect(portableType({ dataType: 'json', columnType: 'json', jsonCheck: false })).toBe('json');
    expect(portableType({ dataType: 'geometry', columnType: 'geometry', jsonCheck: false })).toBe('text');
  });

  it('parses enum values with quotes, backslashes and commas', () => {
    expect(parseEnumValues("enum('a','it''s','back\\\\slash','x,y','')")).toEqual([
      'a',
      "it's",
      'back\\slash',
      'x,y',
      '',
    ]);
  });

  it('writes exponent decimals as plain digits (an exponent literal would be a DOUBLE)', () => {
    expect(plainDecimal('1.5e3')).toBe('1500');
    expect(plainDecimal('-1.25E-3')).toBe('-0.00125');
    expect(plainDecimal('12.50')).toBe('12.50');
    expect(plainDecimal('1; drop table x')).toBeNull();
  });

  it('escapes LOAD DATA fields: backslash, tab, newline, CR and NUL', () => {
    expect(escapeTsv('a\\b\tc\nd\re\0f\\N')).toBe('a\\\\b\\tc\\nd\\re\\0f\\\\N');
    expect(escapeTsv('plain')).toBe('plain');
  });

  it('inlines ? placeholders only outside literals, identifiers and comments', () => {
    expect(inlineParams('select ?, \'?\', `a?`, "?" -- ?\n, ? /* ? */ # ?', ['x', "it's"])).toBe(
      "select 'x', '?', `a?`, \"?\" -- ?\n, 'it\\'s' /* ? */ # ?",
    );
    expect(inlineParams("select 'it\\'s ?', ?", [1])).toBe("select 'it\\'s ?', 1");
    expect(inlineParams('select 5--?', [1])).toBe('select 5--1');
  });

  it('understands the MySQL 8 message formats too', () => {
    const dup = translateMysqlError(
      { errno: 1062, sqlMessage: "Duplicate entry 'a@x' for key 'people.uq_email'" },
      'insert',
      [],
      10_000,
    );
    expect([dup.status, dup.code, dup.details?.constraint]).toEqual([409, 'unique_violation', 'uq_email']);
    const bad = translateMysqlError(
      { errno: 1366, sqlMessage: "Incorrect integer value: 'abc' for column 'n' at row 1" },
      'insert',
      [],
      10_000,
    );
    expect([bad.status, bad.code, bad.details?.field, bad.details?.value]).toEqual([
      400,
      'invalid_value',
      'n',
      'abc',
    ]);
    const slow = translateMysqlError(
      {
        errno: 3024,
        sqlMessage: 'Query execution was interrupted, maximum statement execution time exceeded',
      },
      'select',
      [],
      2500,
    );
    expect([slow.status, slow.code, slow.message]).toEqual([
      504,
      'timeout',
      'the query took longer than 2.5 s and was stopped',
    ]);
    const gone = translateMysqlError(
      { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 10.0.0.1:3306' },
      'q',
      [],
      1,
    );
    expect([gone.status, gone.code]).toEqual([502, 'source_unavailable']);
  });
});
