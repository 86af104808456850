#!/usr/bin/env node
// `buf breaking` against main. On main itself (CI's clean clone) this compares with the previous
// commit, so a change that breaks a contract fails the run that lands it.
import { spawnSync } from 'node:child_process';

const git = (...args) => spawnSync('git', args, { encoding: 'utf8' });
const branch = git('rev-parse', '--abbrev-ref', 'HEAD').stdout.trim();
const hasMain = git('rev-parse', '--verify', '--quiet', 'main').status === 0;
let against;
if (branch !== 'main' && hasMain) against = '.git#branch=main,subdir=proto';
else if (git('rev-parse', '--verify', '--quiet', 'HEAD~1').status === 0)
  against = '.git#ref=HEAD~1,subdir=proto';

if (!against) {
  console.log('buf breaking: no earlier revision to compare with');
  process.exit(0);
}
const exists = git(
  'ls-tree',
  '-d',
  against.includes('HEAD~1') ? 'HEAD~1' : 'main',
  'proto',
).stdout.trim();
if (!exists) {
  console.log(`buf breaking: ${against} has no proto/ yet`);
  process.exit(0);
}
const result = spawnSync('npx', ['buf', 'breaking', 'proto', '--against', against], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
