"""Agent-config page: the provider selector over all four platforms (capability badges, price per
minute from the database), voice options that follow the chosen platform, prompt, begin message,
language, tools, fallback order and traffic split; saving shows each platform's sync state
(provider_configs.sync_status / sync_error, kept by the sync function)."""

from __future__ import annotations

import dataclasses
from uuid import UUID

import reflex as rx

from app.backend import problem, when
from app.components.outbound import call_a_number
from app.components.layout import field_label, empty, error, loading, page_frame, section
from app.components.provider_settings import ProviderSettings, provider_settings_dialog
from app.components.test_panel import test_panel_card
from app.components.tests_tab import AgentTests, tests_section
from app.components.versions import AgentVersions, versions_section
from app.components.web_call import web_call_card
from app.state import Session
from switchboard import agents, orgconfig, versions
from switchboard import pricing
from switchboard.agent_sync import in_use, shown_state
from switchboard.errors import PHONE_EXAMPLE, PHONE_RULE
from switchboard.models import PROMPT_MAX_CHARS, AgentUpdate, ProviderSelection
from switchboard.providers import registry
from switchboard.spec import VoiceSpec

LANGUAGES = ["en-US", "en-GB", "es-ES", "fr-FR", "de-DE", "it-IT", "pt-BR", "nl-NL", "ja-JP"]
BADGES = [
    ("preset_voices", "Preset voices"), ("custom_voices", "Custom voices"), ("function_calling", "Function calling"),
    ("recording", "Recording"), ("post_call_analysis", "Post-call analysis"), ("webrtc", "WebRTC"), ("sip", "SIP"),
    ("enterprise", "Enterprise"),
]


@dataclasses.dataclass
class PlatformCard:
    code: str
    name: str
    price: str  # "list price $0.0450/min" (switchboard.pricing's labels, as every page)
    measured: str  # "your calls $0.0409/min (last 30 days)" or "your calls: no calls yet"
    description: str
    badges: list[str]
    custom_voices: bool


@dataclasses.dataclass
class VoiceOption:
    id: str  # the preset's id in the platform's list
    label: str
    vendor: str
    voice_id: str  # the vendor's own id (the canonical VoiceSpec.voice_id)


@dataclasses.dataclass
class SyncRow:
    provider: str
    name: str
    status: str  # the state in words: synced, pending, failed, not in use, needs set-up
    error: str  # the reason in words
    synced_at: str
    tone: str = "gray"
    action: str = ""  # "settings": the fix is in this platform's settings


def _voice_option(v) -> VoiceOption:
    spec = registry.preset_voice_spec(v)
    return VoiceOption(id=v.id, label=f"{v.name} · {v.vendor}" if v.vendor else v.name, vendor=spec.vendor,
                       voice_id=spec.voice_id)


