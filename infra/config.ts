import type { PushgateProps } from './pushgate-props';

/**
 * The shape of `pushgate.config.ts`, the one committed place that configures this
 * project's deployments: one entry per stage. `npx cdk deploy` deploys the `dev`
 * stage; `npx cdk deploy -c stage=prod` the `prod` one. Nothing is read from `-c`
 * but the stage's name, so a plain redeploy deploys exactly what is committed.
 *
 * (No CDK import here: the redrive tool reads stack names from this module.)
 */
export interface PushgateConfig {
  stages: Record<string, StageConfig>;
}

/** A stage: the construct's props (its `name` is derived from the stage) and where it lives. */
export type StageConfig = Omit<PushgateProps, 'name'> & {
  /** The account and region the stage deploys to; required for every stage but dev. */
  env?: { account: string; region: string };
};

export const DEFAULT_STAGE = 'dev';
const STAGE_PATTERN = /^[a-z][a-z0-9]{0,11}$/;
/** App ids of the example config: a real stage serving them has been deployed by mistake. */
const EXAMPLE_APP = /^com\.example\./;

/** The deployment name of a stage — the prefix of its stack, secrets, alarms, dashboard and metrics. */
export function deploymentName(stage: string): string {
  return `${stage}-pushgate`;
}

/** The CloudFormation stack of a stage. */
export function stackName(stage: string): string {
  return deploymentName(stage);
}

export interface ResolvedStage {
  stage: string;
  stackName: string;
  props: PushgateProps;
  env?: { account: string; region: string };
}

/**
 * The stage's settings, or an error that says what to fix: an unknown stage (a typo
 * would otherwise create a whole new deployment), a real stage that still serves the
 * example app, has no fixed account and region, or whose alarms would reach nobody.
 */
export function resolveStage(config: PushgateConfig, stage: string): ResolvedStage {
  if (!STAGE_PATTERN.test(stage)) {
    throw new Error(
      `A stage name is 1–12 lower-case letters and digits, starting with a letter: "${stage}".`,
    );
  }
  const known = Object.keys(config.stages);
  const stageConfig = config.stages[stage];
  if (stageConfig === undefined) {
    throw new Error(
      `pushgate.config.ts has no stage "${stage}" (it has: ${known.join(', ') || 'none'}). Add it there, or pick one of those with -c stage=<name>.`,
    );
  }
  for (const name of known) {
    if (!STAGE_PATTERN.test(name))
      throw new Error(`pushgate.config.ts: "${name}" is not a valid stage name.`);
  }
  const { env, ...props } = stageConfig;
  if (stage !== DEFAULT_STAGE) {
    const example = (props.apps ?? []).find(
      (app) => EXAMPLE_APP.test(app.appId) || EXAMPLE_APP.test(app.bundleId),
    );
    if (example !== undefined) {
      throw new Error(
        `Stage "${stage}" still serves the example app ${example.appId}: configure your own apps in pushgate.config.ts (only the dev stage may use com.example.*).`,
      );
    }
    if (env === undefined) {
      throw new Error(
        `Stage "${stage}" needs env: { account, region } in pushgate.config.ts, so that it deploys where it was deployed before, whatever credentials the shell holds.`,
      );
    }
    if (!/^\d{12}$/.test(env.account) || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(env.region)) {
      throw new Error(
        `Stage "${stage}": env.account is a 12-digit account id and env.region a region such as eu-west-1 (got ${env.account}, ${env.region}).`,
      );
    }
    if ((props.alarms?.emails ?? []).length === 0 && props.alarms?.topicArn === undefined) {
      throw new Error(
        `Stage "${stage}" has no alarm recipients: set alarms.emails or alarms.topicArn in pushgate.config.ts.`,
      );
    }
  }
  return {
    stage,
    stackName: stackName(stage),
    props: { ...props, name: deploymentName(stage) },
    ...(env === undefined ? {} : { env }),
  };
}

/** Context keys of the earlier `-c` configuration: refused, so an old habit cannot deploy something else. */
export const RETIRED_CONTEXT_KEYS = ['apps', 'jwtIssuer', 'jwtAudience'] as const;
