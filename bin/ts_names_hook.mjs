// A module loader hook over tsx's output for our own modules. tsx always turns on esbuild's
// keepNames, whose __name helper defines `name` on a named function each time one is made: for a
// closure made per call (a request's callback, a comparator) that is 0.25 µs and a new shape for
// the function, and in a loaded cluster 1.5 to 3% of each process's CPU. Nothing in Navarch reads
// a function's name, and tsx does not rename our functions, so __name here returns its function
// untouched; such closures may show as anonymous in a stack trace. The helper keeps its length,
// so every column the source map names stays where it was.

export const NAME_HELPER = 'var __name=(target,value)=>__defProp(target,"name",{value,configurable:true});';
export const NO_OP_NAME_HELPER = 'var __name=(target,value)=>target;'.padEnd(NAME_HELPER.length, ' ');

const ROOT = new URL('../', import.meta.url).href;

/** The module's text with the no-op helper in place of esbuild's; the text itself when it has none. */
export function withoutNames(text) {
  const at = text.indexOf(NAME_HELPER);
  return at < 0 ? text : text.slice(0, at) + NO_OP_NAME_HELPER + text.slice(at + NAME_HELPER.length);
}

export async function load(url, context, nextLoad) {
  const loaded = await nextLoad(url, context);
  if (loaded.format !== 'module' || loaded.source == null || !url.startsWith(ROOT) || url.includes('/node_modules/')) return loaded;
  const text = typeof loaded.source === 'string' ? loaded.source : Buffer.from(loaded.source).toString('utf8');
  const source = withoutNames(text);
  return source === text ? loaded : { ...loaded, source };
}
