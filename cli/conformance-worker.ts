/** Worker thread of `wafer conformance`: runs the cases it is sent and posts their results. */
import { parentPort } from 'node:worker_threads';
import { runJob, type CaseJob } from './commands/conformance.js';

parentPort?.on('message', (msg: { index: number; dir: string; job: CaseJob } | null) => {
  if (msg === null) {
    process.exit(0);
  }
  parentPort!.postMessage({ index: msg.index, result: runJob(msg.dir, msg.job) });
});
