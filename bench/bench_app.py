"""Time until the cost dashboard is interactive, in Chromium, with N calls (default 1,000,000).

Seeds the demo organisation with `switchboard seed --demo --calls N` on a throwaway Postgres
cluster, starts the admin app's prod build on it (tests/support/reflex_app.start_app), signs in
as the demo user with Playwright (Debian's Chromium), then opens /dashboard several times, each in
a new tab of the signed-in browser (a fresh page state; the HTTP cache warm after the first, as
for a returning user). Each load is timed on the tab's own clock (performance.now(), 0 = the
start of navigation):

- charts: the three plotly charts have drawn their bars;
- interactive: after that, a control has answered — the period switch (7 / 30 / 90 days) is
  clicked, its event handled by the app's back end, and the switch shows the new period;
- redrawn: the charts have been redrawn for that period;
- analyses: the A/B verdict and savings (computed in the background) are shown.

Prints each load and the p50 of each; target: interactive p50 ≤ 2 s.

    python bench/bench_app.py [--calls N] [--loads L] [--database-url URL]

`--database-url` measures an existing, already seeded database instead (no cluster, no seeding).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from switchboard.db.local import LocalCluster, free_port  # noqa: E402
from switchboard.db.migrate import migrate  # noqa: E402
from switchboard.pipeline.catalog import sync_catalog_at  # noqa: E402
from tests.support.reflex_app import CHROMIUM, CHROMIUM_ARGS, start_app, stop_app  # noqa: E402

TARGET_S = 2.0
DEMO_EMAIL, DEMO_PASSWORD = "demo@switchboard.local", "demo-password"
CHARTS = ("chart-per-day", "chart-components", "chart-per-minute")

# Runs in the page, so no driver round trip is counted: waits (frame by frame) for the charts,
# clicks the period the page does not show, and notes when each step is visible.
TIMELINE = """
async charts => {
  const frame = () => new Promise(resolve => requestAnimationFrame(resolve));
  const until = async test => { while (!test()) await frame(); return performance.now(); };
  const t = {};
  t.charts = await until(() => charts.every(id => document.querySelector(`#${id} .point path`)));
  const days = document.getElementById('period-7')?.dataset.state === 'on' ? '30' : '7';
  const item = document.getElementById(`period-${days}`);
  item.click();
  t.interactive = await until(() => item.dataset.state === 'on');
  t.redrawn = await until(() => (document.querySelector('#chart-per-day .gtitle')?.textContent || '')
                                  .includes(`last ${days} days`));
  t.analyses = await until(() => document.querySelector('#ab-verdict'));
  return t;
}
"""


def seed(url: str, calls: int) -> None:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "switchboard", "seed", "--demo", "--calls", str(calls)],
                   cwd=ROOT, env=env, check=True)


async def measure(url: str, loads: int) -> list[dict[str, float]]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = await browser.new_context(base_url=url, viewport={"width": 1360, "height": 900})
        context.set_default_timeout(60_000)
        first = page = await context.new_page()
        await page.goto("/sign-in")
        await page.fill("#email", DEMO_EMAIL)
        await page.fill("#password", DEMO_PASSWORD)
        await page.click("#submit")
        await page.wait_for_url("**/dashboard")
        await page.locator("#ab-verdict").wait_for()

        results = []
        for i in range(loads + 1):
            page = await context.new_page()
            await page.goto("/dashboard", wait_until="domcontentloaded")
            row = {k: v / 1000 for k, v in (await page.evaluate(TIMELINE, list(CHARTS))).items()}
            label = "first (cold cache)" if i == 0 else f"load {i}"
            print(f"{label:20} " + "   ".join(f"{k} {v:5.2f} s" for k, v in row.items()), flush=True)
            if i:
                results.append(row)
            await page.close()
        await first.close()
        await browser.close()
    return results


def main(calls: int, loads: int, database_url: str | None) -> int:
    root = Path(tempfile.mkdtemp(prefix="sb-bench-app-"))
    os.environ.setdefault("SWITCHBOARD_DATA_DIR", str(root / "data"))  # the app reads the same local key
    cluster = None
    app = None
    try:
        if database_url is None:
            cluster = LocalCluster(data_dir=root / "pg", port=free_port(), fast=True)
            cluster.ensure_running()
            database_url = cluster.url()
            migrate(database_url)
            sync_catalog_at(database_url)
            t = time.perf_counter()
            seed(database_url, calls)
            print(f"seeded {calls:,} demo calls in {time.perf_counter() - t:.0f} s", flush=True)
        t = time.perf_counter()
        app = start_app(database_url, workdir=root / "app", log=root / "app.log")
        print(f"app built and serving at {app.url} in {time.perf_counter() - t:.0f} s", flush=True)
        load_before = os.getloadavg()[0]
        results = asyncio.run(measure(app.url, loads))
        print(f"load average {load_before:.1f} → {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
              "(the browser, the app and Postgres share them)")
        p50 = {k: statistics.median(r[k] for r in results) for k in results[0]}
        ok = p50["interactive"] <= TARGET_S
        print(f"p50 over {len(results)} loads: " + ", ".join(f"{k} {v:.2f} s" for k, v in p50.items())
              + f" — target interactive ≤ {TARGET_S:.0f} s: {'met' if ok else 'MISSED'}")
        return 0 if ok else 1
    finally:
        if app is not None:
            stop_app(app)
        if cluster is not None:
            cluster.destroy()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--loads", type=int, default=7)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    sys.exit(main(args.calls, args.loads, args.database_url))
