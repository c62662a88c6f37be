import { afterEach, expect } from 'vitest';
import { takeDenials } from '../../local/function-grants';

/**
 * Offline mode refuses every call a function's grants lack (local/function-grants.ts).
 * A handler may catch that refusal and answer something else (a 500, a retry), so
 * every integration test also fails when any call was refused during it — except
 * where the test takes the refusals itself.
 */
afterEach(() => {
  const refused = takeDenials().map((denial) => denial.message);
  expect(
    refused,
    'calls refused offline: grant the action in infra/api-routes.ts or infra/function-access.ts',
  ).toEqual([]);
});
