/** `netflowgen report`: render the report of a finished `netflowgen reproduce` again, training nothing. */
import type { CommandModule } from 'yargs';
import { rerenderReport } from '../reproduce/reproduce.js';
import { rel } from './reproduce.js';
import { runCommand } from './util.js';

interface ReportArgs {
  out: string;
}

export const reportCommand: CommandModule<object, ReportArgs> = {
  command: 'report <out>',
  describe:
    'Render the report of a finished netflowgen reproduce again (Markdown, HTML, JSON) from its stage folders; trains nothing',
  builder: (y) =>
    y
      .positional('out', {
        type: 'string',
        demandOption: true,
        describe: 'output folder of netflowgen reproduce (holds reproduce.json)',
      })
      .example('$0 report out/tiny', 'rewrite out/tiny/report/'),
  handler: runCommand(async (a) => {
    const { dir } = await rerenderReport(a.out);
    process.stdout.write(`report: ${rel(dir)}/report.html\n        ${rel(dir)}/report.md\n`);
  }),
};
