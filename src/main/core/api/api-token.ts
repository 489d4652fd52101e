import { fchmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../config/atomic-file.js';
import { randomBytesFromOs } from '../util/node-crypto.js';
import {
  accessProblem,
  closeTokenFile,
  directoryProblem,
  lookAtTokenFile,
  octal,
  othersAccess,
  ownershipProblem,
  type TokenFileLook,
} from './api-token-file.js';

/** Something the daemon found wrong with its token file, and what it did about it (never the token). */
export interface TokenNotice {
  path: string;
  problem: string;
  action: string;
}

export type TokenLoad =
  | {
      ok: true;
      token: string;
      notices: TokenNotice[];
      /** Why a new token was written (`refused`: the file's was not trusted; `absent`: it had none); null: the file's token. */
      written: 'refused' | 'absent' | null;
    }
  | { ok: false; error: string; notices: TokenNotice[] };

export const tokenNoticeText = (n: TokenNotice): string =>
  `the API token file ${n.path} ${n.problem}: ${n.action}`;

/**
 * The API's bearer token: generated on first run into `<data>/api-token` (mode 0600, written atomically),
 * needed by clients whenever the API listens beyond loopback and for the writes that point the daemon
 * elsewhere. An existing file is used only when it is a regular file of this user that group and others
 * cannot read or write:
 * - group or others could read it: the token may be known to another user; could write it: it may be one
 *   another user chose. Either way it is not used and a new one replaces the file (0600);
 * - a link (never followed), a FIFO, a directory or a file of another user is not used either: replaced
 *   when the directory lets this user do so, else the load fails naming the path and the problem;
 * - bits only its owner gains from (0700, setuid) are taken away (chmod 0600) and the token kept.
 * Each of these is a notice for the log and the timeline; a directory others can write is one too.
 */
export function loadOrCreateToken(path: string): TokenLoad {
  const notices: TokenNotice[] = [];
  const directory = directoryProblem(path);
  if (directory)
    notices.push({
      path,
      problem: directory,
      action: 'another user can replace it; make the directory writable by you only (chmod go-w)',
    });
  const look = lookAtTokenFile(path);
  let verdict: Verdict;
  try {
    verdict = judge(look, path, notices);
  } finally {
    closeTokenFile(look);
  }
  if ('use' in verdict) return { ok: true, token: verdict.use, notices, written: null };
  const written = writeNewToken(path);
  const refused = verdict.refused;
  if (!written.ok)
    return {
      ok: false,
      error: refused
        ? `${tokenNoticeText({ path, problem: refused.problem, action: refused.why })}, and ${written.error}`
        : written.error,
      notices,
    };
  if (refused)
    notices.push({
      path,
      problem: refused.problem,
      action: `${refused.why}; a new token replaces it (mode 0600)`,
    });
  return { ok: true, token: written.token, notices, written: refused ? 'refused' : 'absent' };
}

/** Use the file's token, or write a new one (`refused`: why the file's is not used; null when it has none). */
type Verdict = { use: string } | { refused: { problem: string; why: string } | null };

/** The verdict on what is at the path; a mode only its owner gains from is repaired here. */
function judge(look: TokenFileLook, path: string, notices: TokenNotice[]): Verdict {
  if (look.kind === 'missing') return { refused: null };
  if (look.kind === 'unusable') return { refused: { problem: look.problem, why: 'not used' } };
  const facts = look.facts;
  const owner = ownershipProblem(facts);
  if (owner)
    return { refused: { problem: owner, why: facts.regular ? 'its token is not used' : 'not used' } };
  const access = accessProblem(facts);
  if (access) {
    const why = othersAccess(facts.mode)?.write
      ? 'its token may be one another user chose and is not used'
      : 'its token may have been read by another user and is not used';
    return { refused: { problem: access, why } };
  }
  if (look.token === null) return { refused: null };
  if ((facts.mode & ~0o600) === 0) return { use: look.token };
  try {
    fchmodSync(facts.fd, 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return {
      refused: {
        problem: `has mode ${octal(facts.mode)}, which cannot be set to 0600 (${code})`,
        why: 'not used',
      },
    };
  }
  notices.push({ path, problem: `had mode ${octal(facts.mode)}, more than 0600`, action: 'set to 0600' });
  return { use: look.token };
}

function writeNewToken(path: string): { ok: true; token: string } | { ok: false; error: string } {
  const token = randomBytesFromOs(24).toString('base64url');
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileAtomic(path, `${token}\n`, 0o600);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { ok: false, error: `a new API token cannot be written to ${path} (${err.code ?? err.message})` };
  }
  return { ok: true, token };
}
