/**
 * Issue 11 review item 5: docs/own-data.md followed literally, from the user's own folder: a spec
 * argument not found relative to the working folder is looked up among the specs shipped in
 * experiments/ (and the file used is said); otherwise the error names the path as typed, with
 * "did you mean" among the shipped specs.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ALERT_COLUMN_NAMES } from '../ts/earlydetect/convert.js';
import { join } from 'node:path';
import { netflowgen as cli } from './helpers/cli.js';
import { useTempDir } from './helpers/tmp.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('spec arguments from any folder (issue 11 review item 5)', function () {
  this.timeout(120_000);
  const tmp = useTempDir();

  it('pretrain experiments/pretrain/tiny.json from another folder uses the shipped spec and says so', async () => {
    const r = await cli(['pretrain', 'experiments/pretrain/tiny.json', '--dataset', 'binned', '--dry-run'], tmp.dir);
    expect(r.exitCode, r.stderr).to.equal(0);
    expect(r.stderr).to.contain(
      `experiments/pretrain/tiny.json is not in ${tmp.dir}; using the spec shipped with netflowgen: ${join(root, 'experiments/pretrain/tiny.json')}`,
    );
    expect(r.stdout).to.contain('fairseq-train').and.to.contain(join(tmp.dir, 'binned'));
  });

  it('a misspelt spec is named as typed, with "did you mean" among the shipped specs (pretrain, finetune, sweep)', async () => {
    const p = await cli(['pretrain', 'experiments/pretrain/tinyy.json', '--dry-run'], tmp.dir);
    expect(p.exitCode).to.equal(1);
    expect(p.stderr)
      .to.match(/^netflowgen: experiments\/pretrain\/tinyy\.json: no such spec file/)
      .and.to.contain('did you mean experiments/pretrain/tiny.json?');
    expect(p.stderr).not.to.contain(join(tmp.dir, 'experiments'));
    const f = await cli(['finetune', 'experiments/finetune/tff.json', '--dry-run'], tmp.dir);
    expect(f.exitCode).to.equal(1);
    expect(f.stderr)
      .to.contain('experiments/finetune/tff.json: no such spec file')
      .and.to.contain('did you mean experiments/finetune/tf.json?');
    const s = await cli(['sweep', 'experiments/sweeps/tinyy.json', '--table-only'], tmp.dir);
    expect(s.exitCode).to.equal(1);
    expect(s.stderr)
      .to.contain('experiments/sweeps/tinyy.json: no such spec file')
      .and.to.contain('did you mean experiments/sweeps/tiny.json?');
  });

  it('a spec found nowhere is named as typed', async () => {
    const r = await cli(['pretrain', 'own.json', '--dry-run'], tmp.dir);
    expect(r.exitCode).to.equal(1);
    expect(r.stderr).to.contain('own.json: no such spec file');
  });
});

describe('docs/own-data.md documents the alert export CSV (issue 11 review item 5)', () => {
  it('a row per field of alerts-convert, with every column name it recognises', () => {
    const doc = readFileSync(join(root, 'docs/own-data.md'), 'utf8');
    for (const [field, names] of Object.entries(ALERT_COLUMN_NAMES)) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${field}\` |`));
      expect(row, field).to.be.a('string');
      expect(
        row!
          .split('|')[3]
          .split(',')
          .map((n) => n.trim()),
        field,
      ).to.deep.equal(names);
    }
  });
});
