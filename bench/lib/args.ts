import { parseArgs } from 'node:util';

export interface BenchArgs {
  /** The full sizes (slower); default is a quick run of a few minutes. */
  full: boolean;
  /** Run only these phases (comma-separated names), all when empty. */
  only: string[];
  /** Which systems to run (comma-separated), all when empty. */
  systems: string[];
  /** Overrides of numeric parameters: --set key=value (repeatable). */
  set: Record<string, number>;
  /** Do not write bench/results (development runs). */
  dryRun: boolean;
  /** Start moim with `--cpu-prof` (profiles in bench/results/profiles/, summarised by bench/lib/profile.ts). */
  profile: boolean;
  /** Start every moim process with `node --cpu-prof` (its whole life, start-up included; written on exit to bench/results/profiles/). */
  cpuProf: boolean;
  /** `--pin` / `--no-pin`: servers on core 0, this process and its generators on the others (pin.ts); undefined: the benchmark's default. */
  pin: boolean | undefined;
}

export function benchArgs(argv = process.argv.slice(2)): BenchArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      full: { type: 'boolean', default: false },
      only: { type: 'string', default: '' },
      systems: { type: 'string', default: '' },
      set: { type: 'string', multiple: true, default: [] },
      'dry-run': { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      'cpu-prof': { type: 'boolean', default: false },
      pin: { type: 'boolean' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowNegative: true,
  });
  if (values.help) {
    process.stdout.write(
      'options: --full (issue sizes) --only=phase,phase --systems=moim,baseline --set key=value --dry-run --profile --cpu-prof --pin|--no-pin\n',
    );
    process.exit(0);
  }
  const set: Record<string, number> = {};
  for (const kv of values.set) {
    const [k, v] = kv.split('=');
    if (!k || v === undefined || !Number.isFinite(Number(v))) throw new Error(`--set expects key=number, got ${kv}`);
    set[k] = Number(v);
  }
  const list = (s: string) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  if (values.profile) process.env.BENCH_PROFILE_MOIM = '1';
  if (values['cpu-prof']) process.env.BENCH_CPU_PROF_MOIM = '1';
  return {
    full: values.full,
    only: list(values.only),
    systems: list(values.systems),
    set,
    dryRun: values['dry-run'],
    profile: values.profile,
    cpuProf: values['cpu-prof'],
    pin: values.pin,
  };
}

/** The command line that reproduces this run. */
export function commandLine(script: string, args: BenchArgs): string {
  const parts = [`npm run ${script}`];
  const extra: string[] = [];
  if (args.full) extra.push('--full');
  if (args.pin !== undefined) extra.push(args.pin ? '--pin' : '--no-pin');
  if (args.only.length) extra.push(`--only=${args.only.join(',')}`);
  if (args.systems.length) extra.push(`--systems=${args.systems.join(',')}`);
  for (const [k, v] of Object.entries(args.set)) extra.push(`--set ${k}=${v}`);
  if (extra.length) parts.push('--', ...extra);
  return parts.join(' ');
}

export const wants = (list: string[], name: string): boolean => list.length === 0 || list.includes(name);

/**
 * The parameters of a run: `quick` or, with `--full`, `full`, with each `--set key=value` applied
 * (an unknown key is an error; an array parameter becomes that one value).
 */
export function benchParams<T extends object>(args: BenchArgs, quick: T, full: T): T {
  const P = { ...(args.full ? full : quick) };
  for (const [k, v] of Object.entries(args.set)) {
    if (!(k in P)) throw new Error(`unknown parameter ${k}; known: ${Object.keys(P).join(', ')}`);
    const cur = (P as Record<string, unknown>)[k];
    (P as Record<string, unknown>)[k] = Array.isArray(cur) ? [v] : v;
  }
  return P;
}
