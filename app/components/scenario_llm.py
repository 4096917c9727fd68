"""The organisation's test LLM, in the Tests tab (admins): which catalogue LLM judges rubric checks
and plays simulated callers, and its model; the organisation's stored key for that vendor is used
(Settings holds the keys). A thin shell over `switchboard.scenarios.gate`'s settings."""

from __future__ import annotations

import reflex as rx

from app.components.layout import error, field_label
from app.state import Session
from switchboard.pipeline.catalog import BY_KEY
from switchboard.scenarios import gate
from switchboard.scenarios.llm import COMPATIBLE

NONE = "None (rubrics and simulated callers are not run)"
CHOICES = {NONE: None, **{BY_KEY[key].name: key for key in COMPATIBLE}}


class ScenarioLLMSettings(Session):
    choice: str = NONE
    model: str = ""
    saved_text: str = ""
    problem_text: str = ""

    @rx.event
    async def load(self):
        self.saved_text, self.problem_text = "", ""
        try:
            async with self._as_user() as conn:
                current = await gate.read_settings(conn, self._org())
        except Exception as exc:
            return self._failed(exc, into="problem_text")
        self.choice = next((label for label, key in CHOICES.items() if key == current.llm), NONE)
        self.model = current.llm_model or ""

    @rx.event
    def set_choice(self, value: str):
        self.choice, self.saved_text = value, ""

    @rx.event
    def set_model(self, value: str):
        self.model, self.saved_text = value.strip(), ""

    @rx.event
    async def save(self):
        self.saved_text, self.problem_text = "", ""
        try:
            async with self._as_user() as conn:
                current = await gate.read_settings(conn, self._org())
                saved = await gate.write_settings(conn, self._org(), current.model_copy(
                    update={"llm": CHOICES.get(self.choice), "llm_model": self.model or None}))
        except Exception as exc:
            return self._failed(exc, into="problem_text")
        self.saved_text = (f"Saved: {self.choice}" + (f", model {saved.llm_model}" if saved.llm_model else "") + "."
                           if saved.llm else "Saved: no test LLM.")


def scenario_llm_section() -> rx.Component:
    return rx.cond(ScenarioLLMSettings.is_admin, rx.vstack(
        rx.text("The LLM that judges rubric checks and plays simulated callers, with your organisation's key for it "
                "(add keys in Settings). Scripted checks never use it.", size="2", color_scheme="gray"),
        rx.hstack(
            field_label("Test LLM", for_id="test-llm", size="2"),
            rx.select(list(CHOICES), value=ScenarioLLMSettings.choice, on_change=ScenarioLLMSettings.set_choice,
                      id="test-llm"),
            field_label("Model", for_id="test-llm-model", size="2"),
            rx.input(value=ScenarioLLMSettings.model, on_change=ScenarioLLMSettings.set_model,
                     placeholder="the entry's default", id="test-llm-model", width="14em"),
            rx.button("Save", on_click=ScenarioLLMSettings.save, variant="soft", id="test-llm-save"),
            align="center", wrap="wrap",
        ),
        rx.cond(ScenarioLLMSettings.saved_text != "",
                rx.text(ScenarioLLMSettings.saved_text, size="2", id="test-llm-saved")),
        rx.cond(ScenarioLLMSettings.problem_text != "", error(ScenarioLLMSettings.problem_text)),
        width="100%", id="test-llm-section",
    ))
