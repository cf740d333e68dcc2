import { runStream } from './_stream_dbg.js';
console.log(await runStream());
