import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pinnedCores } from './pin.ts';
import { REPO_ROOT } from './processes.ts';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  date: string;
  /** 1-minute load average when the run started and ended (other work on the machine skews results). */
  loadStart: number;
  loadEnd?: number;
  commit?: string;
  /** Cores the servers and the load ran on, when the benchmark pinned them (bench/lib/pin.ts). */
  pinned?: { server: string; load: string };
}

export function machineInfo(): MachineInfo {
  let commit: string | undefined;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  } catch {
    commit = undefined;
  }
  const pinned = pinnedCores();
  return {
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    date: new Date().toISOString(),
    loadStart: Math.round(os.loadavg()[0]! * 100) / 100,
    ...(commit ? { commit } : {}),
    ...(pinned ? { pinned } : {}),
  };
}

export type Cell = string | number | boolean | null | undefined;

export interface Table {
  title: string;
  columns: string[];
  rows: Cell[][];
  notes?: string[];
}

export interface Target {
  target: string;
  measured: string;
  pass: boolean | null;
}

/** A benchmark's results: tables + targets, printed and written to bench/results/<name>.{json,md}. */
export class Report {
  readonly name: string;
  readonly command: string;
  readonly machine: MachineInfo;
  readonly params: Record<string, unknown>;
  readonly tables: Table[] = [];
  readonly targets: Target[] = [];
  readonly notes: string[] = [];
  /** Raw per-phase data for the JSON. */
  readonly data: Record<string, unknown> = {};

  constructor(name: string, command: string, params: Record<string, unknown>) {
    this.name = name;
    this.command = command;
    this.params = params;
    this.machine = machineInfo();
  }

  table(t: Table): void {
    this.tables.push(t);
    process.stdout.write(`\n${renderTable(t)}\n`);
  }

  target(target: string, measured: string, pass: boolean | null): void {
    this.targets.push({ target, measured, pass });
    const mark = pass === null ? 'n/a ' : pass ? 'PASS' : 'MISS';
    process.stdout.write(`[${mark}] ${target}: ${measured}\n`);
  }

  note(text: string): void {
    this.notes.push(text);
    process.stdout.write(`note: ${text}\n`);
  }

  markdown(): string {
    const m = this.machine;
    const lines = [
      `### ${this.name}`,
      '',
      `Command: \`${this.command}\`  `,
      `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}; ${m.date}` +
        `${m.commit ? `, commit ${m.commit}` : ''}; load average ${m.loadStart} at start, ${m.loadEnd ?? '?'} at end` +
        `${m.pinned ? `; servers pinned to core ${m.pinned.server}, load to ${m.pinned.load}` : ''}.`,
      '',
    ];
    for (const t of this.tables) lines.push(renderTable(t), '');
    if (this.targets.length) {
      lines.push(
        renderTable({
          title: 'Targets',
          columns: ['target', 'measured', 'result'],
          rows: this.targets.map((t) => [t.target, t.measured, t.pass === null ? 'n/a' : t.pass ? 'pass' : '**miss**']),
        }),
        '',
      );
    }
    if (this.notes.length) lines.push(...this.notes.map((n) => `- ${n}`), '');
    return lines.join('\n');
  }

