import type { BenchResult } from './support.js';
export async function runStream(): Promise<BenchResult> {
  throw new Error('todo');
}
