/**
 * The fairseq-train command of a spec, rendered from a nunjucks template
 * (experiments/templates/fairseq-train.njk) so that what runs is readable and editable as text.
 * The template writes one argument (or a flag and its value) per line, values shell-quoted; the
 * rendered lines are split into argv here, and the same lines make command.txt, a command a person
 * can paste into a shell.
 */
import { join } from 'node:path';
import nunjucks from 'nunjucks';
import { packageRoot } from '../common/paths.js';
import { fairseqTrainBin, pluginDir } from '../bridge/python.js';
import type { ExperimentSpec } from './spec.js';

export const TEMPLATE = 'fairseq-train.njk';

export function templateDir(): string {
  return join(packageRoot(), 'experiments', 'templates');
}

/** Quotes a word for a POSIX shell when it needs it: abc -> abc, (0.9, 0.98) -> '(0.9, 0.98)'. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_\-.,/:=@+%]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Splits one line of shell words: bare words, '...' (literal), "..." (backslash escapes \" and \\),
 * backslash-escaped characters; adjacent pieces join into one word. No variables, globs or operators:
 * the template only ever writes quoted literals.
 */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let has = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === ' ' || c === '\t') {
      if (has) words.push(cur);
      cur = '';
      has = false;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unclosed ' in: ${line}`);
      cur += line.slice(i + 1, end);
      has = true;
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && (line[j + 1] === '"' || line[j + 1] === '\\')) j++;
        cur += line[j];
      }
      if (j >= line.length) throw new Error(`unclosed " in: ${line}`);
      has = true;
      i = j;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      has = true;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has) words.push(cur);
  return words;
}

let env: nunjucks.Environment | undefined;

function environment(): nunjucks.Environment {
  if (env) return env;
  // Not HTML: no autoescaping. throwOnUndefined: a misspelt variable in the template fails loudly.
  env = new nunjucks.Environment(new nunjucks.FileSystemLoader(templateDir(), { noCache: true }), {
    autoescape: false,
    throwOnUndefined: true,
    trimBlocks: true,
    lstripBlocks: true,
  });
  env.addFilter('q', (v: unknown) => shellQuote(String(v)));
  return env;
}

export interface RenderContext {
  /** Run folder: --save-dir. */
  saveDir: string;
  fairseqTrain?: string;
  userDir?: string;
  /** More template variables (a fine-tuning run's checkpoint of the pre-trained model ...). */
  vars?: Record<string, unknown>;
}

/** What a template renders: a resolved spec (pre-training or fine-tuning); `model` and `fairseq_args` may be absent. */
export type RenderableSpec = object & { model?: object; fairseq_args?: string[] };

export interface RenderedCommand {
  /** argv[0] is the fairseq-train executable. */
  argv: string[];
  /** The rendered lines: one argument or flag-and-value each, shell-quoted. */
  lines: string[];
}

/** Renders a template (default: the pre-training command) for a resolved spec. */
export function renderCommand(
  spec: ExperimentSpec | RenderableSpec,
  ctx: RenderContext,
  template = TEMPLATE,
): RenderedCommand {
  const s = spec as RenderableSpec;
  const vars = {
    ...spec,
    model: s.model ?? {},
    fairseq_args: s.fairseq_args ?? [],
    fairseq_train: ctx.fairseqTrain ?? fairseqTrainBin(),
    user_dir: ctx.userDir ?? pluginDir(),
    save_dir: ctx.saveDir,
    ...(ctx.vars ?? {}),
  };
  const text = environment().render(template, vars);
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const argv = lines.flatMap((l) => shellWords(l));
  return { argv, lines };
}

/** command.txt: the environment and the command as one pasteable shell command, a line per argument. */
export function commandText(cmd: RenderedCommand, envVars: Record<string, string> = {}): string {
  const envLine = Object.entries(envVars).map(([k, v]) => `${k}=${shellQuote(v)}`);
  const parts = envLine.length ? [envLine.join(' '), ...cmd.lines] : cmd.lines;
  return parts.join(' \\\n  ') + '\n';
}
