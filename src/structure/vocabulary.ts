import { TokenTrie } from './token-trie.js';

/** Options shared by the `Vocabulary` constructors. */
export interface VocabularyOptions {
  /** Token ids that end generation; allowed by a mask only where the grammar accepts. Must be special (no bytes). */
  eosTokenIds: readonly number[];
  /** When given, a vocabulary built with the same key is returned from a process-wide cache instead of rebuilt. */
  cacheKey?: string;
}

const cache = new Map<string, Vocabulary>();
const encoder = new TextEncoder();

/**
 * The tokenizer's vocabulary as bytes, indexed by a token trie: what the matcher needs to turn grammar states into
 * token masks. Knows no tokenizer library; build it once per tokenizer (pass `cacheKey` to share it process-wide).
 * Special tokens have no bytes (`null`): they never appear in a mask except EOS, which is allowed exactly when the
 * grammar accepts.
 */
export class Vocabulary {
  /** Number of token ids (mask width in bits). */
  readonly size: number;
  /** EOS token ids. */
  readonly eosTokenIds: readonly number[];
  /** Bytes of every token, `null` for special/unusable tokens. */
  readonly tokens: readonly (Uint8Array | null)[];
  /** Trie over the non-special tokens. */
  readonly trie: TokenTrie;
  /** Words in a mask: `ceil(size / 32)`. */
  readonly maskWords: number;

  private constructor(tokens: readonly (Uint8Array | null)[], options: VocabularyOptions) {
    if (tokens.length === 0) throw new RangeError('a vocabulary needs at least one token');
    for (const id of options.eosTokenIds) {
      if (!Number.isInteger(id) || id < 0 || id >= tokens.length)
        throw new RangeError(`EOS token id ${id} is outside the vocabulary`);
      if (tokens[id]) throw new RangeError(`EOS token id ${id} must be a special token (no bytes)`);
    }
    this.size = tokens.length;
    this.eosTokenIds = [...options.eosTokenIds];
    this.tokens = tokens;
    this.trie = new TokenTrie(tokens);
    this.maskWords = Math.ceil(tokens.length / 32);
  }

  /** A new, zeroed mask buffer of `maskWords` words. */
  allocateMask(): Uint32Array {
    return new Uint32Array(this.maskWords);
  }

  /** From token id → raw bytes (`null` = special). */
  static fromTokenBytes(tokens: readonly (Uint8Array | null)[], options: VocabularyOptions): Vocabulary {
    return cached(options, () => new Vocabulary(tokens, options));
  }

  /**
   * From byte-level BPE token strings (GPT-2's byte-to-unicode mapping: GPT-2, Llama 3, Qwen, o200k via
   * `tokenizer.json`). `special` ids (and `null` entries) get no bytes; a string using a character outside the
   * mapping is an error, since guessing its bytes would make masks lie.
   */
  static fromByteLevelBpe(
    tokens: readonly (string | null)[],
    options: VocabularyOptions & { special?: Iterable<number> },
  ): Vocabulary {
    return cached(options, () => {
      const special = new Set(options.special ?? []);
      const table = byteLevelDecodeTable();
      const bytes = tokens.map((token, id) => {
        if (token === null || special.has(id)) return null;
        const out = new Uint8Array(token.length);
        for (let i = 0; i < token.length; i++) {
          const code = token.charCodeAt(i);
          const b = code < table.length ? table[code]! : -1;
          if (b < 0) throw new RangeError(`token ${id} ${JSON.stringify(token)} is not byte-level BPE`);
          out[i] = b;
        }
        return out;
      });
      return new Vocabulary(bytes, options);
    });
  }

  /**
   * From SentencePiece pieces with byte fallback (Llama 2, Gemma): `▁` is a space, `<0xNN>` is the raw byte NN,
   * other pieces are UTF-8 text. `special` ids (control/unknown pieces) get no bytes.
   */
  static fromSentencePiece(
    pieces: readonly (string | null)[],
    options: VocabularyOptions & { special?: Iterable<number> },
  ): Vocabulary {
    return cached(options, () => {
      const special = new Set(options.special ?? []);
      const bytes = pieces.map((piece, id) => {
        if (piece === null || special.has(id)) return null;
        const hex = /^<0x([0-9A-Fa-f]{2})>$/.exec(piece);
        if (hex) return Uint8Array.of(parseInt(hex[1]!, 16));
        return encoder.encode(piece.replace(/\u2581/g, ' '));
      });
      return new Vocabulary(bytes, options);
    });
  }
}

function cached(options: VocabularyOptions, build: () => Vocabulary): Vocabulary {
  if (options.cacheKey === undefined) return build();
  let vocab = cache.get(options.cacheKey);
  if (!vocab) {
    vocab = build();
    cache.set(options.cacheKey, vocab);
  }
  return vocab;
}

let decodeTable: Int16Array | undefined;

/** GPT-2's reversible map (char code → byte, -1 if none): printable bytes stand for themselves, the rest are
 * shifted to U+0100 and up. */
function byteLevelDecodeTable(): Int16Array {
  if (decodeTable) return decodeTable;
  decodeTable = new Int16Array(512).fill(-1);
  let shifted = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    decodeTable[printable ? b : 256 + shifted++] = b;
  }
  return decodeTable;
}
