import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonSchemas, serialise } from './json-schemas';
import { openApiDocument } from './openapi';

for (const [file, schema] of Object.entries(jsonSchemas())) {
  writeFileSync(join('schema', file), serialise(schema));
  console.log(`wrote schema/${file}`);
}
writeFileSync(join('schema', 'openapi.json'), serialise(openApiDocument()));
console.log('wrote schema/openapi.json');
