import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonSchemas, serialise } from './json-schemas';

for (const [file, schema] of Object.entries(jsonSchemas())) {
  writeFileSync(join('schema', file), serialise(schema));
  console.log(`wrote schema/${file}`);
}
