/**
 * A loaded model as the chat layer sees it: the engine model plus what is derived once from its files — the chat
 * template, the tool-call syntax it teaches, whether it thinks, and the decoder's vocabulary.
 */
import type { EngineModel, TokenVocabulary } from '../engines/index.js';
import { ChatTemplate } from './chat-template.js';
import { detectToolSyntax, templateThinks, type ToolCallSyntax } from './tool-syntax.js';

/** ChatML, for models whose files carry no template. */
const FALLBACK_TEMPLATE =
  "{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}" +
  "{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

/** A model ready for chat requests; owns nothing but the engine model (disposed with it). */
export class ChatModel {
  readonly template: ChatTemplate;
  readonly syntax: ToolCallSyntax;
  readonly thinks: boolean;
  readonly vocabulary: TokenVocabulary;
  /** Special tokens that spell a tool-call marker of this model's syntax (their text must reach the parser). */
  readonly markerTokens: ReadonlySet<number>;

  /**
   * @param id the name clients pass as `model`
   * @param engine the loaded engine model
   * @param template overrides the model's own template (Jinja source)
   */
  constructor(
    readonly id: string,
    readonly engine: EngineModel,
    template?: string,
  ) {
    const source = template ?? engine.info.chatTemplate ?? FALLBACK_TEMPLATE;
    this.template = new ChatTemplate(source);
    this.syntax = detectToolSyntax(source);
    this.thinks = templateThinks(source);
    this.vocabulary = engine.vocabulary();
    const markers = new Set([this.syntax.open, this.syntax.close].map((m) => m.trim()).filter(Boolean));
    const decoder = new TextDecoder();
    this.markerTokens = new Set(
      this.vocabulary.bytes.flatMap((b, id) =>
        this.vocabulary.special[id] && markers.has(decoder.decode(b)) ? [id] : [],
      ),
    );
  }

  /** Releases the engine model. */
  dispose(): Promise<void> {
    return this.engine.dispose();
  }
}
