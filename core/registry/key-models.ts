/**
 * Names in a key's `models` allow-list that name nothing the gateway could route: neither an alias nor
 * `provider/model` of a provider it has. Such a name can only be a typo, and the key would be refused
 * every model it was meant to reach (403 `model_not_allowed`, or 404 for the name itself). Checked when
 * a key is written (config file, admin API). What a config-file key names cannot be deleted through
 * the admin API (admin/references.ts), or the next start would refuse the file; deleting what an
 * admin-made key names leaves the name in place, narrowing what the key reaches.
 */
export function unknownKeyModels(
  models: readonly string[] | undefined,
  aliases: ReadonlySet<string>,
  providers: ReadonlySet<string>,
): Array<{ index: number; name: string }> {
  const out: Array<{ index: number; name: string }> = [];
  for (const [index, name] of (models ?? []).entries()) {
    const slash = name.indexOf("/");
    const known =
      slash < 0 ? aliases.has(name) : providers.has(name.slice(0, slash)) && slash < name.length - 1;
    if (!known) out.push({ index, name });
  }
  return out;
}

/** Why a name of a key's allow-list is refused; the name is the caller's and is quoted capped. */
export const unknownKeyModelMessage = (name: string): string =>
  `'${name.slice(0, 128)}' is neither a model alias nor provider/model of a configured provider`;
