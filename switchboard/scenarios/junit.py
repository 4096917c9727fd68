"""A run's results as JUnit XML, the format CI systems read: one <testsuite> per platform, one
<testcase> per scenario (time = its turns' latency), <failure> with every failed check's message,
<error> when the platform could not hold the conversation, <skipped> when it was not run."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from switchboard.scenarios.runner import PairResult


def junit_xml(results: list[PairResult], *, name: str = "switchboard scenarios") -> str:
    root = ET.Element("testsuites", name=name, tests=str(len(results)),
                      failures=str(sum(r.outcome == "failed" for r in results)),
                      errors=str(sum(r.outcome == "error" for r in results)))
    for platform in dict.fromkeys(r.platform for r in results):
        mine = [r for r in results if r.platform == platform]
        suite = ET.SubElement(root, "testsuite", name=platform, tests=str(len(mine)),
                              failures=str(sum(r.outcome == "failed" for r in mine)),
                              errors=str(sum(r.outcome == "error" for r in mine)),
                              skipped=str(sum(r.outcome == "not_run" for r in mine)),
                              time=f"{sum(sum(r.turn_latency_ms) for r in mine) / 1000:.3f}")
        for r in mine:
            case = ET.SubElement(suite, "testcase", classname=f"scenarios.{platform}", name=r.scenario,
                                 time=f"{sum(r.turn_latency_ms) / 1000:.3f}")
            if r.outcome == "failed":
                messages = [c.message or c.check for c in r.failures]
                failure = ET.SubElement(case, "failure", message=messages[0], type="check failed")
                failure.text = "\n".join(messages)
            elif r.outcome == "error":
                ET.SubElement(case, "error", message=r.error or "error", type="platform")
            elif r.outcome == "not_run":
                ET.SubElement(case, "skipped", message=r.error or "not run")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
