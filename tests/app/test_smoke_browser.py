import pytest

from tests.app.conftest import shot

pytestmark = pytest.mark.browser


async def test_index_renders(page):
    await page.goto("/")
    await page.get_by_text("Switchboard").first.wait_for()
    await shot(page, "smoke")
