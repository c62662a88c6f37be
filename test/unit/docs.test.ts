import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CREDENTIAL_REASONS, INCOMPLETE_ANSWER } from '../../lambda/domain/apns-answer';
import { fcmAnswersMarkdown } from '../../lambda/domain/fcm-answer';

const tracked = execFileSync('git', ['ls-files'], { encoding: 'utf8' }).split('\n').filter(Boolean);
const markdown = tracked.filter((file) => file.endsWith('.md') && existsSync(file));

/**
 * The anchors of a Markdown file's headings as GitHub makes them: lower case, every
 * character but letters, digits, spaces, `-` and `_` dropped, spaces as `-`, and a
 * repeated heading numbered (`-1`, `-2`, …). Lines in fenced code blocks are not headings.
 */
function headingAnchors(file: string): Set<string> {
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = fenced ? null : line.match(/^#{1,6} (.+)$/);
    if (!heading) continue;
    const slug = (heading[1] ?? '')
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M}_\- ]/gu, '')
      .replace(/ /g, '-');
    let anchor = slug;
    for (let n = 1; anchors.has(anchor); n++) anchor = `${slug}-${n}`;
    anchors.add(anchor);
  }
  return anchors;
}

describe('the project documents itself', () => {
  it('every relative link in README and docs/ leads to a file or folder of the repository, and to a heading it has', () => {
    const broken: string[] = [];
    for (const file of markdown) {
      for (const [, target = '', anchor] of readFileSync(file, 'utf8').matchAll(
        /\]\(([^)#\s]*)(?:#([^)\s]*))?\)/g,
      )) {
        if (/^[a-z]+:/i.test(target)) continue;
        const linked = target === '' ? file : join(dirname(file), target);
        if (!existsSync(linked)) broken.push(`${file} → ${target}`);
        else if (anchor !== undefined && linked.endsWith('.md') && !headingAnchors(linked).has(anchor))
          broken.push(`${file} → ${target}#${anchor}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('finds the anchors GitHub gives headings', () => {
    expect([...headingAnchors('docs/offline.md')]).toContain('the-_local-routes');
    expect([...headingAnchors('docs/apns.md')]).toContain(
      'what-happens-to-a-notification-when-apns-answers-',
    );
    expect([...headingAnchors('docs/deploy.md')]).toContain(
      'pushgateconfigts-the-one-place-for-configuration',
    );
    // A line starting with # inside a code block is no heading.
    expect([...headingAnchors('docs/api.md')]).not.toContain(
      'start-on-alices-lock-screen-through-her-push-to-start-token-for-deliveryattributes',
    );
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

  it('docs/offline.md names every setting npm start reads from the environment, in its table', () => {
    const sources = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory()
          ? sources(join(dir, entry.name))
          : entry.name.endsWith('.ts')
            ? [readFileSync(join(dir, entry.name), 'utf8')]
            : [],
      );
    const read = sources('local').flatMap((source) => [
      ...[...source.matchAll(/process\.env\.(PUSHGATE_\w+)/g)].map(([, name = '']) => name),
      ...[...source.matchAll(/portFrom\('(\w+)'/g)].map(([, name = '']) => name),
    ]);
    expect(read).toContain('PORT');
    const table = readFileSync('docs/offline.md', 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .join('\n');
    for (const name of new Set(read)) expect(table, name).toMatch(new RegExp(`\\| \`${name}[\`=]`));
  });

  it('docs/ios.md turns every token Data into hex byte by byte, never through its description', () => {
    const page = readFileSync('docs/ios.md', 'utf8');
    const swift = [...page.matchAll(/```swift\n([\s\S]*?)```/g)].map(([, code = '']) => code).join('\n');
    expect(swift).toContain('deviceToken.map { String(format: "%02x", $0) }.joined()');
    expect(swift).toContain('token.map { String(format: "%02x", $0) }.joined()');
    // Every token the app sends goes through one of those two conversions; `token` is already hex.
    expect(swift).not.toMatch(/\.description|String\(describing:|\\\(deviceToken\)/);
    expect(swift).toMatch(/hex\(token\)/);
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

  it('docs/testing.md says what the integration tests replace: nothing they talk to, only what they name', () => {
    const page = readFileSync('docs/testing.md', 'utf8');
    const files = readdirSync('test/integration')
      .filter((file) => file.endsWith('.ts'))
      .map((file) => join('test/integration', file));
    const sources = files.map((file) => ({ file, source: readFileSync(file, 'utf8') }));
    expect(page).toContain('nothing they talk to is mocked (no `vi.mock`)');
    expect(
      sources.filter(({ source }) => /\bvi\.(?:mock|doMock)\(/.test(source)).map(({ file }) => file),
    ).toEqual([]);
    // Each `vi.spyOn(object, 'method')` an integration test makes is named in the page.
    const spied = sources.flatMap(({ file, source }) =>
      [...source.matchAll(/vi\.spyOn\((\w+), '(\w+)'\)/g)].map((match) => ({
        file,
        target: `${match[1]}.${match[2]}`,
      })),
    );
    expect(spied.length).toBeGreaterThan(0);
    expect(spied.filter(({ target }) => !page.includes(`\`${target}\``))).toEqual([]);
  });
});
