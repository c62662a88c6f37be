import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ENVIRONMENT } from '../lambda/environment';

/**
 * `npm run migrate`: builds every user's device set from the token records written
 * before sets existed (lambda/adapters/secondary/device-set-backfill.ts). Idempotent,
 * resumable (`--checkpoint`), and safe while the API and the sender run — deploy the
 * writers first, run this, then the sender that reads the sets (docs/deploy.md, "Upgrading to device sets").
 */

const USAGE = `Usage: npm run migrate -- --table <Devices table name> [options]

Adds every token record of the Devices table to its user's device set. What is in a
set already stays as it is, so it can be run again, and stopped and resumed.

Options:
  --table <name>         the Devices table (stack output DevicesTableName; offline: GET /_local/tables)
  --checkpoint <file>    where to keep the scan position: resumes from it if present, removed when done
  --max-devices <n>      the deployment's MAX_DEVICES_PER_USER (default 32)
  --region <region>      the AWS region (default: the SDK's)
  --endpoint-url <url>   a DynamoDB endpoint other than AWS's, e.g. the offline one of npm start
  -h, --help             this text`;

async function main() {
  const { values } = parseArgs({
    options: {
      table: { type: 'string' },
      checkpoint: { type: 'string' },
      'max-devices': { type: 'string' },
      region: { type: 'string' },
      'endpoint-url': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || values.table === undefined) {
    console.log(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  // The adapters read these, as the functions do.
  process.env[ENVIRONMENT.devicesTable] = values.table;
  if (values['max-devices'] !== undefined) process.env[ENVIRONMENT.maxDevicesPerUser] = values['max-devices'];
  if (values.region !== undefined) process.env.AWS_REGION = values.region;
  if (values['endpoint-url'] !== undefined) process.env.AWS_ENDPOINT_URL_DYNAMODB = values['endpoint-url'];
  const { backfillDeviceSets } = await import('../lambda/adapters/secondary/device-set-backfill');
  const checkpoint = values.checkpoint;
  let startFrom: Record<string, unknown> | undefined;
  if (checkpoint !== undefined) {
    try {
      startFrom = JSON.parse(readFileSync(checkpoint, 'utf8')).resumeFrom;
      if (startFrom !== undefined) console.log(`resuming from ${checkpoint}`);
    } catch {
      startFrom = undefined;
    }
  }
  const done = await backfillDeviceSets({
    ...(startFrom === undefined ? {} : { startFrom }),
    onPage: (progress) => {
      if (checkpoint !== undefined) writeFileSync(checkpoint, JSON.stringify(progress));
      console.log(
        `added ${progress.added}, already present ${progress.present}, skipped ${progress.skipped}`,
      );
    },
  });
  console.log(`done: added ${done.added}, already present ${done.present}, skipped ${done.skipped}`);
}

await main();
