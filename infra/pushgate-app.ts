import { App, type AppProps, type Environment, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import {
  DEFAULT_STAGE,
  type PushgateConfig,
  RETIRED_CONTEXT_KEYS,
  type ResolvedStage,
  resolveStage,
} from './config';
import { PushgateStack, type PushgateStackProps } from './pushgate-stack';

/**
 * The stack of one stage: its settings, where it lives, and termination protection
 * for every stage but dev — a stray `cdk destroy` of a real stage stops at CloudFormation.
 */
export function stageStackProps(stage: ResolvedStage, defaultEnv: Environment): PushgateStackProps {
  return {
    stage: stage.stage,
    pushgate: stage.props,
    env: stage.env ?? defaultEnv,
    description: `pushgate, stage ${stage.stage}`,
    terminationProtection: stage.stage !== DEFAULT_STAGE,
  };
}

/**
 * What `npx cdk synth|deploy [-c stage=<name>]` builds (infra/app.ts): one stage of the
 * configuration, checked by cdk-nag's AwsSolutions and Serverless packs on every synth —
 * a finding without an acknowledgement (with its reason, in code) fails the synth.
 */
export function createPushgateApp(config: PushgateConfig, props: AppProps = {}) {
  const app = new App(props);
  const retired = RETIRED_CONTEXT_KEYS.filter((key) => app.node.tryGetContext(key) !== undefined);
  if (retired.length > 0) {
    throw new Error(
      `-c ${retired.join(', -c ')}: configuration lives in pushgate.config.ts now (a setting given only on one command line is lost on the next deploy). Move it there.`,
    );
  }
  const stageName = app.node.tryGetContext('stage') ?? DEFAULT_STAGE;
  const stage = resolveStage(config, String(stageName));
  const stack = new PushgateStack(
    app,
    stage.stackName,
    stageStackProps(stage, {
      account: process.env.CDK_DEFAULT_ACCOUNT,
      region: process.env.CDK_DEFAULT_REGION,
    }),
  );
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return { app, stack };
}
