// Validate JSON documents against a JSON Schema (draft 2020-12, as the Compose Specification's
// schema declares) with Ajv.
//
//   node tests/tools/validate-schema.mjs SCHEMA.json DOCUMENT.json [...]
//
// YAML files are converted to JSON by the caller (the pytest suite), so this needs no YAML
// parser. Prints one JSON array of {file, path, message} and exits 0 when every document is
// valid, 1 when one is not, 2 when it could not run.
import { readFile } from "node:fs/promises";
import Ajv2020 from "ajv/dist/2020.js";

const [schemaFile, ...documents] = process.argv.slice(2);
if (!schemaFile || documents.length === 0) {
  console.error("usage: node validate-schema.mjs SCHEMA.json DOCUMENT.json [...]");
  process.exit(2);
}

try {
  const schema = JSON.parse(await readFile(schemaFile, "utf8"));
  // strict: false because the schema uses annotations Ajv does not know (e.g. "deprecated"
  // descriptions on some keys); allErrors so one run reports every problem.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const validate = ajv.compile(schema);
  const errors = [];
  for (const file of documents) {
    const document = JSON.parse(await readFile(file, "utf8"));
    if (!validate(document)) {
      for (const error of validate.errors) {
        const detail = error.params && Object.keys(error.params).length
          ? ` ${JSON.stringify(error.params)}`
          : "";
        errors.push({ file, path: error.instancePath || "/", message: `${error.message}${detail}` });
      }
    }
  }
  console.log(JSON.stringify(errors, null, 2));
  process.exitCode = errors.length === 0 ? 0 : 1;
} catch (error) {
  console.error(error);
  process.exitCode = 2;
}
