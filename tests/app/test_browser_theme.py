"""The dashboard's charts follow the app's colour mode: in the system's dark mode their text is
light on the dark card (no white plot on a dark page), in light mode dark on white."""

from __future__ import annotations

import re

import pytest

from tests.app.conftest import shot
from tests.app.factories import add_calls
from tests.app.test_browser_pages import account, sign_in

pytestmark = pytest.mark.browser

# The chart's paper colour, the title's colour and the page body's background, as painted.
_COLOURS = """() => {
  const _alpha = (c) => { const p = c.match(/[\\d.]+/g); return p.length > 3 ? Number(p[3]) : 1; };
  const svg = document.querySelector('#chart-per-day .main-svg');
  const title = document.querySelector('#chart-per-day .gtitle');
  const bg = document.querySelector('#chart-per-day rect.bg');
  const theme = document.querySelector('.radix-themes') || document.body;
  return {paper: getComputedStyle(svg).backgroundColor, title: getComputedStyle(title).fill,
          plot: bg ? Number(getComputedStyle(bg).fillOpacity) * _alpha(getComputedStyle(bg).fill) : 0,
          body: getComputedStyle(theme).backgroundColor};
}"""


def _luminance(css: str) -> float:
    r, g, b = (int(v) for v in re.findall(r"\d+", css)[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _alpha(css: str) -> float:
    parts = re.findall(r"[\d.]+", css)
    return float(parts[3]) if len(parts) > 3 else 1.0


@pytest.mark.parametrize("scheme", ["dark", "light"])
async def test_dashboard_charts_follow_the_colour_mode(browser, app_server, app_db, scheme):
    email, org_id, agent_id = await account(app_db, org=f"Theme {scheme}")
    await add_calls(app_db, org_id, agent_id, "livekit", 12)
    context, page = await sign_in(browser, app_server, email, color_scheme=scheme)
    await page.locator("#chart-per-day .gtitle").wait_for()
    colours = await page.evaluate(_COLOURS)
    await shot(page, f"dashboard-{scheme}")
    await context.close()

    # The chart paints no background of its own: the card shows through in either mode.
    assert _alpha(colours["paper"]) == 0, colours
    assert colours["plot"] == 0, colours
    if scheme == "dark":
        assert _luminance(colours["body"]) < 80, colours  # the page itself is dark
        assert _luminance(colours["title"]) > 180, colours  # so the title is light
    else:
        assert _luminance(colours["body"]) > 200, colours
        assert _luminance(colours["title"]) < 90, colours
