import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { schemaPath } from './paths.js';

const ajv = new Ajv({ allErrors: true, strict: true });
const cache = new Map<string, ValidateFunction>();

/** Validates `data` against a JSON schema of schemas/; throws naming the source and every wrong key. */
export function validateWithSchema<T>(schemaFile: string, data: unknown, source: string): T {
  let validate = cache.get(schemaFile);
  if (!validate) {
    validate = ajv.compile(JSON.parse(readFileSync(schemaPath(schemaFile), 'utf8')));
    cache.set(schemaFile, validate);
  }
  if (!validate(data))
    throw new Error(`${source}: does not match ${schemaFile}:\n${formatAjvErrors(validate.errors ?? [])}`);
  return data as T;
}

export function formatAjvErrors(errors: ErrorObject[]): string {
  return errors
    .map((e) => {
      const where = e.instancePath || '(top level)';
      if (e.keyword === 'additionalProperties')
        return `  - ${where}: unknown key '${(e.params as { additionalProperty: string }).additionalProperty}'`;
      if (e.keyword === 'required')
        return `  - ${where}: missing key '${(e.params as { missingProperty: string }).missingProperty}'`;
      return `  - ${where}: ${e.message}`;
    })
    .join('\n');
}
