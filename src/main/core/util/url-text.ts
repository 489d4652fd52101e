import { z } from 'zod/v3';

/** What a URL parser ignores in a URL's text: the whitespace around it, and tabs and line breaks anywhere. */
const asParsed = (v: unknown): unknown => (typeof v === 'string' ? v.trim().replace(/[\t\n\r]/g, '') : v);

/**
 * A URL from the configuration, kept as a URL parser reads it, so what status, the log and `config get` show is
 * where requests go. Raw, `"http://127.0.0.1\n.evil.example:52415"` showed the loopback address on a line
 * of its own while requests went to the other host, and a trailing space made every request of EXO's API
 * client fail while the guard (which parses the URL) forwarded.
 */
export const urlText = z.preprocess(asParsed, z.string().url());
