/**
 * How each model family writes tool calls, detected from its chat template. Every syntax is "marker, then JSON
 * objects with a name key and an arguments key, then an optional closing marker", which lets one streaming scanner
 * (`ToolCallScanner`) and one grammar shape cover Hermes/Qwen, Llama 3.1, Mistral and Gemma.
 */

/** One family's call syntax. */
export interface ToolCallSyntax {
  family: 'hermes' | 'llama3' | 'mistral' | 'gemma';
  /** Opens the call region in the output. */
  open: string;
  /** Closes one call region ('' = runs to the end of the turn). */
  close: string;
  /** Several calls: one region each (`'regions'`, Hermes), or a JSON array inside one region (`'array'`, Mistral). */
  parallel: 'regions' | 'array' | 'single';
  /** Between consecutive regions ('\n' for Hermes). */
  separator: string;
  /** Key of the function name and of the arguments object. */
  nameKey: string;
  argumentsKey: string;
}

const HERMES: ToolCallSyntax = {
  family: 'hermes',
  open: '<tool_call>\n',
  close: '\n</tool_call>',
  parallel: 'regions',
  separator: '\n',
  nameKey: 'name',
  argumentsKey: 'arguments',
};
const LLAMA3: ToolCallSyntax = {
  family: 'llama3',
  open: '<|python_tag|>',
  close: '',
  parallel: 'single',
  separator: '',
  nameKey: 'name',
  argumentsKey: 'parameters',
};
const MISTRAL: ToolCallSyntax = {
  family: 'mistral',
  open: '[TOOL_CALLS]',
  close: '',
  parallel: 'array',
  separator: '',
  nameKey: 'name',
  argumentsKey: 'arguments',
};
const GEMMA: ToolCallSyntax = {
  family: 'gemma',
  open: '```tool_call\n',
  close: '\n```',
  parallel: 'regions',
  separator: '\n',
  nameKey: 'name',
  argumentsKey: 'arguments',
};

/**
 * The tool-call syntax a template teaches its model, or Hermes when the template shows none (the most common
 * convention among open models and the one models without a tool template follow best).
 */
export function detectToolSyntax(template: string | null): ToolCallSyntax {
  const t = template ?? '';
  if (t.includes('<tool_call>')) return HERMES;
  if (t.includes('[TOOL_CALLS]')) return MISTRAL;
  if (t.includes('<|python_tag|>') || (t.includes('<|eom_id|>') && t.includes('"parameters"'))) return LLAMA3;
  if (t.includes('<start_of_turn>') && t.includes('tool')) return GEMMA;
  return HERMES;
}

/** Reasoning markers (DeepSeek-R1, Qwen3, QwQ): text between them goes to `reasoning_content`, never `content`. */
export const THINK_OPEN = '<think>';
export const THINK_CLOSE = '</think>';

/** Whether the template belongs to a reasoning model that emits `<think>` blocks. */
export function templateThinks(template: string | null): boolean {
  return (template ?? '').includes(THINK_OPEN);
}
