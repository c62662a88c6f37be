import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { DEVICES_TABLE } from '../../lambda/adapters/secondary/devices-keys';
import { ENVIRONMENT } from '../../lambda/environment';
import type { DevicesAccess } from '../function-access';
import type { Binding } from './pushgate-function';

/**
 * The user→token table. Keys come from the runtime's keys module so the stack and
 * the code agree; on-demand, TTL, point-in-time recovery, encrypted, and retained
 * and deletion-protected — it is the users' data.
 */
export class DevicesTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const { partitionKey, userIndex, liveActivityIndex, ttlAttribute } = DEVICES_TABLE;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: partitionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: userIndex.name,
      partitionKey: { name: userIndex.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: userIndex.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    // Sparse: only Live Activity tokens carry its key (docs/decisions/live-activity-tokens.md).
    this.table.addGlobalSecondaryIndex({
      indexName: liveActivityIndex.name,
      partitionKey: { name: liveActivityIndex.partitionKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }

  /** The table's name for a function, with exactly the listed actions on the table and its indexes. */
  access(access: DevicesAccess): Binding {
    const { tableArn, tableName } = this.table;
    return {
      variable: ENVIRONMENT.devicesTable,
      value: tableName,
      grant(grantee) {
        // Not table.grant(): with a GSI it also grants on `index/*`, more than we ask for.
        if (access.table?.length) {
          iam.Grant.addToPrincipal({ grantee, actions: [...access.table], resourceArns: [tableArn] });
        }
        if (access.userIndex?.length) {
          iam.Grant.addToPrincipal({
            grantee,
            actions: [...access.userIndex],
            resourceArns: [`${tableArn}/index/${DEVICES_TABLE.userIndex.name}`],
          });
        }
        if (access.liveActivityIndex?.length) {
          iam.Grant.addToPrincipal({
            grantee,
            actions: [...access.liveActivityIndex],
            resourceArns: [`${tableArn}/index/${DEVICES_TABLE.liveActivityIndex.name}`],
          });
        }
      },
    };
  }
}