class AgentConfig(Session):
    loaded: bool = False
    load_error: str = ""
    save_error: str = ""
    saving: bool = False
    saved_note: str = ""

    agent_id: str = ""
    agent_name: str = ""
    etag: str = ""
    platforms: list[PlatformCard] = []
    presets: dict[str, list[VoiceOption]] = {}
    custom_help: dict[str, str] = {}

    active: str = ""
    voice_mode: str = "preset"  # preset | custom
    preset_voice: str = ""
    custom_voice_id: str = ""
    custom_vendor: str = "cartesia"
    prompt: str = ""
    begin_message: str = ""
    language: str = "en-US"
    tool_end_call: bool = True
    transfer_number: str = ""
    fallback: list[str] = []
    split: dict[str, str] = {}
    sync: list[SyncRow] = []
    saved_voice: str = ""  # "vendor · id" of the voice as saved
    key_missing: dict[str, bool] = {}  # platform code -> no key stored (admins only: members cannot see keys)
    has_number: bool = False
    welcome: bool = False
    draft_only: bool = False  # the next save makes a draft version without publishing it

    # --- derived -----------------------------------------------------------------------------
    @rx.var
    def active_platform(self) -> PlatformCard | None:
        return next((p for p in self.platforms if p.code == self.active), None)

    @rx.var
    def active_supports_custom(self) -> bool:
        p = next((p for p in self.platforms if p.code == self.active), None)
        return bool(p and p.custom_voices)

    @rx.var
    def voice_options(self) -> list[VoiceOption]:
        return self.presets.get(self.active, [])

    @rx.var
    def active_name(self) -> str:
        p = next((p for p in self.platforms if p.code == self.active), None)
        return p.name if p else ""

    @rx.var
    def no_custom_explanation(self) -> str:
        return self.custom_help.get(self.active, "")

    @rx.var
    def fallback_candidates(self) -> list[PlatformCard]:
        """The other platforms, in a stable order (rows never move under the pointer)."""
        return [p for p in self.platforms if p.code != self.active]

    @rx.var
    def fallback_chain(self) -> str:
        names = {p.code: p.name for p in self.platforms}
        return " → ".join(names.get(c, c) for c in self.fallback if c != self.active)

    @rx.var
    def current_voice_note(self) -> str:
        """Says so when the saved voice is not one of the chosen platform's presets."""
        if self.voice_mode != "preset" or not self.saved_voice or self.preset_voice:
            return ""
        return (f"The agent's current voice ({self.saved_voice}) is not one of {self.active_name}'s preset voices: "
                f"choose one of them, or keep it by choosing another platform.")

    @rx.var
    def fallback_rank(self) -> dict[str, str]:
        return {code: f"#{i + 1}" for i, code in enumerate(self.fallback)}

    @rx.var
    def split_total(self) -> int:
        total = 0
        for v in self.split.values():
            try:
                total += int(v or 0)
            except ValueError:
                pass
        return total

    @rx.var
    def next_steps(self) -> list[str]:
        """After onboarding: what is left before the agent takes calls."""
        steps = []
        if self.voice_mode == "custom" and not self.custom_voice_id:
            steps.append("Fill in your custom voice id (Voice, below): the agent cannot speak with your voice without it.")
        if not self.has_number:
            steps.append("Connect a phone number, so callers can reach the agent.")
        if self.key_missing.get(self.active):
            steps.append(f"Add your {self.active_name} API key: open {self.active_name}'s Settings.")
        return steps

    # --- loading -----------------------------------------------------------------------------
    @rx.event
    async def load(self):
        if not self.signed_in:
            return
        self.loaded, self.load_error, self.save_error, self.saved_note = False, "", "", ""
        self.welcome = self.router.url.query_parameters.get("welcome") == "1"
        try:
            async with self._as_user() as conn:
                catalog = await orgconfig.list_providers(conn, type="platform", enabled=True)
                mine = (await agents.list_agents(conn, self._org(), limit=1)).items
                prices = await pricing.platform_prices(conn, self._org())
                detail = await agents.get_agent(conn, self._org(), mine[0].id) if mine else None
                if detail is not None:
                    await self._read_setup(conn, detail)
        except Exception as exc:
            return self._failed(exc)
        self.platforms = [
            PlatformCard(
                code=p.key, name=p.name, price=pricing.list_label(prices.get(p.key)),
                measured=pricing.measured_label(prices.get(p.key)),
                description=p.description or "",
                badges=[label for key, label in BADGES if key in p.capabilities],
                custom_voices="custom_voices" in p.capabilities,
            )
            for p in catalog
        ]
        self.presets = {p.key: [_voice_option(v) for v in registry.preset_voices(p.key)] for p in catalog}
        with_custom = [p.name for p in catalog if "custom_voices" in p.capabilities]
        self.custom_help = {
            p.key: (f"{p.name} takes preset voices only: a custom or cloned voice cannot be attached through its "
                    f"API (it has to be added by hand in {p.name}'s own dashboard). For your own voice, choose "
                    f"{', '.join(with_custom[:-1])} or {with_custom[-1]}." if with_custom else
                    f"{p.name} takes preset voices only.")
            for p in catalog if "custom_voices" not in p.capabilities
        }
        if detail is None:
            self.agent_id = ""
            self.loaded = True
            return None
        self._show(detail)
        self.loaded = True
        return [AgentVersions.load_for(self.agent_id), AgentTests.load_for(self.agent_id)]

    @rx.event
    def set_draft_only(self, value: bool):
        self.draft_only = value

    async def _read_setup(self, conn, detail) -> None:
        """What the sync rows and the next steps depend on besides the agent: which platforms have
        a key (admins only), and whether a number is connected."""
        missing: dict[str, bool] = {}
        if self.is_admin:
            for c in detail.provider_configs:
                op = await orgconfig.get_org_provider(conn, self._org(), c.provider, include_secrets=True)
                if op.secrets is not None and (op.secrets.required_fields or op.provider.secrets_schema.get("properties")):
                    missing[c.provider] = not op.secrets.has_secrets
        self.key_missing = missing
        row = await (await conn.execute("select count(*) as n from public.phone_numbers where agent_config_id = %s",
                                        (detail.id,))).fetchone()
        self.has_number = bool(row and row["n"])

    @rx.event
    async def refresh_sync(self):
        """Re-read the sync state (after a key is saved or removed in the settings modal)."""
        if not self.agent_id:
            return
        try:
            async with self._as_user() as conn:
                detail = await agents.get_agent(conn, self._org(), UUID(self.agent_id))
                await self._read_setup(conn, detail)
        except Exception as exc:
            self.save_error = problem(exc)
            return
        self._show_sync(detail)

    def _show_sync(self, a) -> None:
        names = {p.code: p.name for p in self.platforms}
        rows = []
        for c in a.provider_configs:
            name = names.get(c.provider, c.provider)
            used = in_use(c.provider, active=a.active_provider, fallback_order=a.fallback_order,
                          traffic_split=a.traffic_split)
            shown = shown_state(c.provider, name, used=used, status=c.sync_status, error=c.sync_error,
                                key_missing=self.key_missing.get(c.provider))
            rows.append(SyncRow(provider=c.provider, name=name, status=shown.state, error=shown.reason,
                                synced_at=when(c.synced_at), tone=shown.tone, action=shown.action))
        self.sync = rows

    def _show(self, a) -> None:
        self.agent_id, self.agent_name, self.etag = str(a.id), a.name, a.etag
        self.active = a.active_provider or (self.platforms[0].code if self.platforms else "")
        self.prompt, self.begin_message, self.language = a.prompt, a.begin_message or "", a.language
        self.voice_mode = "custom" if a.voice.custom else "preset"
        self.saved_voice = f"{a.voice.vendor} · {a.voice.voice_id}" if a.voice.voice_id else ""
        self.custom_voice_id = (a.voice.voice_id or "") if a.voice.custom else ""
        self.custom_vendor = a.voice.vendor if a.voice.custom else "cartesia"
        self.preset_voice = "" if a.voice.custom else next(
            (o.id for o in self.presets.get(self.active, []) if (o.vendor, o.voice_id) == (a.voice.vendor, a.voice.voice_id)),
            "")
        self.tool_end_call = any(t.get("type") == "end_call" for t in a.tools)
        self.transfer_number = next((t.get("number", "") for t in a.tools if t.get("type") == "transfer"), "")
        self.fallback = list(a.fallback_order)
        self.split = {k: str(v) for k, v in a.traffic_split.items()}
        self._show_sync(a)

    # --- editing -----------------------------------------------------------------------------
    @rx.event
    def select_platform(self, code: str):
        previous = next((o for o in self.presets.get(self.active, []) if o.id == self.preset_voice), None)
        self.active = code
        self.fallback = [c for c in self.fallback if c != code]
        if not self.active_supports_custom:
            self.voice_mode = "preset"
        options = self.presets.get(code, [])
        # The same voice when the new platform offers it (OpenAI's Alloy is on several), else its first.
        same = next((o for o in options if previous and (o.vendor, o.voice_id) == (previous.vendor, previous.voice_id)), None)
        if same is not None:
            self.preset_voice = same.id
        elif options and self.preset_voice not in {o.id for o in options}:
            self.preset_voice = options[0].id

    @rx.event
    def set_voice_mode(self, mode: str):
        self.voice_mode = mode if (mode == "preset" or self.active_supports_custom) else "preset"

    @rx.event
    def set_preset_voice(self, value: str):
        self.preset_voice = value

    @rx.event
    def set_custom_vendor(self, value: str):
        self.custom_vendor = value

    @rx.event
    def set_custom_voice_id(self, value: str):
        self.custom_voice_id = value.strip()

    @rx.event
    def set_prompt(self, value: str):
        self.prompt = value

    @rx.event
    def set_begin_message(self, value: str):
        self.begin_message = value

    @rx.event
    def set_language(self, value: str):
        self.language = value

    @rx.event
    def set_tool_end_call(self, value: bool):
        self.tool_end_call = value

    @rx.event
    def set_transfer_number(self, value: str):
        self.transfer_number = value.strip()

    @rx.event
    def toggle_fallback(self, code: str):
        self.fallback = [c for c in self.fallback if c != code] if code in self.fallback else [*self.fallback, code]

    @rx.event
    def move_fallback_up(self, code: str):
        i = self.fallback.index(code) if code in self.fallback else 0
        if i > 0:
            order = list(self.fallback)
            order[i - 1], order[i] = order[i], order[i - 1]
            self.fallback = order

    @rx.event
    def set_split(self, code: str, value: str):
        self.split = {**self.split, code: value.strip()}

    # --- saving ------------------------------------------------------------------------------
    @rx.event
    async def save(self):
        self.save_error, self.saved_note, self.saving = "", "", True
        yield
        try:
            split = {k: int(v) for k, v in self.split.items() if str(v).strip() not in ("", "0")}
        except ValueError:
            self.save_error, self.saving = "Traffic split: enter whole percentages.", False
            return
        if split and sum(split.values()) != 100:
            self.save_error, self.saving = f"Traffic split: the shares add up to {sum(split.values())} %, not 100 %.", False
            return
        if self.voice_mode == "custom":
            if not self.active_supports_custom:
                self.save_error, self.saving = self.no_custom_explanation, False
                return
            if not self.custom_voice_id:
                self.save_error, self.saving = "Enter your custom or cloned voice id.", False
                return
            voice = VoiceSpec(vendor=self.custom_vendor, voice_id=self.custom_voice_id, custom=True)
        else:
            chosen = next((v for v in self.voice_options if v.id == self.preset_voice), None)
            if chosen is None:
                self.save_error, self.saving = "Choose one of the preset voices.", False
                return
            voice = VoiceSpec(vendor=chosen.vendor, voice_id=chosen.voice_id, custom=False)
        tools: list[dict] = []
        if self.tool_end_call:
            tools.append({"type": "end_call"})
        if self.transfer_number:
            tools.append({"type": "transfer", "name": "transfer_call", "number": self.transfer_number})
        try:
            update = AgentUpdate(prompt=self.prompt, begin_message=self.begin_message or None, voice=voice,
                                 language=self.language, tools=tools)
            selection = ProviderSelection(active_provider=self.active,
                                          fallback_order=[c for c in self.fallback if c != self.active],
                                          traffic_split=split)
            async with self._as_user() as conn:
                org, agent_id = self._org(), UUID(self.agent_id)
                # The database refuses a custom voice on a platform without custom voices, so the
                # order matters: a custom voice follows the platform switch, a preset precedes it.
                if voice.custom:
                    detail = await agents.select_provider(conn, org, agent_id, selection, if_match=self.etag)
                    detail = await agents.update_agent(conn, org, agent_id, update, if_match=detail.etag)
                else:
                    detail = await agents.update_agent(conn, org, agent_id, update, if_match=self.etag)
                    detail = await agents.select_provider(conn, org, agent_id, selection, if_match=detail.etag)
                if not self.draft_only and (detail.latest_version or 0) > (detail.live_version or 0):
                    await versions.publish(conn, org, agent_id, detail.latest_version)  # save and publish
                    detail = await agents.get_agent(conn, org, agent_id)
                await self._read_setup(conn, detail)
        except Exception as exc:
            self.save_error, self.saving = problem(exc), False
            return
        self._show(detail)
        self.saving = False
        self.saved_note = (f"Saved as draft version {detail.latest_version}; version {detail.live_version} stays live "
                           "until you publish it (Versions, below)." if self.draft_only else
                           "Saved and published. Each platform syncs in the background; its state is below.")
        yield AgentVersions.load_for(self.agent_id)


