import pg from 'pg';
const orig = pg.Client.prototype.query;
const seen: string[] = [];
(pg.Client.prototype as any).query = function (this: unknown, ...args: any[]) {
  const t = typeof args[0] === 'string' ? args[0] : args[0]?.text;
  seen.push(String(t).slice(0, 100));
  return (orig as any).apply(this, args);
};
process.on('exit', () => {
  const m = new Map<string, number>();
  for (const s of seen) m.set(s, (m.get(s) ?? 0) + 1);
  console.log([...m].sort((a, b) => b[1] - a[1]).slice(0, 15));
});
