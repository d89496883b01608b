import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { completeChat } from '../chat/index.js';
import { documentOptionsFromConfig, imageLimitsFromConfig } from '../server/index.js';
import { withContext, writers, type AppContext, type CliDeps } from './context.js';
import type { ChatModelPool } from '../chat/index.js';

interface RunFlags {
  image: string[];
  file: string[];
  schema?: string;
  json?: boolean;
  system?: string;
  seed?: string;
  maxTokens?: string;
  temperature?: string;
}

const IMAGE_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
};

/** A local image file as an OpenAI `image_url` content part (data URL). */
export function imagePart(path: string): { type: 'image_url'; image_url: { url: string } } {
  const type = IMAGE_TYPES[extname(path).toLowerCase()] ?? 'image/png';
  return {
    type: 'image_url',
    image_url: { url: `data:${type};base64,${readFileSync(resolve(path)).toString('base64')}` },
  };
}

/** A local PDF as an OpenAI `file` content part (base64 data URL, named after the file). */
export function filePart(path: string): { type: 'file'; file: { file_data: string; filename: string } } {
  const data = readFileSync(resolve(path)).toString('base64');
  return { type: 'file', file: { file_data: `data:application/pdf;base64,${data}`, filename: basename(path) } };
}

/** A JSON Schema file as `response_format` (strict json_schema named after the file). */
function schemaFormat(path: string): object {
  const schema: unknown = JSON.parse(readFileSync(resolve(path), 'utf8'));
  const name =
    (path.split('/').pop() ?? 'output')
      .replace(/\.json$/, '')
      .replace(/[^a-zA-Z0-9_-]/g, '_')
      .slice(0, 64) || 'output';
  return { type: 'json_schema', json_schema: { name, schema, strict: true } };
}

/** The composition root's chat pool; verbs fail clearly when it was not wired. */
export function chatPoolOf(deps: CliDeps, context: AppContext): ChatModelPool {
  if (!deps.chatPool) throw new Error('this build of atelier has no chat engines wired (CliDeps.chatPool)');
  return deps.chatPool(context);
}

/** The user message when only documents are given (`atelier run MODEL --file invoice.pdf --schema invoice.json`). */
const DOCUMENT_PROMPT = 'Read the attached document and give its contents as the answer.';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/**
 * `atelier run <model> "prompt" [--image f]… [--file doc.pdf]… [--schema s.json] [--json]`: one chat completion without a server,
 * validated like the HTTP API. Streams the answer to stdout, or prints the whole `chat.completion` with `--json`.
 */
export function registerRun(program: Command, deps: CliDeps): void {
  program
    .command('run')
    .description('answer one prompt with a chat model (optionally with images and a JSON schema)')
    .argument('<model>', 'model name as `atelier models` shows it')
    .argument('[prompt]', 'the user message (optional with --file: then the document is to be read into the answer)')
    .option('--image <file>', 'attach an image (repeatable)', collect, [])
    .option(
      '--file <pdf>',
      'attach a PDF document (repeatable): page images for vision models, its text for others',
      collect,
      [],
    )
    .option('--schema <file>', 'JSON Schema the answer must match (enforced while decoding)')
    .option('--json', 'print the full chat.completion object as JSON')
    .option('--system <text>', 'system message')
    .option('--seed <n>', 'seed for reproducible sampling')
    .option('--max-tokens <n>', 'cap on generated tokens')
    .option('--temperature <t>', 'sampling temperature (0 = greedy; default 1)')
    .action(async (modelName: string, given: string | undefined, flags: RunFlags, command: Command) => {
      const { out } = writers(deps);
      if (given === undefined && flags.file.length === 0) command.error("error: missing required argument 'prompt'");
      const prompt = given ?? DOCUMENT_PROMPT;
      const attached = [...flags.file.map(filePart), ...flags.image.map(imagePart)];
      const content = attached.length === 0 ? prompt : [{ type: 'text', text: prompt }, ...attached];
      const body = {
        model: modelName,
        messages: [...(flags.system ? [{ role: 'system', content: flags.system }] : []), { role: 'user', content }],
        ...(flags.schema && { response_format: schemaFormat(flags.schema) }),
        ...(flags.seed !== undefined && { seed: Number(flags.seed) }),
        ...(flags.maxTokens !== undefined && { max_completion_tokens: Number(flags.maxTokens) }),
        ...(flags.temperature !== undefined && { temperature: Number(flags.temperature) }),
      };
      await withContext(command, async (context) => {
        const pool = chatPoolOf(deps, context);
        try {
          const model = await pool.get(context.registry.require(modelName));
          const completion = await completeChat(model, body, {
            imageLimits: imageLimitsFromConfig(context.config),
            documents: documentOptionsFromConfig(context.config, context.store),
            onEvent: (_choice, event) => {
              if (!flags.json && event.type === 'content') out(event.text);
            },
          });
          if (flags.json) out(`${JSON.stringify(completion, null, 2)}\n`);
          else {
            const calls = completion.choices[0]?.message.tool_calls ?? [];
            for (const call of calls) out(`\n${call.function.name}(${call.function.arguments})`);
            out('\n');
          }
        } finally {
          await pool.dispose();
        }
      });
    });
}
