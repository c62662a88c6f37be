import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CREDENTIAL_REASONS, INCOMPLETE_ANSWER } from '../../lambda/domain/apns-outcome';
import { fcmAnswersMarkdown } from '../../lambda/domain/fcm-outcome';

const tracked = execFileSync('git', ['ls-files'], { encoding: 'utf8' }).split('\n').filter(Boolean);
const markdown = tracked.filter((file) => file.endsWith('.md') && existsSync(file));

describe('the project documents itself', () => {
  it('every relative link in README and docs/ leads to a file or folder of the repository', () => {
    const broken: string[] = [];
    for (const file of markdown) {
      for (const [, target = ''] of readFileSync(file, 'utf8').matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/i.test(target)) continue;
        if (!existsSync(join(dirname(file), target))) broken.push(`${file} → ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('no file points to documents outside the repository', () => {
    // Names of contract documents that live outside this repository, built so this file does not match itself.
    const outside = new RegExp(
      `${['APNS', 'DESIGN', 'STYLE'].map((name) => `${name}\\.md`).join('|')}|\\.\\./shared`,
    );
    const citing = tracked.filter(
      (file) =>
        existsSync(file) && !/\.(pem|png|jpg)$/.test(file) && outside.test(readFileSync(file, 'utf8')),
    );
    expect(citing).toEqual([]);
  });

  it('docs/apns.md says what happens for every APNs reason the sender treats specially', () => {
    const notes = readFileSync('docs/apns.md', 'utf8');
    const special = [
      ...CREDENTIAL_REASONS,
      INCOMPLETE_ANSWER,
      'BadDeviceToken',
      'DeviceTokenNotForTopic',
      'Unregistered',
      'ExpiredToken',
      'IdleTimeout',
      'ExpiredProviderToken',
      'TooManyRequests',
      'TooManyProviderTokenUpdates',
      'Shutdown',
    ];
    for (const reason of special) expect(notes, reason).toContain(`\`${reason}\``);
  });

  it('docs/offline.md lists every /_local route the offline server serves, in its one table', () => {
    const served = readdirSync('local')
      .filter((file) => file.endsWith('.ts'))
      .flatMap((file) => [
        ...readFileSync(join('local', file), 'utf8').matchAll(/'(?:[A-Z]+ )?(\/_local\/[a-z/-]+)'/g),
      ])
      .map(([, path = '']) => path.replace(/\/$/, ''))
      .filter((path) => path !== '/_local');
    expect(served.length).toBeGreaterThan(5);
    const table = readFileSync('docs/offline.md', 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .join('\n');
    for (const path of new Set(served)) expect(table, path).toContain(path);
  });

  it('docs/fcm.md shows the FCM answer table the sender classifies with', () => {
    // Cells compared trimmed: a Markdown formatter may pad the columns.
    const cells = (table: string) =>
      table
        .split('\n')
        .filter((line) => line.startsWith('|') && !/^\|[\s|:-]+\|$/.test(line))
        .map((line) =>
          line
            .slice(1, -1)
            .split(' | ')
            .map((cell) => cell.trim()),
        );
    const page = readFileSync('docs/fcm.md', 'utf8');
    const start = page.indexOf('| FCM answer');
    expect(start).toBeGreaterThan(-1);
    const table = page.slice(start).split('\n\n')[0] ?? '';
    expect(cells(table)).toEqual(cells(fcmAnswersMarkdown()));
  });
});
