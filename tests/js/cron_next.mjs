// The next fire times of cron expressions according to croner, the independent
// implementation tests/integration/cron_crosscheck_test.cpp compares plexus_schedule to.
//
//   node cron_next.mjs [--count N] < cases.json
//
// stdin: [{"expression": "*/5 * * * *", "zone": "Europe/Berlin", "from": "2025-03-30T00:59:59Z"}, ...]
// stdout: one entry per case, in order: {"runs": ["2025-03-30T01:00:00Z", ...]} with the
// next N (default 5) fire times strictly after "from", in UTC, or {"error": "..."}.
// croner runs with its defaults (day-of-month OR day-of-week, fixedTimeRule "single-value").
import { Cron } from "croner";

const countFlag = process.argv.indexOf("--count");
const count = countFlag === -1 ? 5 : Number(process.argv[countFlag + 1]);

let input = "";
for await (const chunk of process.stdin) input += chunk;

const results = JSON.parse(input).map(({ expression, zone, from }) => {
  try {
    const cron = new Cron(expression, { timezone: zone });
    const runs = cron.nextRuns(count, new Date(from));
    return { runs: runs.map((run) => run.toISOString().replace(/\.\d{3}Z$/, "Z")) };
  } catch (error) {
    return { error: String(error.message ?? error) };
  }
});
process.stdout.write(JSON.stringify(results) + "\n");