# --- view ---------------------------------------------------------------------------------------
def platform_card(p: PlatformCard) -> rx.Component:
    selected = AgentConfig.active == p.code
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.cond(selected, rx.icon("circle-check", color=rx.color("accent", 9)), rx.icon("circle")),
                rx.heading(p.name, size="3", as_="h3"),
                rx.spacer(),
                align="center", width="100%",
            ),
            rx.flex(
                rx.badge(p.price, color_scheme="green", variant="soft", id=f"list-price-{p.code}"),
                rx.badge(p.measured, color_scheme="gray", variant="soft", id=f"measured-price-{p.code}"),
                wrap="wrap", gap="1",
            ),
            rx.text(p.description, size="1", color_scheme="gray"),
            rx.flex(rx.foreach(p.badges, lambda b: rx.badge(b, variant="outline", size="1")), wrap="wrap", gap="1"),
            rx.button("Settings", size="1", variant="ghost",
                      on_click=ProviderSettings.open(p.code, AgentConfig.agent_id).stop_propagation, id=f"settings-{p.code}"),
            spacing="2", align="start",
        ),
        on_click=AgentConfig.select_platform(p.code),
        cursor="pointer",
        width="100%",
        variant=rx.cond(selected, "surface", "classic"),
        border=rx.cond(selected, f"2px solid {rx.color('accent', 8)}", "2px solid transparent"),
        id=f"platform-{p.code}",
        data_selected=rx.cond(selected, "true", "false"),
    )


