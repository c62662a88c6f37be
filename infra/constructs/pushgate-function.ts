import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { EnvironmentVariable } from '../../lambda/environment';
import { DEPS_LOCK_FILE, LAMBDA_BUNDLING, PROJECT_ROOT, projectPath } from '../bundling';

export interface PushgateFunctionProps {
  /** The handler module, relative to the pushgate folder (`lambda/adapters/primary/<name>/handler.ts`). */
  entry: string;
  description: string;
  /** The CloudWatch namespace of the function's own metrics (POWERTOOLS_METRICS_NAMESPACE). */
  metricsNamespace: string;
  memorySize?: number;
  timeout?: Duration;
  reservedConcurrentExecutions?: number;
  /** What Lambda does when it sees the function feed itself through a queue (default: stop it). */
  recursiveLoop?: lambda.RecursiveLoop;
}

/**
 * Something a function uses: the environment variable that tells it where (named in
 * lambda/environment.ts, which the runtime reads) and the grant that lets it — set
 * together by `PushgateFunction.bind`, so a name never comes without its permission.
 */
export interface Binding {
  readonly variable: EnvironmentVariable;
  readonly value: string;
  grant(grantee: iam.IGrantable): void;
}

/**
 * A Lambda function with pushgate's defaults: Node.js 24 on arm64, bundled by the
 * local esbuild, X-Ray tracing, its own log group with a retention, and a role
 * that starts with nothing but writing to that log group — every other permission
 * comes with the variable that needs it, through `bind`.
 */
export class PushgateFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: PushgateFunctionProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs ${Stack.of(this).stackName} ${id}`,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    this.function = new NodejsFunction(this, 'Function', {
      entry: projectPath(props.entry),
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: DEPS_LOCK_FILE,
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      ...(props.reservedConcurrentExecutions === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
      ...(props.recursiveLoop === undefined ? {} : { recursiveLoop: props.recursiveLoop }),
      role: this.role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: lambda.Tracing.ACTIVE,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'pushgate',
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
      },
      bundling: {
        forceDockerBundling: false,
        minify: LAMBDA_BUNDLING.minify,
        sourceMap: LAMBDA_BUNDLING.sourceMap,
        target: LAMBDA_BUNDLING.target,
        format: OutputFormat.ESM,
        mainFields: [...LAMBDA_BUNDLING.mainFields],
        externalModules: [...LAMBDA_BUNDLING.externalModules],
        banner: LAMBDA_BUNDLING.banner,
      },
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions.',
    });
  }

  /** Sets each binding's variable on the function and grants its role what the value needs. */
  bind(...bindings: Binding[]): this {
    for (const binding of bindings) {
      this.function.addEnvironment(binding.variable, binding.value);
      binding.grant(this.role);
    }
    return this;
  }
}
