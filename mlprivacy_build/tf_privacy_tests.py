"""TF Privacy's own tests for the modules the series uses, against the installed stack.

TensorFlow Privacy 0.8.12 runs here outside the versions its metadata declares (Python <3.12,
TensorFlow 2.15; see requirements-no-deps.txt). That is safe only while its own tests of the
modules we use pass on our stack, so ``make test-tf-privacy`` runs them: the test files that
ship in its wheel for the membership inference attacks, the Secret Sharer, fast gradient
clipping, ``DPModel`` and the DP-SGD privacy statement, under pytest with our switches set
(``-p mlprivacy_helpers``: tf.keras as Keras 2, TF Privacy's ``skip_tf_privacy_import``).

``KNOWN_FAILURES`` lists the tests known to fail on our stack, each with its reason (all are
the tests' own code, not the modules we use); any other failure or error fails the run, and
so does a known failure that passes (the list must then shrink). Run after every change of
requirements-lock.txt and weekly (.github/workflows/weekly.yml).

Usage: mlprivacy-tf-privacy-tests [-n WORKERS] [--junit FILE]
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Test files (relative to tensorflow_privacy/privacy/) of the modules the series imports.
TEST_FILES = (
    "privacy_tests/membership_inference_attack/advanced_mia_test.py",
    "privacy_tests/membership_inference_attack/data_structures_test.py",
    "privacy_tests/membership_inference_attack/dataset_slicing_test.py",
    "privacy_tests/membership_inference_attack/keras_evaluation_test.py",
    "privacy_tests/membership_inference_attack/membership_inference_attack_test.py",
    "privacy_tests/membership_inference_attack/models_test.py",
    "privacy_tests/membership_inference_attack/privacy_report_test.py",
    "privacy_tests/secret_sharer/exposures_test.py",
    "privacy_tests/secret_sharer/generate_secrets_test.py",
    "fast_gradient_clipping/clip_grads_test.py",
    "fast_gradient_clipping/gradient_clipping_utils_test.py",
    "fast_gradient_clipping/registry_functions/dense_test.py",
    "fast_gradient_clipping/registry_functions/embedding_test.py",
    "fast_gradient_clipping/registry_functions/einsum_utils_test.py",
    "fast_gradient_clipping/registry_functions/layer_normalization_test.py",
    "keras_models/dp_keras_model_test.py",
    "analysis/compute_dp_sgd_privacy_test.py",
)


@dataclass(frozen=True)
class KnownFailure:
    """Tests (``Class::test``, a prefix matches) known to fail here with ``message`` (a part of
    the failure's message), and why that does not concern the series."""

    test: str
    message: str
    reason: str


KNOWN_FAILURES = (
    KnownFailure(
        "GradNormTest::test_gradient_norms_on_various_models",
        "module 'numpy' has no attribute 'product'",
        "the test's own helper calls np.product, removed in NumPy 2.0 (np.prod); the "
        "parameterisations that do not reach it pass",
    ),
    KnownFailure(
        "ComputeClippedGradsAndOutputsTest::test_clipped_gradients_on_different_losses",
        "not less than or equal to 0.1",
        "the clipped gradient's norm is 0.1 plus one float32 rounding step (0.10000001) and the "
        "test compares with <= 0.1 exactly",
    ),
    KnownFailure(
        "ComputeDpSgdPrivacyTest::test_compute_dp_sgd_",
        "within 7 places",
        "its expected epsilons were computed with dp-accounting 0.4.3 (TF Privacy's pin); 0.6.0's "
        "RDP accountant differs from the 5th significant digit on (3.2392677 vs 3.2391922, "
        "22.62 vs 22.60 with microbatches); the series computes its epsilons with dp-accounting "
        "itself",
    ),
)


def package_dir() -> Path:
    """Return the installed ``tensorflow_privacy/privacy`` folder."""
    spec = importlib.util.find_spec("tensorflow_privacy")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("tensorflow_privacy is not installed (make venv installs it)")
    return Path(next(iter(spec.submodule_search_locations))) / "privacy"


def outcomes(junit: Path) -> dict[str, tuple[str, str]]:
    """Return {``Class::test``: (outcome, message)} from a pytest junit file; the outcome is
    "passed", "failed", "error" or "skipped"."""
    results = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        test_id = f"{case.get('classname', '').split('.')[-1]}::{case.get('name')}"
        found = [c for c in case if c.tag in ("failure", "error", "skipped")]
        if not found:
            results[test_id] = ("passed", "")
        else:
            kind = {"failure": "failed"}.get(found[0].tag, found[0].tag)
            results[test_id] = (kind, found[0].get("message") or "")
    return results


def known(test_id: str, message: str) -> KnownFailure | None:
    """Return the known failure that ``test_id`` failing with ``message`` is, or ``None``."""
    return next(
        (k for k in KNOWN_FAILURES if test_id.startswith(k.test) and k.message in message), None
    )


def verdict(results: dict[str, tuple[str, str]]) -> tuple[list[str], list[KnownFailure]]:
    """Return (unexpected failures, known failures that no longer happen) of ``results``."""
    failed = {t: m for t, (r, m) in results.items() if r in ("failed", "error")}
    bad = [t for t, m in failed.items() if known(t, m) is None]
    seen = {known(t, m) for t, m in failed.items()}
    return bad, [k for k in KNOWN_FAILURES if k not in seen]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--workers", default="2", help="pytest-xdist workers (0: none)")
    parser.add_argument("--junit", type=Path, default=None)
    args = parser.parse_args(argv)
    privacy = package_dir()
    missing = [f for f in TEST_FILES if not (privacy / f).is_file()]
    if missing:
        print(f"not in the installed TF Privacy: {missing}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "pytest.ini").write_text("[pytest]\n")
        junit = args.junit or work / "junit.xml"
        start = time.perf_counter()
        run = subprocess.run(
            # -p mlprivacy_helpers: importing the package first sets the switches.
            [
                sys.executable,
                "-m",
                "pytest",
                *(str(privacy / f) for f in TEST_FILES),
                "-c",
                str(work / "pytest.ini"),
                "-p",
                "mlprivacy_helpers",
                "-p",
                "no:cacheprovider",
                "-q",
                "-n",
                args.workers,
                f"--junitxml={junit}",
            ],  # fmt: skip
            cwd=work,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - start
        if not junit.is_file():
            print(run.stdout[-4000:] + run.stderr[-4000:], file=sys.stderr)
            return 1
        results = outcomes(junit)
    counts = {kind: sum(r == kind for r, _ in results.values()) for kind in ("passed", "failed",
              "error", "skipped")}  # fmt: skip
    bad, fixed = verdict(results)
    print(
        f"TF Privacy's own tests of the modules the series uses: {counts['passed']} passed, "
        f"{counts['failed']} failed, {counts['error']} errors, {counts['skipped']} skipped, "
        f"in {seconds:.0f} s ({len(TEST_FILES)} files)"
    )
    for k in KNOWN_FAILURES:
        n = sum(r in ("failed", "error") and known(t, m) is k for t, (r, m) in results.items())
        if n:
            print(f"  known, {n} x {k.test}: {k.reason}")
    for test_id in bad:
        outcome, message = results[test_id]
        print(f"UNEXPECTED {outcome.upper()}: {test_id}: {message[:300]}", file=sys.stderr)
    for k in fixed:
        print(f"no longer fails, remove from KNOWN_FAILURES: {k.test}", file=sys.stderr)
    if bad:
        print(run.stdout[-6000:], file=sys.stderr)
    return 1 if bad or fixed else 0


if __name__ == "__main__":
    sys.exit(main())
