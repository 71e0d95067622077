//! JUnit XML for `verify --format junit`: one testsuite per section, one
//! testcase per check (reports are not checks and are left out).

use anyhow::Result;
use mantis_migrate::verify::CheckResult;
use mantis_migrate::VerifyRun;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

/// The whole document.
pub fn render(outcome: &VerifyRun) -> Result<String> {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let checks: Vec<&CheckResult> = outcome.report.checks().collect();
    let suite_name = format!("{:03}_{}", outcome.version, outcome.name);
    let mut root = BytesStart::new("testsuites");
    root.push_attribute(("name", suite_name.as_str()));
    root.push_attribute(("tests", checks.len().to_string().as_str()));
    root.push_attribute((
        "failures",
        outcome.report.failures().count().to_string().as_str(),
    ));
    writer.write_event(Event::Start(root))?;
    let mut sections: Vec<&str> = Vec::new();
    for c in &checks {
        if !sections.contains(&c.check.section.as_str()) {
            sections.push(&c.check.section);
        }
    }
    for section in sections {
        let members: Vec<&&CheckResult> = checks
            .iter()
            .filter(|c| c.check.section == section)
            .collect();
        let mut suite = BytesStart::new("testsuite");
        suite.push_attribute(("name", section));
        suite.push_attribute(("tests", members.len().to_string().as_str()));
        let failures = members.iter().filter(|c| c.fails_suite()).count();
        suite.push_attribute(("failures", failures.to_string().as_str()));
        writer.write_event(Event::Start(suite))?;
        for check in members {
            testcase(&mut writer, &suite_name, check)?;
        }
        writer.write_event(Event::End(BytesEnd::new("testsuite")))?;
    }
    writer.write_event(Event::End(BytesEnd::new("testsuites")))?;
    let mut text = String::from_utf8(writer.into_inner())?;
    text.push('\n');
    Ok(text)
}

fn testcase(writer: &mut Writer<Vec<u8>>, suite: &str, result: &CheckResult) -> Result<()> {
    let mut case = BytesStart::new("testcase");
    let classname = format!("{suite}.{}", result.check.section);
    case.push_attribute(("classname", classname.as_str()));
    case.push_attribute(("name", result.check.name.as_str()));
    let time = format!("{:.3}", result.duration_ms as f64 / 1000.0);
    case.push_attribute(("time", time.as_str()));
    let finding = result.finding();
    let Some(finding) = finding else {
        writer.write_event(Event::Empty(case))?;
        return Ok(());
    };
    writer.write_event(Event::Start(case))?;
    let element = if result.fails_suite() {
        "failure"
    } else {
        "system-out"
    };
    let mut inner = BytesStart::new(element);
    if result.fails_suite() {
        inner.push_attribute(("message", finding.as_str()));
    }
    writer.write_event(Event::Start(inner))?;
    let body = if result.fails_suite() {
        finding
    } else {
        format!("warning: {finding}")
    };
    writer.write_event(Event::Text(BytesText::new(&body)))?;
    writer.write_event(Event::End(BytesEnd::new(element)))?;
    writer.write_event(Event::End(BytesEnd::new("testcase")))?;
    Ok(())
}
