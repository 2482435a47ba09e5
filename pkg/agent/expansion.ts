// Kubernetes' $(VAR) expansion, used for env values, command, args and subPathExpr: $(NAME) is
// replaced by NAME's value when NAME is known and left as written when it is not; $$ is a literal
// $, so $$(NAME) gives "$(NAME)"; a $ before anything else, or an unclosed "$(", stays as written.

/** Expands $(NAME) references in `input` through `lookup` (undefined: leave the reference as is). */
export function expandVars(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let i = 0;
  while (i < input.length) {
    const dollar = input.indexOf('$', i);
    if (dollar < 0 || dollar === input.length - 1) break;
    out += input.slice(i, dollar);
    const next = input[dollar + 1];
    if (next === '$') {
      out += '$';
      i = dollar + 2;
    } else if (next === '(') {
      const close = input.indexOf(')', dollar + 2);
      if (close < 0) {
        out += '$(';
        i = dollar + 2;
      } else {
        const name = input.slice(dollar + 2, close);
        out += lookup(name) ?? `$(${name})`;
        i = close + 1;
      }
    } else {
      out += '$' + next;
      i = dollar + 2;
    }
  }
  return out + input.slice(i);
}

/** A lookup over a resolved env list (the last definition of a name wins). */
export function envLookup(env: readonly { name: string; value: string }[]): (name: string) => string | undefined {
  const m = new Map(env.map((e) => [e.name, e.value]));
  return (name) => m.get(name);
}
