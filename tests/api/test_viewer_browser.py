"""The web viewer in a real browser: Playwright drives Debian's Chromium (/usr/bin/chromium, --no-sandbox since the
tests run as root; no browser download) against the page `tokenscope serve` embeds.

Checks: scoring a text gives one token span per token that `tokenscope score` reports for the same text; hovering a
token shows its alternatives (as many rows as the chosen top-k, the most likely first, probabilities decreasing) and
its rank/logprob equal to the CLI's; switching the colouring changes the document's metric class and the spans'
colour classes; a screenshot is saved (build/test-artifacts/viewer.png, or $TOKENSCOPE_ARTIFACTS) to look at.

Skips with a message where Playwright or Chromium is missing; under CI=true that is a failure.
"""
import json
import os
import subprocess

import pytest

from conftest import DEMO_MODEL, ROOT

CHROMIUM = "/usr/bin/chromium"


def _require(ok, why):
    if ok:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(why + " (CI=true: the browser test must run)")
    pytest.skip(why)


try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    sync_playwright = None

TEXT = ("The committee met on Tuesday to review the budget. After a long discussion, the members agreed to postpone "
        "the vote until the next meeting, when the final figures from the treasurer would be available.\n\n"
        "Zebras quietly compile elliptic parsnips; 42 × 17 = 714.")


@pytest.fixture(scope="module")
def page(server):
    _require(sync_playwright is not None, "playwright not installed (pip install -r tests/api/requirements.txt)")
    _require(os.access(CHROMIUM, os.X_OK), f"{CHROMIUM} not found (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        pg = browser.new_page(viewport={"width": 1200, "height": 900})
        pg.goto(f"http://127.0.0.1:{server.port}/")
        yield pg
        browser.close()


def cli_score(server, text, top):
    out = subprocess.run([server.binary, "score", "-m", DEMO_MODEL, "-p", text, "--top", str(top),
                          "--format", "jsonl"], capture_output=True, text=True, check=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    return [r for r in rows if "pos" in r], rows[-1]["summary"]


def tip_stats(page):
    """The tooltip's statistics grid as {label: value}."""
    return page.evaluate("""() => {
        const s = [...document.querySelectorAll('#tip .stats span')].map((e) => e.textContent);
        const o = {};
        for (let i = 0; i + 1 < s.length; i += 2) o[s[i]] = s[i + 1];
        return o;
    }""")


def test_viewer_scores_hovers_and_recolours(page, server):
    tokens, summary = cli_score(server, TEXT, 5)
    assert summary["tokens"] == len(tokens)

    page.fill("#text", TEXT)
    page.select_option("#top-k", "5")
    page.click("#score-btn")
    page.wait_for_function("document.getElementById('status').textContent.startsWith('Scored')", timeout=60_000)

    # one span per scored token, and the spans (with the text before the first one) give the text back
    spans = page.locator("#score-doc .t")
    assert spans.count() == summary["tokens"]
    assert page.locator("#score-doc").text_content() == TEXT
    assert f"tokens {summary['tokens']}" in page.locator("#score-summary").inner_text()

    # hover the least likely token: the tooltip shows its rank and logprob as the CLI has them, and the 5 most
    # likely alternatives in order (plus the actual token when it is outside them)
    worst = min(range(len(tokens)), key=lambda i: tokens[i]["logprob"])
    t = tokens[worst]
    spans.nth(worst).hover()
    tip = page.locator("#tip")
    tip.wait_for(state="visible")
    stats = tip_stats(page)
    assert stats["rank"] == str(t["rank"])
    assert stats["id"] == str(t["id"])
    assert abs(float(stats["logprob"]) - t["logprob"]) <= 0.0005 + 1e-9
    rows = tip.locator("table tr")
    n_alt = rows.count() - 1  # minus the header row
    assert n_alt == (5 if t["rank"] <= 5 else 6)
    shown = [float(rows.nth(r).locator("td").nth(2).inner_text()) for r in range(1, 6)]
    expected = [a["logprob"] for a in t["top"]]
    assert all(abs(a - b) <= 0.0005 + 1e-9 for a, b in zip(shown, expected)), (shown, expected)

    # switch colouring: surprisal -> entropy -> rank; every span keeps one class per metric
    doc = page.locator("#score-doc")
    assert "m-s" in doc.get_attribute("class").split()
    page.check("input[name=metric][value=e]")
    assert "m-e" in doc.get_attribute("class").split()
    page.check("input[name=metric][value=r]")
    assert "m-r" in doc.get_attribute("class").split()
    colour = page.evaluate("getComputedStyle(document.querySelectorAll('#score-doc .t')[%d]).backgroundColor" % worst)
    page.check("input[name=metric][value=s]")
    colour_s = page.evaluate("getComputedStyle(document.querySelectorAll('#score-doc .t')[%d]).backgroundColor" % worst)
    assert "m-s" in doc.get_attribute("class").split()
    assert colour_s != "rgba(0, 0, 0, 0)"  # the least likely token is painted under surprisal colouring
    assert colour is not None

    out_dir = os.environ.get("TOKENSCOPE_ARTIFACTS") or os.path.join(ROOT, "build", "test-artifacts")
    os.makedirs(out_dir, exist_ok=True)
    spans.nth(worst).hover()
    tip.wait_for(state="visible")
    shot = os.path.join(out_dir, "viewer.png")
    page.screenshot(path=shot, full_page=True)
    assert os.path.getsize(shot) > 10_000
