/**
 * Usage errors the way a user can act on them: a misspelt option, command, choice or preset gets
 * "did you mean" and the list of what exists, without the whole help page.
 */
import type { CommandModule } from 'yargs';
import yargs from 'yargs';
import { closest } from '../common/suggest.js';

export { closest, didYouMean, editDistance } from '../common/suggest.js';

interface CommandOptions {
  /** Long option names (no aliases), in the order the command declares them. */
  names: string[];
  /** Short flags: name -> alias. */
  short: Record<string, string>;
  choices: Record<string, string[]>;
}

/** What a command accepts, read from its builder on a throwaway parser. */
export function commandOptions(cmd: CommandModule<object, object>): CommandOptions {
  const y = yargs([]);
  const built = (typeof cmd.builder === 'function' ? cmd.builder(y as never) : y) ?? y;
  const o = (
    built as unknown as {
      getOptions(): {
        key: Record<string, unknown>;
        alias: Record<string, string[]>;
        choices: Record<string, string[]>;
      };
    }
  ).getOptions();
  const aliases = new Set(Object.values(o.alias).flat());
  const names = Object.keys(o.key).filter((k) => !aliases.has(k) && k !== 'version' && k !== '$0');
  const short: Record<string, string> = {};
  for (const [k, al] of Object.entries(o.alias)) for (const a of al) if (a.length === 1) short[k] = a;
  return { names, short, choices: o.choices };
}

function commandName(cmd: CommandModule<object, object>): string {
  return String(Array.isArray(cmd.command) ? cmd.command[0] : cmd.command).split(' ')[0];
}

/**
 * The message for a usage error of yargs (`msg`), given the command line and the commands: the
 * error, a suggestion, what exists, and where the full help is. Null when it is not a usage error.
 */
export function usageError(
  msg: string,
  argv: readonly string[],
  commands: readonly CommandModule<object, object>[],
): string {
  const names = commands.map(commandName);
  const given = argv.find((a) => !a.startsWith('-'));
  const cmd = commands.find((c) => commandName(c) === given);
  const who = cmd ? `netflowgen ${given}` : 'netflowgen';
  const help = cmd ? `netflowgen ${given} --help` : 'netflowgen --help';
  const lines: string[] = [];
  const unknown = /^Unknown arguments?: (.*)$/.exec(msg);
  if (!cmd && given !== undefined && (unknown || /^Did you mean/.test(msg))) {
    const s = closest(given, names);
    lines.push(
      `${who}: unknown command '${given}'${s ? `; did you mean '${s}'?` : ''}`,
      `commands: ${names.join(', ')}`,
    );
  } else if (unknown) {
    const words = unknown[1].split(', ');
    if (!cmd) {
      const w = words[0];
      const s = closest(w, names);
      lines.push(`${who}: unknown command '${w}'${s ? `; did you mean '${s}'?` : ''}`, `commands: ${names.join(', ')}`);
    } else {
      const opts = commandOptions(cmd);
      for (const w of words) {
        const dash = w.length === 1 ? `-${w}` : `--${w}`;
        if (!argv.some((a) => a === dash || a.startsWith(`${dash}=`))) {
          // a stray positional word
          lines.push(`${who}: unexpected argument '${w}'`);
          continue;
        }
        const s = closest(w, opts.names);
        lines.push(`${who}: unknown option ${dash}${s ? `; did you mean --${s}?` : ''}`);
      }
      lines.push(
        `options: ${opts.names
          .filter((n) => n !== 'help')
          .map((n) => `--${n}${opts.short[n] ? ` (-${opts.short[n]})` : ''}`)
          .join(', ')}`,
      );
    }
  } else {
    const invalid = /Argument: (\S+), Given: "([^"]*)", Choices: (.*)/.exec(msg);
    if (invalid) {
      const choices = invalid[3].split(', ').map((c) => c.replace(/^"|"$/g, ''));
      const s = closest(invalid[2], choices);
      lines.push(
        `${who}: --${invalid[1]} '${invalid[2]}' is not one of the choices${s ? `; did you mean '${s}'?` : ''}`,
        `choices: ${choices.join(', ')}`,
      );
    } else lines.push(`${who}: ${msg.replace(/\n\s*/g, ' ')}`);
  }
  lines.push(`(${help} shows every option)`);
  return lines.join('\n');
}

/**
 * Makes a yargs parser answer usage errors with `usageError` (no help page), exit status 1. The
 * commands it knows are those given to `.command()` afterwards.
 */
export function withUsageErrors<T>(y: T): T {
  const parser = y as unknown as {
    command(...a: unknown[]): unknown;
    fail(f: (msg: string | null, err: Error | null) => void): unknown;
  };
  const commands: CommandModule<object, object>[] = [];
  const register = parser.command.bind(parser);
  parser.command = (...a: unknown[]) => {
    if (a.length === 1 && typeof a[0] === 'object') commands.push(a[0] as CommandModule<object, object>);
    register(...a);
    return parser;
  };
  parser.fail((msg, err) => {
    if (err && !msg) {
      process.stderr.write(`netflowgen: ${process.env.NETFLOWGEN_DEBUG ? err.stack : err.message}\n`);
    } else {
      process.stderr.write(usageError(msg ?? String(err), process.argv.slice(2), commands) + '\n');
    }
    process.exit(1);
  });
  return y;
}
