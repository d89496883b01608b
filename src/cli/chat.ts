import type { Command } from 'commander';
import { createInterface } from 'node:readline';
import { completeChat } from '../chat/index.js';
import { imageLimitsFromConfig } from '../server/index.js';
import { withContext, writers, type CliDeps } from './context.js';
import { chatPoolOf, imagePart } from './run.js';

type Part = { type: 'text'; text: string } | ReturnType<typeof imagePart>;

/**
 * `atelier chat <model>`: an interactive, streaming conversation. `/image path` attaches an image to the next
 * message, `/reset` clears the history, `/exit` (or Ctrl-D) quits.
 */
export function registerChat(program: Command, deps: CliDeps): void {
  program
    .command('chat')
    .description('chat interactively with a model (/image path attaches an image, /reset, /exit)')
    .argument('<model>', 'model name as `atelier models` shows it')
    .option('--system <text>', 'system message')
    .option('--max-tokens <n>', 'cap on generated tokens per answer', '512')
    .action(async (modelName: string, flags: { system?: string; maxTokens: string }, command: Command) => {
      const { out, err } = writers(deps);
      await withContext(command, async (context) => {
        const pool = chatPoolOf(deps, context);
        try {
          const model = await pool.get(context.registry.require(modelName));
          const imageLimits = imageLimitsFromConfig(context.config);
          // Created only now: lines read before the loop starts iterating would be lost.
          const rl = createInterface({ input: process.stdin, terminal: false });
          const history: object[] = flags.system ? [{ role: 'system', content: flags.system }] : [];
          let images: Part[] = [];
          out('> ');
          // Iterating the interface (not `question`) keeps lines that arrive while an answer is being generated.
          for await (const raw of rl) {
            const line = raw.trim();
            if (line === '/exit') break;
            if (line === '/reset') {
              history.splice(flags.system ? 1 : 0);
              out('> ');
              continue;
            }
            if (line.startsWith('/image ')) {
              try {
                images.push(imagePart(line.slice(7).trim()));
                err(`(image attached to your next message)\n`);
              } catch (error) {
                err(`cannot read image: ${(error as Error).message}\n`);
              }
              out('> ');
              continue;
            }
            if (line === '') {
              out('> ');
              continue;
            }
            const content: string | Part[] = images.length > 0 ? [{ type: 'text', text: line }, ...images] : line;
            images = [];
            history.push({ role: 'user', content });
            try {
              const completion = await completeChat(
                model,
                { model: modelName, messages: history, max_completion_tokens: Number(flags.maxTokens) },
                {
                  imageLimits,
                  onEvent: (_c, e) => {
                    if (e.type === 'content') out(e.text);
                  },
                },
              );
              out('\n');
              history.push({ role: 'assistant', content: completion.choices[0]?.message.content ?? '' });
            } catch (error) {
              history.pop();
              err(`error: ${(error as Error).message}\n`);
            }
            out('> ');
          }
          rl.close();
        } finally {
          await pool.dispose();
        }
      });
    });
}
