// The JS oracle worker with one failure, for tests/harness/test_js_oracles.py: the real worker
// (harness/oracles/js/worker.mjs), except that the first request after which the flag file named by
// $WIRECHECK_TEST_FAULT_FLAG does not exist yet creates it and then, per $WIRECHECK_TEST_FAULT:
// "die" exits the process (code 3) without answering; "hang" never answers that request. With
// $WIRECHECK_TEST_FAULT set and no flag file named, every request fails so.
import { existsSync, writeFileSync } from "node:fs";
import { serve } from "../../../harness/oracles/js/worker.mjs";

const flag = process.env.WIRECHECK_TEST_FAULT_FLAG;
const fault = process.env.WIRECHECK_TEST_FAULT;

await serve(process.argv[2], () => {
  if (!fault || (flag && existsSync(flag))) return null;
  if (flag) writeFileSync(flag, fault);
  if (fault === "die") process.exit(3);
  return "handled"; // hang: no answer, ever
});
