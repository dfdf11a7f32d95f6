/**
 * A small bounded XML reader for the KMIP XML encoding of the OASIS test cases: elements with
 * attributes, comments, an optional declaration; text between elements must be whitespace
 * (KMIP XML carries every value in a `value` attribute). Not a general XML parser.
 */
export interface XmlNode {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: readonly XmlNode[];
}

export interface XmlLimits {
  readonly maxBytes: number;
  readonly maxDepth: number;
  readonly maxNodes: number;
}

const defaults: XmlLimits = { maxBytes: 4 * 1024 * 1024, maxDepth: 32, maxNodes: 200_000 };
const NAME = /[A-Za-z_][A-Za-z0-9_.:-]*/y;
const ATTR = /\s*([A-Za-z_][A-Za-z0-9_.:-]*)\s*=\s*("([^"]*)"|'([^']*)')/y;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function unescape(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|apos|#x[0-9a-fA-F]+|#[0-9]+);/g, (_m, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return ENTITIES[e] ?? '';
  });
}

/** Parses `text` into its root element; throws with the offset on anything it does not accept. */
export function parseXml(text: string, limits: Partial<XmlLimits> = {}): XmlNode {
  const lim = { ...defaults, ...limits };
  if (text.length > lim.maxBytes) throw new Error(`XML larger than ${lim.maxBytes} characters`);
  let pos = 0;
  let nodes = 0;
  const fail = (why: string): never => {
    throw new Error(`XML: ${why} at offset ${pos}`);
  };
  const skipMisc = (): void => {
    for (;;) {
      while (pos < text.length && /\s/.test(text[pos] ?? '')) pos++;
      if (text.startsWith('<!--', pos)) {
        const end = text.indexOf('-->', pos + 4);
        if (end < 0) fail('unterminated comment');
        pos = end + 3;
      } else if (text.startsWith('<?', pos)) {
        const end = text.indexOf('?>', pos + 2);
        if (end < 0) fail('unterminated declaration');
        pos = end + 2;
      } else return;
    }
  };
  const element = (depth: number): XmlNode => {
    if (depth > lim.maxDepth) fail(`nesting deeper than ${lim.maxDepth}`);
    if (++nodes > lim.maxNodes) fail(`more than ${lim.maxNodes} elements`);
    if (text[pos] !== '<') fail('expected an element');
    pos++;
    NAME.lastIndex = pos;
    const m = NAME.exec(text);
    if (m === null) return fail('expected an element name');
    const name = m[0];
    pos = NAME.lastIndex;
    const attrs: Record<string, string> = {};
    for (;;) {
      ATTR.lastIndex = pos;
      const a = ATTR.exec(text);
      if (a === null) break;
      const key = a[1] ?? '';
      if (Object.hasOwn(attrs, key)) fail(`attribute ${key} repeated`);
      attrs[key] = unescape(a[3] ?? a[4] ?? '');
      pos = ATTR.lastIndex;
    }
    while (/\s/.test(text[pos] ?? '')) pos++;
    if (text.startsWith('/>', pos)) {
      pos += 2;
      return { name, attrs, children: [] };
    }
    if (text[pos] !== '>') fail(`malformed start tag <${name}>`);
    pos++;
    const children: XmlNode[] = [];
    for (;;) {
      skipMisc();
      if (pos >= text.length) fail(`<${name}> is not closed`);
      if (text.startsWith('</', pos)) {
        const close = `</${name}`;
        if (!text.startsWith(close, pos)) fail(`mismatched end tag, expected </${name}>`);
        pos += close.length;
        while (/\s/.test(text[pos] ?? '')) pos++;
        if (text[pos] !== '>') fail('malformed end tag');
        pos++;
        return { name, attrs, children };
      }
      if (text[pos] !== '<') fail(`text content in <${name}>`);
      children.push(element(depth + 1));
    }
  };
  skipMisc();
  const root = element(1);
  skipMisc();
  if (pos !== text.length) fail('content after the root element');
  return root;
}
