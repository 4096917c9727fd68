"""Issue #13: what a new user reads on the agent page. Form errors are sentences about the field
(never pydantic's text), the prompt has a limit and a live counter, an empty prompt is refused;
a fresh onboarding shows no failed sync row but a next-steps card, and saving a platform key
changes that platform's state without a reload."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.app.conftest import shot
from tests.app.test_browser_journey import onboard, sign_up

pytestmark = pytest.mark.browser

DEVELOPER_TEXT = ("pydantic", "errors.pydantic.dev", "Input should", "String should", "Traceback", "[{")


async def fresh_agent(page, *, custom_voice: bool = False) -> None:
    await sign_up(page, f"words-{uuid.uuid4().hex[:6]}@example.test")
    await onboard(page, "Words Dental", custom_voice=custom_voice)
    await page.click("#next")
    await page.click("#finish")
    await page.wait_for_url(re.compile(r"/agent"))
    await page.locator("#prompt").wait_for()


async def save_and_read_error(page, expected: str) -> str:
    await page.click("#save-agent")
    alert = page.locator("#agent-form-error").filter(has_text=expected)
    await alert.wait_for()
    text = (await alert.inner_text()).strip()
    for words in DEVELOPER_TEXT:
        assert words not in text, text
    return text


async def test_form_errors_are_sentences_about_the_field(page):
    await fresh_agent(page)
    # The counter follows the prompt as it is typed.
    await page.fill("#prompt", "Hello there")
    await page.locator("#prompt-count").filter(has_text="11 of 20,000 characters").wait_for()

    await page.fill("#prompt", "x" * 120_000)
    await page.locator("#prompt-count").filter(has_text="120000 of 20,000").wait_for()
    await save_and_read_error(page, "Prompt: at most 20,000 characters (this one has 120,000)")
    await shot(page, "words-01-long-prompt")

    await page.fill("#prompt", "You are the front desk of Words Dental.")
    await page.fill("#transfer-number", "call bob")
    await save_and_read_error(page, "Transfer number: a phone number in international form, like +14155550123")
    assert "+14155550123" in await page.locator("#transfer-number-help").inner_text()
    await shot(page, "words-02-transfer-number")

    await page.fill("#transfer-number", "")
    await page.fill("#prompt", "")
    await save_and_read_error(page, "Prompt: is required")
    assert await page.locator("#saved-note").count() == 0


async def test_a_fresh_agent_is_not_red_and_says_what_is_next(page):
    await fresh_agent(page, custom_voice=True)
    assert "welcome=1" in page.url
    steps = page.locator("#next-steps")
    await steps.wait_for()
    text = await steps.inner_text()
    assert "custom voice id" in text and "phone number" in text
    await page.locator("#sync-section [id^='sync-']").first.wait_for()
    section = await page.locator("#sync-section").inner_text()
    assert await page.locator("#sync-section [data-tone='red']").count() == 0, section
    assert "failed" not in section and "SIP trunk" not in section and "[" not in section, section
    await shot(page, "words-03-welcome")

    # Switch to Retell: the platform left behind is "not in use"; Retell needs its key.
    first = (await page.locator("[id^='platform-'][data-selected='true']").get_attribute("id")).removeprefix("platform-")
    await page.click("#platform-retell")
    await page.click("#save-agent")
    await page.locator("#saved-note").wait_for()
    retell = page.locator("#sync-retell")
    await shot(page, "words-03b-retell")
    await retell.filter(has_text="needs set-up").wait_for()
    assert "needs your Retell AI API key — add it in Settings" in await page.locator("#sync-reason-retell").inner_text()
    if first != "retell":
        assert (await page.locator(f"#sync-{first}").inner_text()).strip() == "not in use"
    assert await page.locator("#sync-section [data-tone='red']").count() == 0

    # Saving the key from the row's own button changes the row, without a reload.
    await page.click("#sync-settings-retell")
    await page.locator("#keys-retell").wait_for()
    await page.fill("#keys-retell input[name='secret:api_key']", "key_live_" + uuid.uuid4().hex[:16])
    await page.click("#keys-retell .save-key")
    await page.locator("#settings-note").wait_for()
    await page.click("#close-settings")
    await page.locator("#sync-reason-retell").filter(has_not_text="API key").wait_for()
    assert (await retell.inner_text()).strip() != "needs set-up"
    await shot(page, "words-04-key-saved")
