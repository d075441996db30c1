// Node module-resolution hook: maps `@plexus/<lib>[/<sub>]` to the compiled lib under dist/, the same
// mapping tsconfig.json `paths` gives the type checker and jest.config.js gives the tests.
const dist = new URL('../dist/', import.meta.url);

export async function resolve(specifier, context, nextResolve) {
  if (specifier.startsWith('@plexus/')) {
    const [lib, ...sub] = specifier.slice('@plexus/'.length).split('/');
    const target = sub.length ? `libs/${lib}/src/${sub.join('/')}/index.js` : `libs/${lib}/src/index.js`;
    return nextResolve(new URL(target, dist).href, context);
  }
  return nextResolve(specifier, context);
}
