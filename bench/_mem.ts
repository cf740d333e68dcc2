import { startInProcessBraid } from './support.js';
const f = (n: number) => (n / 1048576).toFixed(1);
const show = (l: string) => { const m = process.memoryUsage(); console.log(l, 'rss', f(m.rss), 'heapTotal', f(m.heapTotal), 'heapUsed', f(m.heapUsed), 'external', f(m.external), 'ab', f(m.arrayBuffers)); };
show('start');
const b = await startInProcessBraid();
show('braid up');
(globalThis as any).gc?.(); show('after gc');
await b.close();
