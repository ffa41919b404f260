// Every relative link in the README and docs/ leads somewhere: the file exists, and an anchor names a heading of it
// (GitHub's slugs). Pages moved out of the README must not leave dead links behind.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config/settings';

const pages = ['README.md', ...readdirSync(path.join(PROJECT_ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => path.join('docs', f))];
const slug = (heading: string) => heading.toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-');
const headings = (file: string) => new Set([...readFileSync(file, 'utf8').matchAll(/^#+\s+(.*)$/gm)].map((m) => slug(m[1]!)));

test.each(pages.map((p) => [p]))('%s: every relative link and anchor resolves', (page) => {
  const text = readFileSync(path.join(PROJECT_ROOT, page), 'utf8').replace(/```[\s\S]*?```/g, '');
  const dead: string[] = [];
  for (const [, url] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^(https?:|mailto:)/.test(url!)) continue;
    const [file, anchor] = url!.split('#') as [string, string | undefined];
    const target = file ? path.resolve(path.dirname(path.join(PROJECT_ROOT, page)), file) : path.join(PROJECT_ROOT, page);
    if (!existsSync(target)) dead.push(url!);
    else if (anchor && (!target.endsWith('.md') || !headings(target).has(anchor))) dead.push(url!);
  }
  expect(dead).toEqual([]);
});
