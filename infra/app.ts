import { App } from 'aws-cdk-lib';
import config from '../pushgate.config';
import { DEFAULT_STAGE, RETIRED_CONTEXT_KEYS, resolveStage } from './config';
import { PushgateStack } from './pushgate-stack';

/**
 * `npx cdk deploy [-c stage=<name>]`: one stage of pushgate.config.ts per run. Every
 * setting comes from that committed file, so a plain redeploy changes nothing.
 */
const app = new App();
try {
  const retired = RETIRED_CONTEXT_KEYS.filter((key) => app.node.tryGetContext(key) !== undefined);
  if (retired.length > 0) {
    throw new Error(
      `-c ${retired.join(', -c ')}: configuration lives in pushgate.config.ts now (a setting given only on one command line is lost on the next deploy). Move it there.`,
    );
  }
  const stageName = app.node.tryGetContext('stage') ?? DEFAULT_STAGE;
  const stage = resolveStage(config, String(stageName));
  new PushgateStack(app, stage.stackName, {
    stage: stage.stage,
    pushgate: stage.props,
    env: stage.env ?? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
    description: `pushgate, stage ${stage.stage}`,
  });
} catch (error) {
  console.error(`pushgate: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