  /**
   * End of a run (normal or cut by the watchdog): render the tables (`render`), write the JSON
   * and markdown unless a dry run, then stop the load generators (`stop`, bounded to 15 s).
   * A rendering failure is kept as a note: the raw results in the JSON survive it.
   */
  async finish(opts: { partial: boolean; dryRun: boolean; render: () => void; stop?: () => Promise<unknown> }) {
    if (opts.partial) this.note('the run hit its time bound; the tables hold what finished');
    try {
      opts.render();
    } catch (err) {
      this.note(`rendering the tables failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
    if (!opts.dryRun) this.write();
    if (opts.stop) {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((r) => {
        timer = setTimeout(r, 15_000);
      });
      await Promise.race([opts.stop(), bound]).finally(() => clearTimeout(timer));
    }
  }

  write(): { json: string; md: string } {
    this.machine.loadEnd = Math.round(os.loadavg()[0]! * 100) / 100;
    const dir = path.join(REPO_ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const json = path.join(dir, `${this.name}.json`);
    const md = path.join(dir, `${this.name}.md`);
    writeFileSync(
      json,
      `${JSON.stringify(
        {
          name: this.name,
          command: this.command,
          machine: this.machine,
          params: this.params,
          tables: this.tables,
          targets: this.targets,
          notes: this.notes,
          data: this.data,
        },
        null,
        2,
      )}\n`,
    );
    writeFileSync(md, `${this.markdown()}\n`);
    process.stdout.write(`\nwrote ${path.relative(process.cwd(), json)} and ${path.relative(process.cwd(), md)}\n`);
    return { json, md };
  }
}

function fmt(c: Cell): string {
  if (c === null || c === undefined) return '–';
  if (typeof c === 'number') {
    if (!Number.isFinite(c)) return '–';
    if (Number.isInteger(c)) return c.toLocaleString('en-US');
    const abs = Math.abs(c);
    return abs >= 100 ? c.toFixed(0) : abs >= 10 ? c.toFixed(1) : abs >= 1 ? c.toFixed(2) : c.toFixed(3);
  }
  if (typeof c === 'boolean') return c ? 'yes' : 'no';
  return c.replace(/\|/g, '\\|');
}

export function renderTable(t: Table): string {
  const head = `| ${t.columns.join(' | ')} |`;
  const sep = `| ${t.columns.map(() => '---').join(' | ')} |`;
  const rows = t.rows.map((r) => `| ${r.map(fmt).join(' | ')} |`);
  const out = [`#### ${t.title}`, '', head, sep, ...rows];
  if (t.notes?.length) out.push('', ...t.notes.map((n) => `_${n}_`));
  return out.join('\n');
}

/** Several runs of one figure as one cell: "median (min–max)". */
export function spreadCell(values: readonly (number | null | undefined)[]): Cell {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const med = v[Math.floor((v.length - 1) / 2)]!;
  const f = (x: number) => String(fmt(x));
  if (v.length === 1 || f(v[0]!) === f(v.at(-1)!)) return f(med);
  return `${f(med)} (${f(v[0]!)}–${f(v.at(-1)!)})`;
}

/** The run numbers among results (each run on newly started servers), ascending; results from before runs were numbered count as run 1. */
export function runsOf(rows: readonly { run?: number | undefined }[]): number[] {
  return [...new Set(rows.map((r) => r.run ?? 1))].sort((a, b) => a - b);
}

export const MiB = 2 ** 20;
export const mib = (bytes: number): number => Math.round((bytes / MiB) * 10) / 10;

/** Where a carried-over phase's results come from: the run that measured them. */
export interface PhaseSource {
  date?: string | undefined;
  command?: string | undefined;
  loadStart?: number | undefined;
  params?: Record<string, unknown> | undefined;
}

/**
 * With `--only`, phases that were not run keep their results from the previous
 * bench/results/<name>.json (noted in the report with the date and command of the run that
 * measured them — through any number of `--only` runs in between), so one phase can be rerun
 * without losing the others. `phaseKeys` maps each phase to its keys in `results`. Returns the
 * source of each carried phase (its `params` for table titles that name them).
 */
export function carryOver(
  report: Report,
  only: readonly string[],
  results: Record<string, unknown>,
  phaseKeys: Record<string, readonly string[]>,
): Record<string, PhaseSource> {
  const sources: Record<string, PhaseSource> = {};
  report.data.sources = sources;
  if (only.length === 0) return sources;
  const file = path.join(REPO_ROOT, 'bench', 'results', `${report.name}.json`);
  let prev: {
    machine?: { date?: string; loadStart?: number };
    command?: string;
    params?: Record<string, unknown>;
    data?: { results?: Record<string, unknown>; sources?: Record<string, PhaseSource> };
  };
  try {
    prev = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return sources;
  }
  for (const [phase, keys] of Object.entries(phaseKeys)) {
    if (only.includes(phase)) continue;
    let any = false;
    for (const k of keys) {
      const v = prev.data?.results?.[k];
      if (Array.isArray(v) && v.length > 0) {
        results[k] = v;
        any = true;
      }
    }
    if (any)
      sources[phase] = prev.data?.sources?.[phase] ?? {
        date: prev.machine?.date,
        command: prev.command,
        loadStart: prev.machine?.loadStart,
        params: prev.params,
      };
  }
  const bySource = new Map<string, string[]>();
  for (const [phase, src] of Object.entries(sources)) {
    const key = `${src.date ?? '?'}, \`${src.command ?? '?'}\`, load average ${src.loadStart ?? '?'} at its start`;
    bySource.set(key, [...(bySource.get(key) ?? []), phase]);
  }
  for (const [key, phases] of bySource)
    report.note(`phases ${phases.join(', ')} are from an earlier run (${key}); this run did ${only.join(', ')}`);
  return sources;
}
