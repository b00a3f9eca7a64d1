// Checks every package's API report (packages/*/etc/*.api.md) against the
// built declarations, one api-extractor run per entry point of each package's
// `exports` map (packages/*/api-extractor*.json). Fails when an export was
// added, removed or changed without its report being updated, so that every
// change to the public API is seen in review. `--update` rewrites the
// reports instead (api-extractor's `--local`). Run after `tsc -b`.
// See "API reports" in docs/development.md.
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';

const update = process.argv.includes('--update');
const root = join(import.meta.dirname, '..');
const configs = [];
for (const pkg of readdirSync(join(root, 'packages')).sort()) {
  const dir = join(root, 'packages', pkg);
  for (const file of readdirSync(dir).sort()) {
    if (/^api-extractor(\..+)?\.json$/.test(file)) configs.push(join(dir, file));
  }
}

const failed = [];
for (const configPath of configs) {
  const config = ExtractorConfig.loadFileAndPrepare(configPath);
  if (update) mkdirSync(config.reportFolder, { recursive: true });
  const result = Extractor.invoke(config, {
    localBuild: update,
    showVerboseMessages: false,
    messageCallback(message) {
      // Only what needs a person's attention; the changed report is named below.
      if (message.logLevel === 'info' || message.logLevel === 'verbose') message.handled = true;
    },
  });
  const name = config.reportConfigs[0]?.fileName ?? configPath;
  if (!result.succeeded || (!update && result.apiReportChanged)) {
    failed.push(name);
  } else if (update && result.apiReportChanged) {
    console.log(`updated ${name}`);
  }
}

if (failed.length > 0) {
  console.error(
    `\nAPI report check failed for: ${failed.join(', ')}.\n` +
      'If the change to the public API is intended, run `npm run api:update` and commit the ' +
      'changed packages/*/etc/*.api.md with it.',
  );
  process.exit(1);
}
console.log(`${configs.length} API reports ${update ? 'written' : 'match'}`);
