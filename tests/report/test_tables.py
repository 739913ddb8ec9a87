"""The report opens offline in a real browser, every figure decodes, and the page asks the network for nothing."""

import json
import os
import re
import shutil
import subprocess

import pytest

from ganforge.metrics import evaluate
from ganforge.report.tables import render_report
from tests.conftest import make_table

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def chromium():
    """Debian's headless Chromium, installed here when missing; skipped, saying why, where that cannot be done."""
    found = shutil.which("chromium")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("Chromium is not installed and this user cannot install it (needs root and apt-get)")
    command = "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium"
    done = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=900)
    if done.returncode != 0 or not shutil.which("chromium"):
        pytest.skip(f"Chromium could not be installed: {done.stderr.strip()[-300:]}")
    return shutil.which("chromium")


def render_in_browser(chromium, page, tmp_path):
    """The DOM after the page loaded, and every request the page itself started (the browser's own
    update and account pings carry no page origin and are left out)."""
    net_log = tmp_path / "net.json"
    dom = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                          f"--log-net-log={net_log}", "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    log = json.loads(net_log.read_text())
    names = {number: name for name, number in log["constants"]["logEventTypes"].items()}
    requests = [event["params"].get("url") for event in log["events"]
                if names.get(event["type"]) == "URL_REQUEST_START_JOB"
                and event.get("params", {}).get("initiator") not in (None, "not an origin")]
    return dom, [url for url in requests if url and not url.startswith(("file:", "data:"))]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    train, holdout, synthetic = make_table(300, 0), make_table(300, 1), make_table(300, 2)
    results = evaluate(train, synthetic, holdout=holdout, target="colour")
    history = [{"epoch": e, "loss_d": 1 / e, "loss_g": -1 / e, "seconds": e} for e in range(1, 20)]
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_report(results, train, synthetic, history=history))
    return path


def test_report_is_self_contained(report):
    html = report.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "url(http" not in html and "@import" not in html
    for section in ("Verdict", "Utility", "Privacy", "Correlations", "Columns", "Training"):
        assert f">{section}" in html


def test_report_renders_every_figure_offline(chromium, report, tmp_path):
    dom, requests = render_in_browser(chromium, report, tmp_path)
    loaded = re.search(r'data-figures-loaded="(\d+)"', dom)
    total = re.search(r'data-figures="(\d+)"', dom)
    assert loaded and total, "the page did not finish loading in the browser"
    # 7 columns, correlations, distances, training curves
    assert int(loaded.group(1)) == int(total.group(1)) >= 10
    assert requests == []


def test_the_request_check_would_see_an_external_request(chromium, tmp_path):
    page = tmp_path / "leaky.html"
    page.write_text('<html><body><img src="http://127.0.0.1:9/pixel.png"></body></html>')
    _, requests = render_in_browser(chromium, page, tmp_path)
    assert requests == ["http://127.0.0.1:9/pixel.png"]


def test_the_pair_card_gives_the_shared_bin_figure_where_a_sample_lacks_the_real_extremes():
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    score = np.append(rng.normal(size=598), [-9.0, 9.0])
    real = pd.DataFrame({"score": score, "vote": np.where(score + 0.5 * rng.normal(size=600) > 0, "yes", "no")})
    trimmed = real.iloc[:598].sample(n=600, replace=True, random_state=1).reset_index(drop=True)
    note = "with numbers cut at the real columns"  # (the apostrophe is escaped in the page)
    assert note in render_report(evaluate(real, trimmed), real, trimmed)
    assert note not in render_report(evaluate(real, real), real, real)  # the same bins: one figure
