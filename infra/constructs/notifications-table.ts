import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import {
  NOTIFICATIONS_TABLE,
  PROVIDER_TOKEN_PK_PREFIX,
} from '../../lambda/adapters/secondary/notifications-keys';
import { ENVIRONMENT } from '../../lambda/environment';
import type { DynamoDbAction } from '../function-access';
import type { Binding } from './pushgate-function';

/** Every action that reads or writes items by key (and so carries dynamodb:LeadingKeys). */
const ITEM_ACTIONS: readonly DynamoDbAction[] = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
];

/**
 * Per-notification records: delivery progress (and, with tracking, per-device
 * status and receipts). Every item carries a TTL; keys come from the runtime's
 * keys module. Retained and deletion-protected: idempotency records and receipts.
 */
export class NotificationsTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const { partitionKey, sortKey, ttlAttribute } = NOTIFICATIONS_TABLE;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /**
   * The table's name for a function, with exactly the listed actions on it. Only a
   * function that sends (`providerTokens`) may touch the fleet's APNs provider tokens,
   * which sign requests to Apple: for any other, a Deny on every item under their key.
   */
  access(actions: readonly string[], options: { providerTokens: boolean }): Binding {
    const { tableArn, tableName } = this.table;
    return {
      variable: ENVIRONMENT.notificationsTable,
      value: tableName,
      grant(grantee) {
        iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns: [tableArn] });
        if (options.providerTokens) return;
        grantee.grantPrincipal.addToPrincipalPolicy(
          new iam.PolicyStatement({
            sid: 'NoApnsProviderTokens',
            effect: iam.Effect.DENY,
            actions: [...ITEM_ACTIONS],
            resources: [tableArn],
            conditions: {
              'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': [`${PROVIDER_TOKEN_PK_PREFIX}*`] },
            },
          }),
        );
      },
    };
  }
}
