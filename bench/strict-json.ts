import { sendJobSchema } from '../lambda/domain/send-job';
import { scanJson } from '../lambda/strict-json';
import { MAX_JSON_NESTING, parseWith } from '../lambda/validation';

export interface StrictJsonRow {
  body: string;
  megabytes: number;
  /** Medians of RUNS, in milliseconds. */
  parseMs: number;
  /** scanJson: duplicate keys and nesting depth. */
  duplicateScanMs: number;
  /** The whole validation the API runs after parsing (nesting, Unicode, the zod schema), for scale. */
  validateMs: number;
  /** What the scan adds to JSON.parse: scan ÷ parse, measured in the same run. */
  scanVsParse: number;
}

const RUNS = 15;

function median(action: () => unknown): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    action();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(RUNS / 2)] ?? Number.NaN;
}

/**
 * The largest bodies the API reads: 50 000 recipients, and many small objects in
 * `data` (the schema accepts them; the APNs payload limit refuses such a job later).
 */
function bodies(): Record<string, string> {
  const job = { appId: 'com.example.app', aps: { alert: 'Hi' } };
  return {
    '50 000 user ids of ~100 characters': JSON.stringify({
      ...job,
      to: { userIds: Array.from({ length: 50_000 }, (_, i) => `user-${i}-${'x'.repeat(90)}`) },
    }),
    '50 000 tokens': JSON.stringify({
      ...job,
      to: { tokens: Array.from({ length: 50_000 }, (_, i) => i.toString(16).padStart(64, 'a')) },
    }),
    '50 000 small objects in data': JSON.stringify({
      ...job,
      to: { userIds: ['a'] },
      data: { items: Array.from({ length: 50_000 }, (_, i) => ({ id: i, name: `n${i}`, ok: true })) },
    }),
    '1 MB of [[[[…]]]] (refused before parsing)': `${'['.repeat(500_000)}${']'.repeat(500_000)}`,
  };
}

/**
 * What refusing duplicate keys costs on the largest bodies: the scan beside the
 * `JSON.parse` it comes with, as a ratio within one run (the absolute figures depend
 * on the machine). A body nested too deep is refused by the scan alone, after 33
 * brackets, where `JSON.parse` would have built every level.
 */
export function benchStrictJson(): StrictJsonRow[] {
  return Object.entries(bodies()).map(([body, text]) => {
    const value: unknown = JSON.parse(text);
    const parseMs = median(() => JSON.parse(text));
    const duplicateScanMs = median(() => scanJson(text, MAX_JSON_NESTING));
    const validateMs = median(() => {
      try {
        parseWith(sendJobSchema, value);
      } catch {
        // the nested body: NestingTooDeep at level 32
      }
    });
    const round = (ms: number) => Number(ms.toPrecision(2));
    return {
      body,
      megabytes: Math.round(text.length / 10_000) / 100,
      parseMs: round(parseMs),
      duplicateScanMs: round(duplicateScanMs),
      validateMs: round(validateMs),
      scanVsParse: round(duplicateScanMs / parseMs),
    };
  });
}
