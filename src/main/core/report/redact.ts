/** Removes secrets from a command line before it goes into a report meant to be pasted publicly. */
const SECRET_FLAG = /^--?[\w-]*(token|key|secret|password|passwd|auth|credential)[\w-]*$/i;
const SECRET_ASSIGN = /^(--?[\w-]*(?:token|key|secret|password|passwd|auth|credential)[\w-]*=).+$/i;
const URL_CREDENTIALS = /^(\w+:\/\/)[^/@\s]+@/;

export function redactArgv(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (SECRET_ASSIGN.test(a)) out.push(a.replace(SECRET_ASSIGN, '$1[redacted]'));
    else if (SECRET_FLAG.test(a) && i + 1 < argv.length) {
      out.push(a, '[redacted]');
      i++;
    } else
      out.push(
        a.replace(URL_CREDENTIALS, '$1[redacted]@').replace(/\b(hf_|sk-)[A-Za-z0-9_-]{8,}/g, '$1[redacted]'),
      );
  }
  return out;
}
