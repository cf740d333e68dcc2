/**
 * The demo workspace's customers: one list of businesses, rendered twice the way two real tools
 * would keep them, with the discrepancies such tools accumulate (phone formats, case and
 * whitespace in names, a few different emails, customers known to only one side).
 * Deterministic: the same seed gives the same rows, so the tour in the README stays true.
 */

export interface CrmRow {
  business_name: string;
  contact_name: string;
  email: string;
  phone: string;
  category: string;
  description: string;
}

export interface InvoicingRow {
  business_name: string;
  email: string;
  phone: number;
  billing_cycle: string;
}

const PREFIXES = [
  'Blue',
  'Northern',
  'Golden',
  'Summit',
  'Harbor',
  'Maple',
  'Cedar',
  'Silver',
  'Union',
  'Prairie',
  'Coastal',
  'Redwood',
  'Evergreen',
  'Granite',
  'Lakeside',
];
const NOUNS = [
  'Bakery',
  'Logistics',
  'Dental',
  'Hardware',
  'Florist',
  'Consulting',
  'Print Shop',
  'Coffee',
  'Auto Repair',
  'Design Studio',
  'Fitness',
  'Bookstore',
  'Plumbing',
  'Catering',
];
const SUFFIXES = ['LLC', 'Inc.', 'Co.', 'Ltd', '& Sons', 'Group'];
const FIRST = [
  'Ana',
  'Ben',
  'Chloé',
  'Dmitri',
  'Emma',
  'Farid',
  'Grace',
  'Hiro',
  'Inès',
  'Jon',
  'Kara',
  'Luis',
  'Mei',
  'Noah',
  'Olga',
  'Priya',
  'Quinn',
  'Rosa',
  'Sam',
  'Tomás',
];
const LAST = [
  'Novak',
  'Okafor',
  'Lindqvist',
  'García',
  'Müller',
  'Chen',
  'Dubois',
  'Kowalski',
  'Haddad',
  'Ivanova',
  'Smith',
  'Tanaka',
  'Rossi',
  'Nguyen',
];
const CATEGORIES = ['retail', 'services', 'food', 'health', 'trades'];
const CYCLES = ['monthly', 'quarterly', 'yearly'];

/** Small seeded PRNG (mulberry32): no dependency, same sequence on every machine. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function formatPhone(digits: string, style: number): string {
  const [a, b, c] = [digits.slice(0, 3), digits.slice(3, 6), digits.slice(6)];
  switch (style % 4) {
    case 0:
      return `(${a}) ${b}-${c}`;
    case 1:
      return `${a}.${b}.${c}`;
    case 2:
      return `+1 ${a} ${b} ${c}`;
    default:
      return `${a}-${b}-${c}`;
  }
}

export function demoCustomers(count = 200, seed = 42): { crm: CrmRow[]; invoicing: InvoicingRow[] } {
  const next = random(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const crm: CrmRow[] = [];
  const invoicing: InvoicingRow[] = [];
  const used = new Set<string>();
  for (let i = 0; i < count; i++) {
    let name: string;
    do name = `${pick(PREFIXES)} ${pick(NOUNS)} ${pick(SUFFIXES)}`;
    while (used.has(name));
    used.add(name);
    const first = pick(FIRST);
    const last = pick(LAST);
    const domain = name
      .toLowerCase()
      .replace(/[^a-z]+/g, '')
      .slice(0, 18);
    const email = `${first
      .normalize('NFD')
      .replace(/[^A-Za-z]/g, '')
      .toLowerCase()}@${domain}.example`;
    const digits = String(2000000000 + Math.floor(next() * 7999999999)).slice(0, 10);
    const roll = next();
    const inCrm = roll < 0.9;
    const inInvoicing = roll >= 0.08;
    if (inCrm) {
      // The CRM is typed by hand: names drift in case and whitespace, phones in format.
      const drift = next();
      const crmName =
        drift < 0.1
          ? name.toUpperCase()
          : drift < 0.2
            ? ` ${name}  `
            : drift < 0.25
              ? name.replace(' ', '  ')
              : name;
      crm.push({
        business_name: crmName,
        contact_name: `${first} ${last}`,
        email: next() < 0.1 ? email.replace('@', '.office@') : email,
        phone: formatPhone(digits, Math.floor(next() * 4)),
        category: pick(CATEGORIES),
        description: `${pick(['Family-run', 'Independent', 'Regional', 'Neighbourhood'])} ${name.split(' ')[1]!.toLowerCase()} business`,
      });
    }
    if (inInvoicing) {
      invoicing.push({
        business_name: name,
        email: next() < 0.05 ? email.toUpperCase() : email,
        // Invoicing keeps the phone as a number: digits only, a stale one now and then.
        phone: Number(next() < 0.04 ? String(Number(digits) + 1) : digits),
        billing_cycle: pick(CYCLES),
      });
    }
  }
  return { crm, invoicing };
}
