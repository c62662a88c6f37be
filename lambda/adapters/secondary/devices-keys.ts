/**
 * The shape of the Devices table, shared by the adapter, the CDK stack and the
 * offline stack so the three can never disagree.
 *
 * - partition key `token`: a token is unique and belongs to one user at a time, so
 *   moving it between users is a single conditional write;
 * - GSI `byUser` (`userId`, `appId`): every device of a user — or of a user for one
 *   app — in one Query;
 * - TTL attribute `expiresAt`.
 */
export const DEVICES_TABLE = {
  partitionKey: 'token',
  userIndex: { name: 'byUser', partitionKey: 'userId', sortKey: 'appId' },
  ttlAttribute: 'expiresAt',
} as const;

export function deviceKey(token: string) {
  return { [DEVICES_TABLE.partitionKey]: token };
}
