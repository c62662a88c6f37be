import { sendJobSchema } from '../lambda/domain/send-job';
import { findDuplicateKey } from '../lambda/strict-json';
import { parseWith } from '../lambda/validation';

export interface StrictJsonRow {
  body: string;
  megabytes: number;
  /** Medians of RUNS, in milliseconds. */
  parseMs: number;
  duplicateScanMs: number;
  /** The whole validation the API runs after parsing (nesting, Unicode, the zod schema), for scale. */
  validateMs: number;
  /** What the duplicate-key scan adds to JSON.parse: scan ÷ parse, measured in the same run. */
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
  };
}

/**
 * What refusing duplicate keys costs on the largest bodies: the scan beside the
 * `JSON.parse` it follows, as a ratio within one run (the absolute figures depend on
 * the machine).
 */
export function benchStrictJson(): StrictJsonRow[] {
  return Object.entries(bodies()).map(([body, text]) => {
    const value: unknown = JSON.parse(text);
    const parseMs = median(() => JSON.parse(text));
    const duplicateScanMs = median(() => findDuplicateKey(text));
    const validateMs = median(() => parseWith(sendJobSchema, value));
    const round = (ms: number) => Math.round(ms * 10) / 10;
    return {
      body,
      megabytes: Math.round(text.length / 10_000) / 100,
      parseMs: round(parseMs),
      duplicateScanMs: round(duplicateScanMs),
      validateMs: round(validateMs),
      scanVsParse: Math.round((duplicateScanMs / parseMs) * 100) / 100,
    };
  });
}
