// Generates src/api/schema.ts from the server extension's OpenAPI description, the one source
// of truth for the shapes the browser receives. `--check` regenerates in memory and fails when
// the committed file differs (run by `npm run check:api`, part of `make lint-ts`).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const source = join(root, '..', 'jupyter_qrt', 'server', 'openapi.json');
const target = join(root, 'src', 'api', 'schema.ts');

const header =
  '/**\n' +
  ` * Generated from ${relative(root, source)} by \`npm run generate:api\`: do not edit.\n` +
  ' * `npm run check:api` fails when this file is stale.\n' +
  ' */\n\n';

const spec = JSON.parse(readFileSync(source, 'utf8'));
const text = header + astToString(await openapiTS(spec));

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing counts as stale
  }
  if (current !== text) {
    console.error(
      `${relative(process.cwd(), target)} is stale: ${relative(process.cwd(), source)} changed. ` +
        'Run `npm run generate:api` in labextension/ and commit the result.'
    );
    process.exit(1);
  }
  console.log('src/api/schema.ts matches openapi.json');
} else {
  writeFileSync(target, text);
  console.log(`wrote ${relative(process.cwd(), target)}`);
}
