"""``--junit FILE``: JUnit XML for CI, written with ``xml.etree`` (no pytest needed).

One ``<testcase>`` per (case, provider), ``classname`` the case's family and provider, with
``<properties>`` ``case_id``, ``provider``, ``variant``, ``method`` and ``clause``. A fail is a ``<failure>`` whose
text is the readable diff; error and mock-infidelity are ``<error>``s (typed apart); not-applicable and
expected-failure are ``<skipped>`` with their reason. Scrubbed of secrets.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from harness.report import scrub
from harness.report.terminal import failure_text
from harness.verdicts import RunResult, Verdict

__all__ = ["render", "write"]


def render(run: RunResult) -> bytes:
    counts = run.counts()
    suites = ET.Element("testsuites", name="wirecheck")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name="wirecheck",
        tests=str(len(run.results)),
        failures=str(counts.get(Verdict.FAIL, 0)),
        errors=str(counts.get(Verdict.ERROR, 0) + counts.get(Verdict.MOCK_INFIDELITY, 0)),
        skipped=str(counts.get(Verdict.NOT_APPLICABLE, 0) + counts.get(Verdict.EXPECTED_FAILURE, 0)),
        time=f"{run.duration:.3f}",
    )
    for r in run.results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"wirecheck.{r.family or 'case'}.{r.provider}",
            name=r.name,
            time=f"{r.duration:.3f}",
        )
        props = ET.SubElement(case, "properties")
        clause = r.clause or {}
        clause_text = f"{clause.get('spec', '')}: {clause.get('ref', '')}" + (
            f" <{clause['url']}>" if clause.get("url") else ""
        )
        for name, value in (
            ("case_id", r.case_id),
            ("provider", r.provider),
            ("variant", r.variant),
            ("method", r.method),
            ("clause", clause_text),
            ("level", r.level),
            ("profile", r.profile),
            ("verdict", str(r.verdict)),
        ):
            ET.SubElement(props, "property", name=name, value=value)
        text = failure_text(r)
        if r.verdict is Verdict.FAIL:
            node = ET.SubElement(case, "failure", message=r.summary()[:500], type="fail")
            node.text = text
        elif r.verdict in (Verdict.ERROR, Verdict.MOCK_INFIDELITY):
            node = ET.SubElement(case, "error", message=r.summary()[:500], type=str(r.verdict))
            node.text = text
        elif r.verdict in (Verdict.NOT_APPLICABLE, Verdict.EXPECTED_FAILURE):
            ET.SubElement(case, "skipped", message=f"{r.verdict}: {r.summary()}"[:500])
    ET.indent(suites)
    data = ET.tostring(suites, encoding="unicode", xml_declaration=False)
    data = scrub(data, run.secrets)
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + data + "\n").encode("utf-8")


def write(run: RunResult, path: str | Path) -> None:
    Path(path).write_bytes(render(run))