def voice_section() -> rx.Component:
    return section(
        "Voice",
        rx.cond(
            AgentConfig.active_supports_custom,
            rx.radio_group.root(
                rx.hstack(
                    rx.radio_group.item(value="preset", id="voice-mode-preset"),
                    field_label("Preset voice", for_id="voice-mode-preset"),
                    rx.radio_group.item(value="custom", id="voice-mode-custom"),
                    field_label("Custom or cloned voice", for_id="voice-mode-custom"),
                    align="center",
                ),
                value=AgentConfig.voice_mode, on_change=AgentConfig.set_voice_mode,
            ),
            rx.callout.root(
                rx.callout.icon(rx.icon("info")),
                rx.callout.text(AgentConfig.no_custom_explanation),
                color_scheme="amber", id="no-custom-voice",
            ),
        ),
        rx.cond(
            (AgentConfig.voice_mode == "custom") & AgentConfig.active_supports_custom,
            rx.vstack(
                rx.text("Your custom or cloned voice: its TTS vendor and voice id", size="2"),
                field_label("TTS vendor", for_id="custom-vendor", size="1"),
                rx.select(["cartesia", "elevenlabs", "openai", "deepgram", "azure"], value=AgentConfig.custom_vendor,
                          on_change=AgentConfig.set_custom_vendor, id="custom-vendor"),
                field_label("Voice id", for_id="custom-voice-id", size="1"),
                rx.input(value=AgentConfig.custom_voice_id, on_change=AgentConfig.set_custom_voice_id,
                         placeholder="e.g. 6f84f4b8-58a2-430c-8c79-688dad597532", width="100%",
                         id="custom-voice-id"),
                width="100%",
            ),
            rx.vstack(
                field_label(AgentConfig.active_name, " preset voices", for_id="preset-voice", size="2"),
                rx.select.root(
                    rx.select.trigger(placeholder="Choose a voice", width="100%", id="preset-voice"),
                    rx.select.content(
                        rx.foreach(AgentConfig.voice_options,
                                   lambda v: rx.select.item(v.label, value=v.id, class_name="preset-voice-option")),
                    ),
                    value=AgentConfig.preset_voice, on_change=AgentConfig.set_preset_voice,
                ),
                rx.text(AgentConfig.voice_options.length(), " preset voices available", size="1",
                        color_scheme="gray", id="preset-count"),
                rx.cond(AgentConfig.current_voice_note != "",
                        rx.text(AgentConfig.current_voice_note, size="1", color_scheme="amber", id="voice-note")),
                width="100%",
            ),
        ),
        spacing="3", id="voice-section",
    )


