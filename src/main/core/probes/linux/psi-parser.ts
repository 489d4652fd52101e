import { finiteNumber } from '../../util/finite.js';

/** `/proc/pressure/memory`: `some avg10=0.00 avg60=0.00 avg300=0.00 total=0` and the `full` line. */
export interface PsiLine {
  avg10: number;
  avg60: number;
  avg300: number;
  totalMicros: number;
}

export interface Psi {
  some: PsiLine | null;
  full: PsiLine | null;
}

export function parsePsi(text: string): Psi {
  const line = (kind: string): PsiLine | null => {
    const m = new RegExp(`^${kind} avg10=([\\d.]+) avg60=([\\d.]+) avg300=([\\d.]+) total=(\\d+)`, 'm').exec(
      text,
    );
    if (!m) return null;
    const [avg10, avg60, avg300, totalMicros] = m.slice(1, 5).map((v) => finiteNumber(v));
    // `1.2.3` matches [\d.]+ but is not a number: the line is not read rather than read as NaN.
    if (avg10 == null || avg60 == null || avg300 == null || totalMicros == null) return null;
    return { avg10, avg60, avg300, totalMicros };
  };
  return { some: line('some'), full: line('full') };
}

/**
 * Maps memory PSI onto macOS's 1/2/4 levels so one scale runs everywhere: critical when tasks were fully
 * stalled on memory ≥ 10 % of the last 10 s, warn when some task was stalled ≥ 10 %, normal otherwise.
 * (systemd-oomd and nohang act at much higher full-stall figures; these are early warnings.)
 */
export function psiToPressureLevel(psi: Psi): 1 | 2 | 4 | null {
  if (!psi.some) return null;
  if (psi.full && psi.full.avg10 >= 10) return 4;
  if (psi.some.avg10 >= 10) return 2;
  return 1;
}
