import { createReadStream, readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { detect, type DetectionMatch } from '../detect/detector.ts';
import { readEventLines } from '../detect/event-lines.ts';
import type { SkippedLine } from '../replay/event-log.ts';
import { loadRules } from '../detect/rule-source.ts';
import { HitCounter } from '../detect/summary.ts';
import { RelayError } from '../errors.ts';
import { parseCommandLine, unreadable, UsageError, type Command } from './command.ts';

const usage = `usage: kube-audit-relay detect [FILE|-] [--json] [--summary] [--rules FILE]

Runs the project's detections (detections/rules.yaml) over audit events and prints every match: rule id, severity,
auditID, user, verb and object (never the events' content). Reads JSON lines from FILE or stdin (-, the default):
the API server's audit.log, serve's output, or one EventList per line.

flags:
  --json          one JSON object per match instead of a text line
  --summary       after the matches, a markdown table of matches per rule and the share of events
  --rules FILE    a rule source to use instead of the shipped one (same format as detections/rules.yaml)
  -h, --help      this text

Exit code 0 whether or not anything matched; 1 when a line held no audit event (its number is printed on stderr).`;

const text = (match: DetectionMatch) => [match.time ?? '-', match.severity, match.rule, match.user || '-', match.verb, match.object || '-', `auditID=${match.auditID}`].join(' ');

/** `kube-audit-relay detect`: the detections, locally. */
export const detectCommand: Command = {
  name: 'detect',
  summary: 'run the detections over audit JSON lines and print the matches',
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandLine(args, { json: { type: 'boolean' }, summary: { type: 'boolean' }, rules: { type: 'string' } }, { positionals: true });
    if (positionals.length > 1) throw new UsageError(`give at most one FILE, got ${positionals.length}`);
    const rules = values.rules === undefined ? loadRules() : loadRules(readRules(values.rules), values.rules);
    const file = positionals[0] ?? '-';
    const input: Readable = file === '-' ? io.stdin : createReadStream(file);
    const unreadable: SkippedLine[] = [];
    const counter = new HitCounter(rules);
    try {
      for await (const event of readEventLines(input, (problem) => unreadable.push(problem))) {
        const matches = detect(rules, event);
        counter.add(matches);
        for (const match of matches) io.stdout.write(`${values.json ? JSON.stringify(match) : text(match)}\n`);
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === undefined) throw error;
      throw new RelayError(`cannot read ${file}: ${code}; check the path given as FILE`, { cause: error });
    }
    if (values.summary) io.stdout.write(`\n${counter.table()}\n`);
    for (const problem of unreadable.slice(0, 20)) io.stderr.write(`kube-audit-relay detect: ${file} line ${problem.line} skipped: ${problem.reason}\n`);
    if (unreadable.length > 20) io.stderr.write(`kube-audit-relay detect: ${unreadable.length - 20} more lines skipped\n`);
    return unreadable.length > 0 ? 1 : 0;
  },
};

function readRules(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw unreadable('--rules', path, error);
  }
}