def behaviour_section() -> rx.Component:
    return section(
        "Conversation",
        field_label("Prompt", for_id="prompt", size="2", weight="medium"),
        rx.text_area(value=AgentConfig.prompt, on_change=AgentConfig.set_prompt, rows="6", width="100%",
                     placeholder="You are the front desk of Acme Dental…", id="prompt"),
        rx.text(AgentConfig.prompt.length().to_string(), f" of {PROMPT_MAX_CHARS:,} characters", size="1",
                color_scheme=rx.cond(AgentConfig.prompt.length() > PROMPT_MAX_CHARS, "red", "gray"),
                id="prompt-count"),
        field_label("Begin message", for_id="begin-message", size="2", weight="medium"),
        rx.input(value=AgentConfig.begin_message, on_change=AgentConfig.set_begin_message, width="100%",
                 placeholder="Hello, Acme Dental, how can I help?", id="begin-message"),
        rx.hstack(
            rx.vstack(
                field_label("Language", for_id="language", size="2", weight="medium"),
                rx.select(LANGUAGES, value=AgentConfig.language, on_change=AgentConfig.set_language, id="language"),
            ),
            rx.vstack(
                rx.text("Tools", size="2", weight="medium"),
                field_label("Transfer to a human (number)", for_id="transfer-number", size="1"),
                rx.checkbox("End the call when done", checked=AgentConfig.tool_end_call,
                            on_change=AgentConfig.set_tool_end_call, id="tool-end-call"),
                rx.input(value=AgentConfig.transfer_number, on_change=AgentConfig.set_transfer_number,
                         placeholder=f"Transfer to a human: {PHONE_EXAMPLE}", width="280px", id="transfer-number"),
                rx.text(f"Optional: {PHONE_RULE} (+, country code, number).", size="1", color_scheme="gray",
                        id="transfer-number-help"),
            ),
            spacing="6", align="start", wrap="wrap",
        ),
        spacing="2",
    )


