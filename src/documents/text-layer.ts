/**
 * A page's text layer in reading order. pdf.js hands back text runs in content-stream order, which is whatever order
 * the producer drew them in (a table's column first, a footer before the body); readers expect top to bottom, left
 * to right. Runs are grouped into lines by their baseline and joined with spaces where a gap separates them.
 */

/** One text run as pdf.js `getTextContent()` reports it (`transform[4..5]` = x, y of the baseline in points). */
export interface TextRun {
  str: string;
  transform: number[];
  width: number;
  height: number;
}

interface Placed {
  text: string;
  x: number;
  y: number;
  end: number;
  size: number;
}

/** Runs whose baselines differ by less than this share of the font size are on one line. */
const SAME_LINE = 0.5;

function place(run: TextRun): Placed {
  const [, , , , x = 0, y = 0] = run.transform;
  const size = Math.abs(run.height) || Math.abs(run.transform[3] ?? 0) || 1;
  return { text: run.str, x, y, end: x + run.width, size };
}

/** Joins the runs of one line left to right, with a space where they do not touch (and none is there already). */
function joinLine(line: Placed[]): string {
  line.sort((a, b) => a.x - b.x);
  let text = '';
  let end = -Infinity;
  for (const run of line) {
    const gap = run.x - end > run.size * 0.15;
    if (text && gap && !/\s$/.test(text) && !/^\s/.test(run.text)) text += ' ';
    text += run.text;
    end = Math.max(end, run.end);
  }
  return text.trimEnd();
}

/** The page's text, lines top to bottom (PDF y grows upwards), blank runs dropped; '' when the page has none. */
export function readingOrder(runs: readonly TextRun[]): string {
  const placed = runs.filter((r) => r.str.trim() !== '').map(place);
  placed.sort((a, b) => b.y - a.y || a.x - b.x);
  const lines: Placed[][] = [];
  for (const run of placed) {
    const line = lines[lines.length - 1];
    const first = line?.[0];
    if (line && first && Math.abs(first.y - run.y) < Math.min(first.size, run.size) * SAME_LINE) line.push(run);
    else lines.push([run]);
  }
  return lines.map(joinLine).join('\n');
}
