import * as z from 'zod';

/** What a `/_local` route answers: a status and, but for a 204, a JSON body. */
export interface LocalAnswer {
  status: number;
  body?: unknown;
}

/** A simulator whose misbehaviour a `/_local/<provider>/faults` route scripts. */
export interface ScriptableSimulator<Script> {
  setFaults(script: Script): void;
  faultReport(): unknown;
  clearFaults(): void;
}

const every = z.number().int().min(1);

/**
 * A fault script: the `connection` faults both simulators play the same way
 * (apns-simulator/faults.ts), and per-token answers in the provider's own shape.
 */
export function faultScriptSchema<Token extends z.ZodType<string>, Answer extends z.ZodType>(
  token: Token,
  answer: Answer,
) {
  return z.strictObject({
    connection: z
      .strictObject({
        goawayEvery: every.optional(),
        resetEvery: every.optional(),
        stallEvery: every.optional(),
      })
      .optional(),
    tokens: z.record(token, answer).optional(),
  });
}

/**
 * A simulator's faults route: POST replaces the script, checked by `schema`, and
 * answers like GET; GET answers `{script, done}`; DELETE clears every fault (204).
 */
export function faultsRoute<Script>(
  simulator: ScriptableSimulator<Script>,
  schema: z.ZodType<Script>,
  method: string,
  body: string,
): LocalAnswer {
  if (method === 'GET') return { status: 200, body: simulator.faultReport() };
  if (method === 'DELETE') {
    simulator.clearFaults();
    return { status: 204 };
  }
  if (method !== 'POST') return localError(405, 'MethodNotAllowed', 'Use GET, POST or DELETE.');
  let value: unknown;
  try {
    value = JSON.parse(body || '{}');
  } catch {
    return localError(400, 'MalformedJson', 'The request body is not valid JSON.');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') || 'body';
    return localError(400, 'InvalidFaultScript', `${where}: ${issue?.message ?? 'invalid'}`);
  }
  simulator.setFaults(parsed.data);
  return { status: 200, body: simulator.faultReport() };
}

export function localError(status: number, code: string, message: string): LocalAnswer {
  return { status, body: { error: { code, message } } };
}
