import pg from 'pg';
import { mysqlQuery, postgresQuery } from './braid-process.js';
import { MYSQL_URL } from './support.js';

/** Rows per side in the combined-tables benchmark. */
export const ROWS = 100_000;

const FIRST_NAMES = [
  'Ada',
  'Alan',
  'Barbara',
  'Claude',
  'Donald',
  'Edsger',
  'Frances',
  'Grace',
  'Hedy',
  'Ivan',
  'John',
  'Ken',
  'Leslie',
  'Margaret',
  'Niklaus',
  'Radia',
  'Sophie',
  'Tim',
  'Vint',
  'Whitfield',
];
const LAST_NAMES = [
  'Allen',
  'Backus',
  'Cerf',
  'Dijkstra',
  'Engelbart',
  'Floyd',
  'Goldberg',
  'Hamilton',
  'Hopper',
  'Iverson',
  'Jones',
  'Knuth',
  'Lamport',
  'Liskov',
  'McCarthy',
  'Naur',
  'Perlman',
  'Ritchie',
  'Shannon',
  'Thompson',
  'Turing',
  'Wilson',
  'Wirth',
  'Yao',
  'Zuse',
];
const sqlArray = (values: string[]): string => `array[${values.map((v) => `'${v}'`).join(', ')}]`;

/** A hash of the row number and a salt, 0..n-1: attributes independent of each other and of the overlap. */
const pgPick = (salt: string, n: number) => `((hashtext('${salt}' || i) & 2147483647) % ${n})`;
const myPick = (salt: string, n: number) => `(crc32(concat('${salt}', seq)) % ${n})`;

/**
 * customers (PostgreSQL): codes C0000001..C0100000. accounts (MariaDB): 90,000 of those codes (the
 * ones ranked last by a hash, so the missing 10% are spread evenly over every name, city and id)
 * plus C0100001..C0110000 of its own. Ids are assigned in a different hash order on each side, so
 * neither follows the code or the other side's id. Attributes come from independent hashes: 500
 * names (ties broken by id), 100 cities and 100 countries of about 1% each. Emails (first.last.
 * hash@example.com, not the code: its own codes would cluster) hold only
 * [a-z0-9.@], which sort the same in PostgreSQL's C.UTF-8, in MariaDB's utf8mb4_general_ci and by
 * code point. Indexes a deployment would have: the key (unique), the filtered and the sorted
 * column, on both sides.
 */
export async function createFixtures(schema: string, database: string): Promise<void> {
  const s = pg.escapeIdentifier(schema);
  await postgresQuery(`create schema ${s}`);
  await postgresQuery(`create table ${s}.customers (id serial primary key,
    customer_code varchar(20) not null unique, name text not null, city text not null,
    segment text not null, balance numeric(12,2), created_at timestamptz not null)`);
  await postgresQuery(`insert into ${s}.customers (customer_code, name, city, segment, balance, created_at)
    select 'C' || lpad(i::text, 7, '0'),
           (${sqlArray(FIRST_NAMES)})[1 + ${pgPick('first', 20)}] || ' ' || (${sqlArray(LAST_NAMES)})[1 + ${pgPick('last', 25)}],
           'City ' || lpad(${pgPick('city', 100)}::text, 2, '0'),
           (array['consumer', 'smb', 'mid-market', 'enterprise'])[1 + ${pgPick('segment', 4)}],
           case when ${pgPick('nobalance', 50)} = 0 then null else ${pgPick('balance', 100000000)}::numeric / 100 end,
           timestamptz '2020-01-01 00:00:00+00' + i * interval '17 minutes'
    from generate_series(1, ${ROWS}) as i order by md5('customers' || i)`);
  await postgresQuery(`create index on ${s}.customers (city)`);
  await postgresQuery(`create index on ${s}.customers (name)`);
  await postgresQuery(`analyze ${s}.customers`);

  await mysqlQuery(`create database \`${database}\``);
  await mysqlQuery(
    `create table accounts (id int auto_increment primary key, customer_code varchar(20) not null,
     email varchar(255) not null, phone varchar(32), country char(2) not null, plan varchar(20) not null,
     tier int not null, unique key (customer_code), key (country), key (email))`,
    database,
  );
  const first = FIRST_NAMES.map((n) => `'${n.toLowerCase()}'`).join(', ');
  const last = LAST_NAMES.map((n) => `'${n.toLowerCase()}'`).join(', ');
  const country = myPick('country', 100);
  await mysqlQuery(
    `insert into accounts (customer_code, email, phone, country, plan, tier)
     select concat('C', lpad(seq, 7, '0')),
            concat(elt(1 + ${myPick('first', 20)}, ${first}), '.', elt(1 + ${myPick('last', 25)}, ${last}), '.', ${myPick('email', 100000000)}, '@example.com'),
            case when ${myPick('nophone', 20)} = 0 then null else concat('+1 555 ', lpad(${myPick('phone', 10000000)}, 7, '0')) end,
            concat(char(65 + ${country} div 26), char(65 + ${country} % 26)),
            elt(1 + ${myPick('plan', 4)}, 'free', 'basic', 'pro', 'enterprise'), 1 + ${myPick('tier', 5)}
     from (select seq from (select seq, row_number() over (order by md5(concat('shared', seq))) as r
                            from seq_1_to_${ROWS}) ranked where r > ${ROWS / 10}
           union all select seq from seq_${ROWS + 1}_to_${ROWS + ROWS / 10}) codes
     order by md5(concat('accounts', seq))`,
    database,
  );
  await mysqlQuery('analyze table accounts', database);
}

/** The foreign server, user mapping and foreign table of the fdw contender. */
export async function createForeignTable(schema: string, database: string, server: string): Promise<void> {
  const url = new URL(MYSQL_URL);
  const lit = (v: string) => pg.escapeLiteral(v);
  await postgresQuery(`create server ${pg.escapeIdentifier(server)} foreign data wrapper mysql_fdw
    options (host ${lit(url.hostname)}, port ${lit(url.port || '3306')})`);
  await postgresQuery(`create user mapping for current_user server ${pg.escapeIdentifier(server)}
    options (username ${lit(decodeURIComponent(url.username))}, password ${lit(decodeURIComponent(url.password))})`);
  await postgresQuery(`create foreign table ${pg.escapeIdentifier(schema)}.accounts (id int,
    customer_code varchar(20), email varchar(255), phone varchar(32), country char(2), plan varchar(20), tier int)
    server ${pg.escapeIdentifier(server)} options (dbname ${lit(database)}, table_name 'accounts')`);
}
