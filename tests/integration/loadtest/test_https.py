"""`lienthong load run` (and calibrate, twin) against an https hub whose certificate a private CA
issued: the harness, Locust (local and distributed) and the drain verify it, against --ca-bundle
when given. Real processes on loopback, bounded: a reference gateway serving https, a few
seconds of load."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway import GatewayConfig, GatewayProcess
from lienthong.cli import main
from lienthong.paths import ROOT
from lienthong.readings import scrape_metrics
from tests.integration.loadtest.runs import load_run
from tests.integration.tls import Pki, make_pki

pytestmark = pytest.mark.slow

SMOKE = str(ROOT / "scenarios" / "smoke.toml")
SHORT = ("--duration", "5s", "--no-prediction")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[GatewayProcess]:
    """One https gateway for the module (each run plays with DocumentIds of its own)."""
    tmp = tmp_path_factory.mktemp("https-hub")
    config = GatewayConfig(
        port=0, db=tmp / "hub.db", access_log=None, tls_cert=pki.cert, tls_key=pki.key
    )
    with GatewayProcess(config, stderr=tmp / "gateway.log") as gw:
        assert gw.url.startswith("https://")
        yield gw


def _target(hub: GatewayProcess) -> tuple[str, ...]:
    return ("--target", hub.url, "--credentials", str(hub.credentials))


# two processes (workers given the bundle with the master's options) take a long run: CI's
@pytest.mark.parametrize("processes", [1, pytest.param(2, marks=pytest.mark.long)])
def test_an_https_run_trusting_the_hubs_ca_gets_a_verdict_and_reconciles(
    tmp_path: Path, hub: GatewayProcess, pki: Pki, processes: int
) -> None:
    # with 2, Locust's workers verify too: they trust the bundle the master's options carry
    done, summary = load_run(
        tmp_path,
        SMOKE,
        *_target(hub),
        "--ca-bundle",
        str(pki.ca),
        "--processes",
        str(processes),
        *SHORT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert summary["ok"]
    r = summary["reconciliation"]
    assert r["complete"]
    assert r["expected_deliveries"] > 0
    assert r["delivered"] == r["expected_deliveries"]
    assert r["statuses_delivered"] == r["statuses_expected"]
    assert summary["parameters"]["ca_bundle"] == str(pki.ca)
    assert summary["parameters"]["processes"] == processes


def test_an_untrusted_certificate_is_refused_in_one_line_before_locust_starts(
    tmp_path: Path, hub: GatewayProcess
) -> None:
    done, summary = load_run(tmp_path, SMOKE, *_target(hub), *SHORT)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr == (
        f"lienthong: --target {hub.url}: its TLS certificate is refused: unable to get local "
        "issuer certificate; to trust a private CA, give its certificate (PEM) as --ca-bundle "
        "FILE, or set SSL_CERT_FILE to it\n"
    )
    assert summary == {}
    assert not (tmp_path / "locust.log").exists()  # Locust never started


def test_a_bundle_of_another_ca_is_refused_naming_it(tmp_path: Path, hub: GatewayProcess) -> None:
    other = make_pki(tmp_path / "other", label="other")
    out = tmp_path / "out"
    done, _ = load_run(out, SMOKE, *_target(hub), "--ca-bundle", str(other.ca), *SHORT)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr == (
        f"lienthong: --target {hub.url}: its TLS certificate is refused: unable to get local "
        f"issuer certificate; expected --ca-bundle {other.ca} to hold the certificate of the "
        "CA that issued it (PEM)\n"
    )
    assert not (out / "locust.log").exists()


def test_a_certificate_for_another_name_is_refused_naming_the_mismatch(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki", names=("hub.example",))
    config = GatewayConfig(
        port=0, db=tmp_path / "hub.db", access_log=None, tls_cert=pki.cert, tls_key=pki.key
    )
    with GatewayProcess(config, stderr=tmp_path / "gateway.log") as gw:
        out = tmp_path / "out"
        done, _ = load_run(out, SMOKE, *_target(gw), "--ca-bundle", str(pki.ca), *SHORT)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr == (
        f"lienthong: --target {gw.url}: its TLS certificate is refused: IP address mismatch, "
        "certificate is not valid for '127.0.0.1'; expected the URL to name the host as the "
        "certificate does (its subject alternative names)\n"
    )
    assert not (out / "locust.log").exists()


def _locust(hub: GatewayProcess, out: Path, *extra: str) -> tuple[int, dict[str, object]]:
    """The locustfile run by hand (no harness, so no check before it): exit code, summary."""
    argv = [sys.executable, "-m", "locust", "-f", str(ROOT / "loadtest" / "locustfile.py")]
    argv += ["--headless", "-u", "1", "-r", "1", "-t", "90s", "--only-summary"]
    argv += ["--host", hub.url, "--scenario", SMOKE, "--credentials", str(hub.credentials)]
    argv += ["--duration", "4s", "--lt-out", str(out), *extra]
    with (out.parent / f"{out.name}.log").open("wb") as log:
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            code = proc.wait(timeout=150)
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=30)
    summary = out / "summary.json"
    return code, json.loads(summary.read_text(encoding="utf-8")) if summary.exists() else {}


def test_locusts_session_verifies_the_hub_itself(tmp_path: Path, hub: GatewayProcess) -> None:
    # Locust's FastHttpSession takes any certificate by default (insecure=True): a run against
    # a hub nobody vouched for was measured and judged as if it were the hub meant. (With
    # --ca-bundle the same session passes: the https runs above give it to Locust.)
    code, summary = _locust(hub, tmp_path / "untrusted")
    assert code == 1, summary
    send = summary["operations"]["send"]  # type: ignore[index]
    assert send["ok"] == 0
    assert any("CERTIFICATE_VERIFY_FAILED" in reason for reason in send["reasons"])


@pytest.mark.parametrize("command", ["calibrate", "twin"])
def test_calibrate_and_twin_refuse_an_untrusted_certificate_before_measuring(
    command: str, tmp_path: Path, hub: GatewayProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = (
        ["calibrate", "--out", str(tmp_path / "cal.toml")]
        if command == "calibrate"
        else ["twin", str(ROOT / "scenarios" / "twin.toml"), "--out", str(tmp_path / "twin")]
    )
    assert main([*argv, *_target(hub)]) == 2
    assert capsys.readouterr().err == (
        f"lienthong: --target {hub.url}: its TLS certificate is refused: unable to get local "
        "issuer certificate; to trust a private CA, give its certificate (PEM) as --ca-bundle "
        "FILE, or set SSL_CERT_FILE to it\n"
    )


def test_calibration_reads_an_https_hubs_metrics_through_the_ca_bundle(
    hub: GatewayProcess, pki: Pki
) -> None:
    # calibration falls back to a cruder method when it cannot read /metrics: with a private
    # CA's hub it must read them, not quietly do without
    metrics = scrape_metrics(hub.url, ca_bundle=pki.ca)
    assert metrics is not None
    assert any(name == "vxp_commits_total" for name, _ in metrics)
    assert scrape_metrics(hub.url) is None  # not trusted: unread, as an unreachable hub