def routing_section() -> rx.Component:
    return section(
        "Fallback and traffic split",
        rx.text("When ", AgentConfig.active_name, " is down, calls go to these platforms in order:", size="2"),
        rx.foreach(
            AgentConfig.fallback_candidates,
            lambda p: rx.hstack(
                rx.checkbox(p.name, checked=AgentConfig.fallback.contains(p.code),
                            on_change=lambda _v: AgentConfig.toggle_fallback(p.code), id=f"fallback-{p.code}"),
                rx.cond(AgentConfig.fallback.contains(p.code),
                        rx.badge(AgentConfig.fallback_rank[p.code], variant="soft", id=f"fallback-rank-{p.code}")),
                rx.cond(AgentConfig.fallback.contains(p.code),
                        rx.icon_button(rx.icon("arrow-up", size=12), size="1", variant="ghost",
                                       aria_label="Move " + p.name + " up",
                                       on_click=AgentConfig.move_fallback_up(p.code))),
                align="center",
            ),
        ),
        rx.text(rx.cond(AgentConfig.fallback_chain != "", "Order: " + AgentConfig.fallback_chain,
                        "No fallback: calls fail when the platform is down."),
                size="1", color_scheme="gray", id="fallback-chain"),
        rx.separator(),
        rx.text("Traffic split (A/B test): share of calls per platform, adding up to 100 %. Leave empty to send "
                "every call to the active platform.", size="2"),
        rx.hstack(
            rx.foreach(
                AgentConfig.platforms,
                lambda p: rx.vstack(
                    field_label(p.name, for_id=f"split-{p.code}", size="1"),
                    rx.input(value=AgentConfig.split[p.code].to(str), on_change=lambda v: AgentConfig.set_split(p.code, v),
                             type="number", min="0", max="100", width="90px", id=f"split-{p.code}"),
                    spacing="1",
                ),
            ),
            spacing="4", wrap="wrap",
        ),
        rx.text("Total: ", AgentConfig.split_total, " %", size="1",
                color=rx.cond((AgentConfig.split_total == 0) | (AgentConfig.split_total == 100),
                              rx.color("gray", 11), rx.color("red", 11))),
        spacing="2",
    )


