// Validates an OpenAPI document with three independent validators (issue 7, API-7):
//   node validate_openapi.mjs FILE
// Prints {"<validator>": {"valid": bool, "errors": "..."}} on stdout, each failure also on
// stderr, and exits 0 when all three accept the document, 1 when any rejects it, 2 on a
// file it cannot read. Each validator gets its own copy: some dereference in place.
import { readFileSync } from 'node:fs';

import SwaggerParser from '@apidevtools/swagger-parser';
import { compileErrors, validate as readmeValidate } from '@readme/openapi-parser';
import { Validator } from '@seriousme/openapi-schema-validator';

const file = process.argv[2];
if (!file) {
  console.error('usage: node validate_openapi.mjs FILE');
  process.exit(2);
}
let document;
try {
  document = JSON.parse(readFileSync(file, 'utf8'));
} catch (error) {
  console.error(`cannot read ${file}: ${error.message}`);
  process.exit(2);
}

const validators = {
  '@readme/openapi-parser': async (api) => {
    const result = await readmeValidate(api);
    return result.valid ? '' : compileErrors(result);
  },
  '@apidevtools/swagger-parser': async (api) => {
    await SwaggerParser.validate(api);  // throws on an invalid document
    return '';
  },
  '@seriousme/openapi-schema-validator': async (api) => {
    const result = await new Validator().validate(api);
    return result.valid ? '' : JSON.stringify(result.errors, null, 2);
  },
};

const report = {};
for (const [name, check] of Object.entries(validators)) {
  let errors;
  try {
    errors = await check(structuredClone(document));
  } catch (error) {
    errors = error?.message || String(error);
  }
  report[name] = errors ? { valid: false, errors } : { valid: true };
  if (errors) console.error(`${name} rejects ${file}:\n${errors}\n`);
}
console.log(JSON.stringify(report));
process.exit(Object.values(report).every((r) => r.valid) ? 0 : 1);
