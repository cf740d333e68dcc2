import pg from 'pg';
import { parseArrayLiteral } from './postgres-array.js';
import { wireTimestamp, wireTimestamptz, wireTimetz } from './postgres-temporal.js';

/**
 * Result parsers for Braid's own pools (`types: { getTypeParser }` on the pool, never pg's global
 * `types`, which other code in the process may rely on). Every value arrives as a wire value or
 * close to it: int8/numeric/interval as their exact text, dates and times as ISO strings (never JS
 * Dates, which lose microseconds and apply the Node process time zone), bytea as a Buffer.
 * Doing the ISO conversion here, not only in the codec, also gives `rawQuery` lossless ISO answers.
 */

/** Built-in type OIDs (fixed in every PostgreSQL since 8.x). */
export const OID = {
  bool: 16,
  bytea: 17,
  int8: 20,
  int2: 21,
  int4: 23,
  oid: 26,
  json: 114,
  float4: 700,
  float8: 701,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  timetz: 1266,
  numeric: 1700,
  uuid: 2950,
  jsonb: 3802,
} as const;

type Parser = (text: string) => unknown;

const identity: Parser = (text) => text;
const integer: Parser = (text) => Number.parseInt(text, 10);
const float: Parser = (text) => Number(text);
const boolean: Parser = (text) => text === 't' || text === 'true';
const json: Parser = (text) => JSON.parse(text) as unknown;
const byteaParser = pg.types.getTypeParser(OID.bytea, 'text') as (text: string) => Buffer;

const scalarParsers = new Map<number, Parser>([
  [OID.bool, boolean],
  [OID.bytea, byteaParser],
  [OID.int2, integer],
  [OID.int4, integer],
  [OID.oid, integer],
  [OID.float4, float],
  [OID.float8, float],
  [OID.json, json],
  [OID.jsonb, json],
  [OID.timestamp, wireTimestamp],
  [OID.timestamptz, wireTimestamptz],
  [OID.timetz, wireTimetz],
]);

/** Array OID -> element parser. Elements become wire values directly (arrays are portable `json`). */
const arrayElements = new Map<number, Parser>([
  [1000, boolean],
  [1001, (text) => byteaParser(text).toString('base64')],
  [1005, integer],
  [1007, integer],
  [1028, integer],
  [1021, float],
  [1022, float],
  [199, json],
  [3807, json],
  [1115, wireTimestamp],
  [1185, wireTimestamptz],
  [1270, wireTimetz],
  // text-like element types whose text already is the wire value
  ...[1002, 1003, 1009, 1014, 1015, 1016, 1182, 1183, 1187, 1231, 2951, 1041, 651, 791, 143].map(
    (oid) => [oid, identity] as [number, Parser],
  ),
]);

/** `getTypeParser` for a pg Pool/Client config. Unknown types (enums, domains' arrays...) stay text. */
export function getTypeParser(oid: number, format?: string): Parser {
  if (format === 'binary') return pg.types.getTypeParser(oid, 'binary') as Parser;
  const scalar = scalarParsers.get(oid);
  if (scalar) return scalar;
  const element = arrayElements.get(oid);
  if (element) return (text) => parseArrayLiteral(text, element);
  return identity;
}
