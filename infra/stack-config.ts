import type { Node } from 'constructs';
import { z } from 'zod';

/**
 * The deployment's configuration, read from CDK context (`cdk.json` or `-c`):
 *
 * - `apps`: the apps served — `[{ "appId", "bundleId", "credentialsSecretArn"? }]`;
 *   the APNs credentials of each live in Secrets Manager (the stack creates the
 *   secret `pushgate/apns/<appId>` when no ARN is given).
 * - `jwtIssuer` / `jwtAudience`: the OIDC issuer that signs app users' tokens. When
 *   absent, the stack creates a Cognito user pool and app client and uses those.
 */
const stackConfigSchema = z.strictObject({
  apps: z
    .array(
      z.strictObject({
        appId: z.string().min(1),
        bundleId: z.string().min(1),
        /** An existing secret with the app's APNs credentials; else the stack creates an empty one to fill. */
        credentialsSecretArn: z.string().startsWith('arn:').optional(),
      }),
    )
    .min(1, 'Configure at least one app in the "apps" context value.'),
  jwtIssuer: z.url().optional(),
  jwtAudience: z.array(z.string().min(1)).min(1).optional(),
});
export type StackConfig = z.infer<typeof stackConfigSchema>;

export function stackConfigFromContext(node: Node): StackConfig {
  const read = (key: string) => {
    const value = node.tryGetContext(key);
    return typeof value === 'string' && /^[[{]/.test(value.trim()) ? JSON.parse(value) : value;
  };
  const config = stackConfigSchema.parse({
    apps: read('apps') ?? [{ appId: 'com.example.app', bundleId: 'com.example.app' }],
    jwtIssuer: read('jwtIssuer'),
    jwtAudience: typeof read('jwtAudience') === 'string' ? [read('jwtAudience')] : read('jwtAudience'),
  });
  if ((config.jwtIssuer === undefined) !== (config.jwtAudience === undefined)) {
    throw new Error(
      'Set both jwtIssuer and jwtAudience, or neither (the stack then creates a Cognito user pool).',
    );
  }
  return config;
}
