import Database from 'better-sqlite3';
import { performance } from 'node:perf_hooks';
const db = new Database(':memory:');
db.exec('create table api_keys (id text primary key, user_id text, name text, prefix text, key_hash text unique, created_at text, last_used_at text)');
db.prepare('insert into api_keys values (?,?,?,?,?,?,?)').run('a', 'u', 'n', 'p', 'h', 'c', null);
const q = 'select "id", "user_id", "name", "prefix", "created_at", "last_used_at" from "api_keys" where "key_hash" = ?';
const cached = db.prepare(q);
for (const [k, fn] of [['prepare+get', () => db.prepare(q).all('h')], ['cached', () => cached.all('h')]] as const) {
  for (let i = 0; i < 5000; i++) fn();
  const s = performance.now(); for (let i = 0; i < 50000; i++) fn(); console.log(k, ((performance.now() - s) / 50000 * 1000).toFixed(1), 'us');
}
