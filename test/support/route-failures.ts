import { logger } from '../../lambda/observability';

/**
 * Vitest setup file of the integration suite. Logs are silent in tests, but a route
 * answering 500 breaks a rule of the project (no 5xx from any handler), and the answer
 * itself only says InternalError: the error behind it is printed, so the test that
 * fails on the 500 comes with its cause.
 */
const logError = logger.error.bind(logger);
logger.error = (message: string, ...extra: unknown[]) => {
  if (message === 'request failed') console.error('a route answered 500 because of:', ...extra);
  (logError as (message: string, ...extra: unknown[]) => void)(message, ...extra);
};
