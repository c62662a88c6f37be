import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The structured logger every function shares. Service name and log level come
 * from POWERTOOLS_SERVICE_NAME / POWERTOOLS_LOG_LEVEL. Never log a raw device
 * token or a payload: use tokenHash().
 */
export const logger = new Logger({ serviceName: 'pushgate' });
