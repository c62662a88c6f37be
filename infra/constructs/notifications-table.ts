import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { NOTIFICATIONS_TABLE } from '../../lambda/adapters/secondary/notifications-keys';
import { ENVIRONMENT } from '../../lambda/environment';
import type { Binding } from './pushgate-function';

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

  /** The table's name for a function, with exactly the listed actions on it. */
  access(actions: readonly string[]): Binding {
    const { tableArn, tableName } = this.table;
    return {
      variable: ENVIRONMENT.notificationsTable,
      value: tableName,
      grant(grantee) {
        iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns: [tableArn] });
      },
    };
  }
}
