import { UsageError } from './usage-error';

/** Where the command line says the queues are: a stage, a stack, or the URLs themselves. */
export interface QueueLocation {
  region?: string;
  stage?: string;
  stack?: string;
  sendQueueUrl?: string;
  deadLetterQueueUrl?: string;
}

/** `https://sqs.<region>.amazonaws.com/…` (or the legacy `<region>.queue.amazonaws.com`). */
function regionOfQueueUrl(url: string): string | undefined {
  const host = new URL(url).hostname;
  return (
    host.match(/^sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/)?.[1] ??
    host.match(/^([a-z0-9-]+)\.queue\.amazonaws\.com$/)?.[1]
  );
}

export async function locateQueues(
  cli: QueueLocation,
): Promise<{ sendQueueUrl: string; deadLetterQueueUrl: string; region?: string }> {
  if (cli.sendQueueUrl !== undefined && cli.deadLetterQueueUrl !== undefined) {
    const region = cli.region ?? regionOfQueueUrl(cli.deadLetterQueueUrl);
    return {
      sendQueueUrl: cli.sendQueueUrl,
      deadLetterQueueUrl: cli.deadLetterQueueUrl,
      ...(region === undefined ? {} : { region }),
    };
  }
  let stack = cli.stack;
  let region = cli.region;
  if (cli.stage !== undefined) {
    const [{ resolveStage }, { default: config }] = await Promise.all([
      import('../../infra/config'),
      import('../../pushgate.config'),
    ]);
    const stage = resolveStage(config, cli.stage);
    stack = stage.stackName;
    region ??= stage.env?.region;
  }
  if (stack === undefined) throw new UsageError('No stack to read the queues from.');
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const cloudFormation = new CloudFormationClient(region === undefined ? {} : { region });
  try {
    const { Stacks = [] } = await cloudFormation.send(new DescribeStacksCommand({ StackName: stack }));
    const outputs = new Map(
      (Stacks[0]?.Outputs ?? []).map((output) => [output.OutputKey, output.OutputValue]),
    );
    const sendQueueUrl = outputs.get('SendQueueUrl');
    const deadLetterQueueUrl = outputs.get('DeadLetterQueueUrl');
    if (sendQueueUrl === undefined || deadLetterQueueUrl === undefined) {
      throw new Error(
        `The stack ${stack} has no SendQueueUrl and DeadLetterQueueUrl outputs; is it a pushgate stack?`,
      );
    }
    const resolvedRegion = region ?? regionOfQueueUrl(deadLetterQueueUrl);
    return {
      sendQueueUrl,
      deadLetterQueueUrl,
      ...(resolvedRegion === undefined ? {} : { region: resolvedRegion }),
    };
  } finally {
    cloudFormation.destroy();
  }
}
