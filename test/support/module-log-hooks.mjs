// Module resolution hooks for module-log.mjs (they run on the loader's own thread).
import { appendFileSync } from 'node:fs';

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  if (process.env.MODULE_LOG) appendFileSync(process.env.MODULE_LOG, `${result.url}\n`);
  return result;
}
