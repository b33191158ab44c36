/**
 * Headless Chromium (Debian's /usr/bin/chromium, installed by scripts/setup.sh) for the report tests:
 * open a page, let its scripts run, read the DOM back. No network, a fresh profile per call.
 */
import { execFileSync } from 'node:child_process';

export const CHROMIUM = '/usr/bin/chromium';

/** Opens an HTML file in headless Chromium and returns the DOM after its scripts ran. */
export function dumpDom(file: string, profile: string): string {
  return execFileSync(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
      '--dump-dom',
      `file://${file}`,
    ],
    { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'ignore'] },
  );
}

/** The page's own verdict (data-render-check on <html>), and the figures marked rendered. */
export function renderCheck(dom: string): {
  plots: number;
  plotsRendered: number;
  tables: number;
  tablesRendered: number;
  marked: string[];
} {
  const m = /data-render-check="([^"]+)"/.exec(dom);
  if (!m) throw new Error('the page did not run its check script');
  const check = JSON.parse(m[1].replace(/&quot;/g, '"')) as {
    plots: number;
    plotsRendered: number;
    tables: number;
    tablesRendered: number;
  };
  const marked = [...dom.matchAll(/data-plot="([^"]+)" data-rendered="yes"/g)].map((x) => x[1]);
  return { ...check, marked };
}
