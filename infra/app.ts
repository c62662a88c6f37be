import config from '../pushgate.config';
import { createPushgateApp } from './pushgate-app';

/**
 * `npx cdk deploy [-c stage=<name>]`: one stage of pushgate.config.ts per run. Every
 * setting comes from that committed file, so a plain redeploy changes nothing.
 */
try {
  createPushgateApp(config);
} catch (error) {
  console.error(`pushgate: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
