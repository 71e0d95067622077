//! JUnit XML for `verify --format junit`: one testsuite per section of each
//! migration's checks, one testcase per check (reports are not checks and are
//! left out; a skipped check is a skipped testcase).

use anyhow::Result;
use mantis_migrate::verify::{CheckResult, Outcome};
use mantis_migrate::VerifyRun;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

/// The whole document, for one migration's checks or several.
pub fn render(runs: &[VerifyRun]) -> Result<String> {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let tests: usize = runs.iter().map(|r| r.report.checks().count()).sum();
    let failures: usize = runs.iter().map(|r| r.report.failures().count()).sum();
    let name = match runs {
        [one] => suite_name(one),
        _ => "schema".to_string(),
    };
    let mut root = BytesStart::new("testsuites");
    root.push_attribute(("name", name.as_str()));
    root.push_attribute(("tests", tests.to_string().as_str()));
    root.push_attribute(("failures", failures.to_string().as_str()));
    writer.write_event(Event::Start(root))?;
    for run in runs {
        sections(&mut writer, run)?;
    }
    writer.write_event(Event::End(BytesEnd::new("testsuites")))?;
    let mut text = String::from_utf8(writer.into_inner())?;
    text.push('\n');
    Ok(text)
}

fn suite_name(run: &VerifyRun) -> String {
    format!("{:03}_{}", run.version, run.name)
}

/// One testsuite per section of `run`'s checks.
fn sections(writer: &mut Writer<Vec<u8>>, run: &VerifyRun) -> Result<()> {
    let suite_name = suite_name(run);
    let checks: Vec<&CheckResult> = run.report.checks().collect();
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
        let name = format!("{suite_name} {section}");
        suite.push_attribute(("name", name.as_str()));
        suite.push_attribute(("tests", members.len().to_string().as_str()));
        let failures = members.iter().filter(|c| c.fails_suite()).count();
        suite.push_attribute(("failures", failures.to_string().as_str()));
        writer.write_event(Event::Start(suite))?;
        for check in members {
            testcase(writer, &suite_name, check)?;
        }
        writer.write_event(Event::End(BytesEnd::new("testsuite")))?;
    }
    Ok(())
}

fn testcase(writer: &mut Writer<Vec<u8>>, suite: &str, result: &CheckResult) -> Result<()> {
    let mut case = BytesStart::new("testcase");
    let classname = format!("{suite}.{}", result.check.section);
    case.push_attribute(("classname", classname.as_str()));
    case.push_attribute(("name", result.check.name.as_str()));
    let time = format!("{:.3}", result.duration_ms as f64 / 1000.0);
    case.push_attribute(("time", time.as_str()));
    if let Outcome::Skipped { reason } = &result.outcome {
        writer.write_event(Event::Start(case))?;
        let mut skipped = BytesStart::new("skipped");
        skipped.push_attribute(("message", reason.as_str()));
        writer.write_event(Event::Empty(skipped))?;
        writer.write_event(Event::End(BytesEnd::new("testcase")))?;
        return Ok(());
    }
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
