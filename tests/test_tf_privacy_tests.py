"""mlprivacy_build.tf_privacy_tests (`make test-tf-privacy`): how its verdict is reached.

The run itself (TF Privacy's own test files, about 7 minutes) is `make test-tf-privacy`."""

from __future__ import annotations

from pathlib import Path

from mlprivacy_build import tf_privacy_tests as t

JUNIT = """<?xml version="1.0"?><testsuites><testsuite>
<testcase classname=".GradNormTest" name="test_gradient_norms_on_various_models64">
  <failure message="AttributeError: module 'numpy' has no attribute 'product'"/></testcase>
<testcase classname=".GradNormTest" name="test_gradient_norms_on_various_models0"/>
<testcase classname=".TestScoreOffset" name="test_offset"/>
<testcase classname=".TestSkipped" name="test_tpu"><skipped message="no TPU"/></testcase>
{extra}
</testsuite></testsuites>"""


def write(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "junit.xml"
    path.write_text(JUNIT.format(extra=extra))
    return path


def test_known_failures_pass_and_stale_entries_are_reported(tmp_path):
    results = t.outcomes(write(tmp_path))
    assert results["GradNormTest::test_gradient_norms_on_various_models0"] == ("passed", "")
    assert results["TestSkipped::test_tpu"][0] == "skipped"
    bad, stale = t.verdict(results)
    assert bad == []
    # The other known failures did not happen in this run: they would have to be removed.
    assert [k.test for k in stale] == [k.test for k in t.KNOWN_FAILURES[1:]]


def test_an_unknown_failure_or_a_known_test_failing_otherwise_is_unexpected(tmp_path):
    extra = (
        '<testcase classname=".TestScoreOffset" name="test_new"><error message="boom"/></testcase>'
        '<testcase classname=".GradNormTest" name="test_gradient_norms_on_various_models65">'
        '<failure message="AssertionError: norms differ"/></testcase>'
    )
    bad, _ = t.verdict(t.outcomes(write(tmp_path, extra)))
    assert bad == [
        "TestScoreOffset::test_new",
        "GradNormTest::test_gradient_norms_on_various_models65",
    ]


def test_every_test_file_ships_in_the_installed_tf_privacy():
    privacy = t.package_dir()
    assert all((privacy / f).is_file() for f in t.TEST_FILES)
