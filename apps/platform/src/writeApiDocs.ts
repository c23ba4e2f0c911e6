/** `npm run docs:api -- <dir>`: writes order.openapi.json, inventory.openapi.json and payment.openapi.json. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildApiDocuments } from './apiDocs.js';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: writeApiDocs.ts <directory>');
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
const docs = await buildApiDocuments();
for (const [name, doc] of Object.entries(docs))
  writeFileSync(join(dir, `${name}.openapi.json`), `${JSON.stringify(doc, null, 2)}\n`);
console.log(`wrote ${Object.keys(docs).length} OpenAPI documents to ${dir}`);
