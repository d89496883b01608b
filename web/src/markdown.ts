import { el } from './dom.js';

/**
 * Renders the common subset of Markdown chat models write — fenced code, headings, bullet and numbered lists,
 * paragraphs, inline `code`, **bold** and *emphasis* — as DOM nodes built with `el`. Written here rather than taken
 * from a Markdown library because those produce HTML strings, and the studio never inserts model output as HTML
 * (no sanitizer to keep up to date, nothing a reply can inject); anything else shows as the text it is.
 */
export function renderMarkdown(text: string): DocumentFragment {
  const out = document.createDocumentFragment();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; ) {
    const line = lines[i]!;
    const fence = /^\s*```(\S*)/.exec(line);
    if (fence) {
      const body: string[] = [];
      for (i++; i < lines.length && !/^\s*```/.test(lines[i]!); i++) body.push(lines[i]!);
      i++;
      out.append(
        el('pre', { class: 'code', 'data-lang': fence[1] || undefined }, el('code', { text: body.join('\n') })),
      );
      continue;
    }
    const heading = /^(#{1,4})\s+(.*)$/.exec(line);
    if (heading) {
      out.append(el(`h${Math.min(6, heading[1]!.length + 2)}` as 'h3', {}, ...inline(heading[2]!)));
      i++;
      continue;
    }
    const list = listKind(line);
    if (list) {
      const items: HTMLLIElement[] = [];
      for (; i < lines.length && listKind(lines[i]!) === list; i++)
        items.push(el('li', {}, ...inline(lines[i]!.replace(/^\s*(?:[-*+]|\d+[.)])\s+/, ''))));
      out.append(el(list, {}, ...items));
      continue;
    }
    if (line.trim() === '') {
      i++;
      continue;
    }
    const paragraph: string[] = [];
    for (
      ;
      i < lines.length && lines[i]!.trim() !== '' && !listKind(lines[i]!) && !/^\s*```|^#{1,4}\s/.test(lines[i]!);
      i++
    )
      paragraph.push(lines[i]!);
    out.append(el('p', {}, ...inline(paragraph.join('\n'))));
  }
  return out;
}

function listKind(line: string): 'ul' | 'ol' | null {
  if (/^\s*[-*+]\s+/.test(line)) return 'ul';
  if (/^\s*\d+[.)]\s+/.test(line)) return 'ol';
  return null;
}

/** Inline spans: `code`, **bold**, *emphasis*; the rest as text (line breaks kept by CSS). */
function inline(text: string): (Node | string)[] {
  const parts: (Node | string)[] = [];
  const pattern = /`([^`]+)`|\*\*([^*]+)\*\*|\*([^*\s][^*]*)\*/g;
  let last = 0;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    parts.push(text.slice(last, match.index));
    if (match[1] !== undefined) parts.push(el('code', { text: match[1] }));
    else if (match[2] !== undefined) parts.push(el('strong', { text: match[2] }));
    else parts.push(el('em', { text: match[3]! }));
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  return parts.filter((part) => part !== '');
}
