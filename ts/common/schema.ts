import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { schemaPath } from './paths.js';

const ajv = new Ajv({ allErrors: true, strict: true });
const ids = new Map<string, string>();
const parsed = new Map<string, unknown>();

/** A schema file of schemas/, parsed once: what ajv compiles, and what a reader of its definitions looks at. */
export function schemaJson<T = unknown>(schemaFile: string): T {
  if (!parsed.has(schemaFile)) parsed.set(schemaFile, JSON.parse(readFileSync(schemaPath(schemaFile), 'utf8')));
  return parsed.get(schemaFile) as T;
}

/** The key ajv knows a schema file by (its $id), adding the file the first time. */
function schemaKey(schemaFile: string): string {
  let key = ids.get(schemaFile);
  if (!key) {
    const schema = schemaJson<{ $id?: string }>(schemaFile);
    key = schema.$id ?? schemaFile;
    ajv.addSchema(schema, schema.$id ? undefined : schemaFile);
    ids.set(schemaFile, key);
  }
  return key;
}

/**
 * The validator of a schema file of schemas/, or of the part of it at a JSON pointer ("/definitions/score"),
 * compiled once.
 */
export function schemaDefinition(schemaFile: string, pointer = ''): ValidateFunction {
  const validate = ajv.getSchema(pointer ? `${schemaKey(schemaFile)}#${pointer}` : schemaKey(schemaFile));
  if (!validate) throw new Error(`schemas/${schemaFile}: nothing at ${pointer || 'the root'}`);
  return validate;
}

/** Validates `data` against a JSON schema of schemas/; throws naming the source and every wrong key. */
export function validateWithSchema<T>(schemaFile: string, data: unknown, source: string): T {
  const validate = schemaDefinition(schemaFile);
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