def sync_section() -> rx.Component:
    return section(
        "Sync state per platform",
        rx.cond(
            AgentConfig.sync.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                               ("Platform", "State", "Reason", "Last synced")])),
                rx.table.body(rx.foreach(AgentConfig.sync, lambda s: rx.table.row(
                    rx.table.cell(s.name),
                    rx.table.cell(rx.badge(s.status, color_scheme=rx.match(
                        s.tone, ("green", "green"), ("amber", "amber"), ("red", "red"), "gray"),
                        id=f"sync-{s.provider}", data_tone=s.tone)),
                    rx.table.cell(rx.hstack(
                        rx.text(s.error, size="1", color_scheme=rx.cond(s.tone == "red", "red", "gray"),
                                id=f"sync-reason-{s.provider}"),
                        rx.cond(s.action == "settings",
                                rx.button("Open settings", size="1", variant="soft",
                                          on_click=ProviderSettings.open(s.provider, AgentConfig.agent_id),
                                          id=f"sync-settings-{s.provider}")),
                        align="center", wrap="wrap",
                    )),
                    rx.table.cell(s.synced_at),
                ))),
                width="100%",
            ),
            rx.text("Not yet deployed to any platform: save to start.", size="2", color_scheme="gray"),
        ),
        spacing="2", id="sync-section",
    )


def next_steps_card() -> rx.Component:
    return rx.cond(
        AgentConfig.welcome & (AgentConfig.next_steps.length() > 0),
        rx.callout.root(
            rx.callout.icon(rx.icon("list-checks")),
            rx.vstack(
                rx.text("Next steps", weight="bold", size="3"),
                rx.el.ol(rx.foreach(AgentConfig.next_steps, lambda step: rx.el.li(rx.text(step, size="2"),
                                                                                   class_name="next-step"))),
                rx.hstack(
                    rx.button("Open ", AgentConfig.active_name, " settings", size="1", variant="soft",
                              on_click=ProviderSettings.open(AgentConfig.active, AgentConfig.agent_id), id="next-steps-settings"),
                ),
                spacing="1",
            ),
            color_scheme="blue", width="100%", id="next-steps",
        ),
    )


def agent_page() -> rx.Component:
    return page_frame(
        "Agent",
        rx.cond(
            AgentConfig.load_error != "",
            error(AgentConfig.load_error),
            rx.cond(
                ~AgentConfig.loaded,
                loading("Loading your agent…"),
                rx.cond(
                    AgentConfig.agent_id == "",
                    empty("This organisation has no agent yet.",
                          rx.link(rx.button("Set one up"), href="/onboarding?new=1")),
                    rx.vstack(
                        rx.hstack(rx.text(AgentConfig.agent_name, size="3", color_scheme="gray"),
                                  call_a_number(AgentConfig.agent_id), justify="between", align="center", width="100%"),
                        next_steps_card(),
                        rx.heading("Platform", size="4", as_="h2"),
                        rx.grid(rx.foreach(AgentConfig.platforms, platform_card), columns=rx.breakpoints(initial="1", sm="2"), spacing="3",
                                width="100%"),
                        voice_section(),
                        behaviour_section(),
                        routing_section(),
                        rx.cond(AgentConfig.save_error != "", rx.box(error(AgentConfig.save_error), id="agent-form-error", width="100%")),
                        rx.cond(AgentConfig.saved_note != "",
                                rx.callout.root(rx.callout.text(AgentConfig.saved_note), color_scheme="green",
                                                id="saved-note")),
                        rx.hstack(rx.button("Save and publish", on_click=[AgentConfig.set_draft_only(False), AgentConfig.save],
                                            loading=AgentConfig.saving, size="3", id="save-agent"),
                                  rx.button("Save draft", on_click=[AgentConfig.set_draft_only(True), AgentConfig.save],
                                            loading=AgentConfig.saving, size="3", variant="soft", id="save-draft")),
                        sync_section(),
                        versions_section(),
                        tests_section(),
                        test_panel_card(AgentConfig.agent_id),
                        web_call_card(AgentConfig.agent_id, AgentConfig.active),
                        provider_settings_dialog(on_keys_changed=AgentConfig.refresh_sync),
                        spacing="4", width="100%",
                    ),
                ),
            ),
        ),
    )
