import { benchEndToEnd } from './latency';

/**
 * `bench/latency.ts` runs this on Node 24 (the Lambda runtime): one large send on a
 * stack of its own, its figures as the last line of stdout.
 */
const devices = Number(process.argv[2] ?? 50_000);
console.log(JSON.stringify(await benchEndToEnd(devices)));
