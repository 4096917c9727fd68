"""The provider settings modal, one platform at a time: its API keys (write-only: after saving
only "set" and the last four characters are shown, never the key), its advanced settings, and
for LiveKit the organisation's STT, LLM and TTS chains from the seed-003 catalog (vendor, model,
voice, priority, enabled). Admins and owners only; the database enforces it too (RLS)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any
from uuid import UUID

import reflex as rx

from app.backend import problem
from app.components.layout import error, loading
from app.state import Session
from switchboard import deployments, orgconfig, secrets
from switchboard.models import OrgConfigUpdate, Provider
from switchboard.providers import registry


# How vendors write their own names (the catalog keys them in lower case).
VENDOR_NAMES = {"openai": "OpenAI", "cartesia": "Cartesia", "elevenlabs": "ElevenLabs", "deepgram": "Deepgram",
                "assemblyai": "AssemblyAI", "whisper": "Whisper server", "vosk": "Vosk server", "piper": "Piper server"}


@dataclasses.dataclass
class KeyField:
    vendor: str
    field: str
    label: str
    hint: str  # "" when not set, else "…abcd"
    placeholder: str


@dataclasses.dataclass
class VendorKeys:
    vendor: str
    key: str  # a catalog key whose secrets schema names the vendor's fields
    title: str
    fields: list[KeyField]
    is_set: bool


@dataclasses.dataclass
class ChainRow:
    key: str
    type: str
    name: str
    vendor: str
    model: str
    models: list[str]
    has_model: bool
    voice: str
    voices: list[str]
    has_voice: bool
    url: str  # the organisation's own server (whisper, vosk, piper); has_url when the vendor takes one
    has_url: bool
    priority: str
    enabled: bool
    configured: bool
    etag: str
    overrides: str  # the organisation's other overrides (JSON), kept when model or voice change


def _vendor_keys(provider: Provider, hints: dict[str, str], is_set: bool) -> VendorKeys:
    props = (provider.secrets_schema or {}).get("properties", {})
    title = provider.name if provider.type == "platform" else VENDOR_NAMES.get(provider.vendor, provider.vendor.title())
    return VendorKeys(
        vendor=provider.vendor, key=provider.key, title=title, is_set=is_set,
        fields=[KeyField(vendor=provider.vendor, field=name, label=spec.get("title", name), hint=hints.get(name, ""),
                         placeholder=_placeholder(name, spec, bool(hints.get(name))))
                for name, spec in props.items()],
    )


def _placeholder(name: str, spec: dict, is_set: bool) -> str:
    if is_set:
        return "Replace…"
    if spec.get("format") == "uri" or name.endswith("url"):
        return "https://…"
    return "Paste it here"


def _enum(schema: dict, prop: str) -> list[str]:
    return list(((schema or {}).get("properties", {}).get(prop, {}) or {}).get("enum", []) or [])


class ProviderSettings(Session):
    is_open: bool = False
    platform: str = ""
    agent_id: str = ""  # the agent whose platform settings are shown (given by the page that opens us)
    platform_name: str = ""
    vendor_chains: bool = False  # the platform runs our STT/LLM/TTS chains (their section is shown)
    busy: bool = False
    error: str = ""
    note: str = ""
    vendors: list[VendorKeys] = []
    settings_json: str = "{}"
    chains: list[ChainRow] = []
    offline_note: str = ""

    @rx.event
    async def open(self, code: str, agent_id: str = ""):
        self.is_open, self.platform, self.error, self.note, self.busy = True, code, "", "", True
        self.agent_id = agent_id
        self.vendor_chains = code in registry.PLATFORMS and registry.descriptor(code).vendor_chains
        yield
        try:
            await self._load()
        except Exception as exc:
            self.error = problem(exc)
        self.busy = False

    @rx.event
    def set_open(self, value: bool):
        self.is_open = value

    async def _load(self) -> None:
        org, admin = self._org(), self.is_admin
        async with self._as_user() as conn:
            platform = await orgconfig.get_org_provider(conn, org, self.platform, include_secrets=admin)
            services = (await orgconfig.list_org_providers(conn, org, include_secrets=admin)
                        if self.vendor_chains else [])
            settings = (await deployments.get_platform_settings(conn, org, UUID(self.agent_id), self.platform)
                        if self.agent_id else {})
        self.platform_name = platform.provider.name
        self.settings_json = json.dumps(settings, indent=2, sort_keys=True)
        vendors = [_vendor_keys(platform.provider, platform.secrets.hints if platform.secrets else {},
                                bool(platform.secrets and platform.secrets.has_secrets))]
        self.chains = []
        for op in sorted((o for o in services if o.provider.type != "platform"),
                         key=lambda o: ({"stt": 0, "llm": 1, "tts": 2}[o.provider.type], -o.priority, o.provider.name)):
            cfg = op.resolved_config
            props = (op.provider.config_schema or {}).get("properties", {})
            self.chains.append(ChainRow(
                key=op.provider.key, type=op.provider.type, name=op.provider.name, vendor=op.provider.vendor,
                model=str(cfg.get("model") or ""), models=_enum(op.provider.config_schema, "model"),
                has_model="model" in props,
                voice=str(cfg.get("voice") or ""), voices=_enum(op.provider.config_schema, "voice"),
                has_voice="voice" in props,
                url=str(cfg.get("url") or ""), has_url="url" in props,
                priority=str(op.priority), enabled=op.is_enabled, configured=op.configured, etag=op.etag,
                overrides=json.dumps(op.config),
            ))
            if op.provider.secrets_schema.get("properties") and op.provider.vendor not in {v.vendor for v in vendors}:
                vendors.append(_vendor_keys(op.provider, op.secrets.hints if op.secrets else {},
                                            bool(op.secrets and op.secrets.has_secrets)))
        self.vendors = vendors if admin else []
        # The worker's own rule (pipeline.config): a service with nothing enabled uses the offline tier.
        idle = [kind for kind in ("stt", "llm", "tts")
                if not any(o.is_enabled for o in services if o.provider.type == kind)]
        offline = [o.provider.name for o in services
                   if o.provider.type in idle and o.provider.metadata.get("tier") == "always-available"]
        self.offline_note = (f"Nothing is enabled for {' / '.join(k.upper() for k in idle)}: the worker uses "
                             f"{', '.join(offline)} there (no key needed)." if idle and offline else "")

    # --- keys (write-only) ------------------------------------------------------------------
    @rx.event
    async def save_keys(self, form: dict):
        """The form's values arrive in this event only and go straight to the encrypted store;
        they are never put in a state var (so never sent back to any browser)."""
        self.error, self.note = "", ""
        vendor = form.get("vendor", "")
        values = {k.split(":", 1)[1]: v.strip() for k, v in form.items() if k.startswith("secret:") and v.strip()}
        target = next((v for v in self.vendors if v.vendor == vendor), None)
        if not values or target is None:
            self.error = "Type a key to save."
            return
        try:
            async with self._as_user() as conn:
                # Replacing one field keeps the others (read and merged here, on the server).
                current = await secrets.get_secret(conn, self._org(), vendor) if target.is_set else None
                await orgconfig.put_provider_secrets(conn, self._org(), target.key, {**(current or {}), **values},
                                                     updated_by=self._claims().user_id)
            await self._load()
        except Exception as exc:
            self.error = problem(exc)
            return
        self.note = "Key saved. Only its last four characters are shown from now on."

    @rx.event
    async def remove_keys(self, vendor: str):
        self.error, self.note = "", ""
        target = next((v for v in self.vendors if v.vendor == vendor), None)
        if target is None:
            return
        try:
            async with self._as_user() as conn:
                await orgconfig.delete_provider_secrets(conn, self._org(), target.key)
            await self._load()
        except Exception as exc:
            self.error = problem(exc)
            return
        self.note = "Key removed."

    # --- advanced settings -------------------------------------------------------------------
    @rx.event
    def set_settings_json(self, value: str):
        self.settings_json = value

    @rx.event
    async def save_settings(self):
        self.error, self.note = "", ""
        try:
            settings = json.loads(self.settings_json or "{}")
            if not isinstance(settings, dict):
                raise ValueError("advanced settings must be a JSON object")
        except json.JSONDecodeError as exc:
            self.error = f"Advanced settings are not valid JSON: {exc.msg} (line {exc.lineno})."
            return
        except ValueError as exc:
            self.error = str(exc)
            return
        try:
            async with self._as_user() as conn:
                await deployments.set_platform_settings(conn, self._org(), UUID(self.agent_id), self.platform, settings)
        except Exception as exc:
            self.error = problem(exc)
            return
        self.note = "Settings saved; the platform will be updated on the next sync."

    # --- LiveKit chains ----------------------------------------------------------------------
    @rx.event
    def set_chain(self, key: str, field: str, value):
        rows = []
        for r in self.chains:
            if r.key == key:
                r = dataclasses.replace(r, **{field: value})
            rows.append(r)
        self.chains = rows

    @rx.event
    async def save_chains(self):
        self.error, self.note = "", ""
        try:
            async with self._as_user() as conn:
                for r in self.chains:
                    config = json.loads(r.overrides or "{}")
                    if r.model and r.has_model:
                        config["model"] = r.model
                    if r.voice and r.has_voice:
                        config["voice"] = r.voice
                    if r.url.strip() and r.has_url:  # checked by the egress policy as it is saved
                        config["url"] = r.url.strip()
                    await orgconfig.upsert_org_config(
                        conn, self._org(), r.key,
                        OrgConfigUpdate(config=config, is_enabled=r.enabled, priority=int(r.priority or 0)),
                        if_match=r.etag if r.configured else None, if_none_match=None if r.configured else "*",
                        updated_by=self._claims().user_id,
                    )
        except ValueError:
            self.error = "Priorities are whole numbers (higher is tried first)."
            return
        except Exception as exc:
            self.error = problem(exc)
            return
        await self._load()
        self.note = "Chains saved. The worker picks them up within seconds."


# --- view ---------------------------------------------------------------------------------------
def key_form(v: VendorKeys, on_keys_changed: Any = None) -> rx.Component:
    """`on_keys_changed`: the opening page's event, run after a key is saved or removed (its
    sync rows follow a key change at once, without a reload)."""
    after = [on_keys_changed] if on_keys_changed is not None else []
    return rx.card(
        rx.form(
            rx.vstack(
                rx.hstack(rx.text(v.title, weight="medium"),
                          rx.cond(v.is_set, rx.badge("set", color_scheme="green"), rx.badge("not set", color_scheme="gray")),
                          align="center"),
                rx.el.input(type="hidden", name="vendor", value=v.vendor),
                rx.foreach(v.fields, lambda f: rx.hstack(
                    rx.text(f.label, size="2", width="140px"),
                    rx.cond(f.hint != "", rx.code(f.hint, class_name="secret-hint"), rx.text("—", color_scheme="gray")),
                    rx.input(name="secret:" + f.field, type="password", placeholder=f.placeholder,
                             auto_complete="off", width="260px", class_name="secret-input"),
                    align="center",
                )),
                rx.hstack(
                    rx.button(rx.cond(v.is_set, "Replace", "Save key"), type="submit", size="1", class_name="save-key"),
                    rx.cond(v.is_set, rx.button("Remove", type="button", size="1", color_scheme="red", variant="soft",
                                                on_click=[ProviderSettings.remove_keys(v.vendor), *after], class_name="remove-key")),
                ),
                spacing="2",
            ),
            on_submit=[ProviderSettings.save_keys, *after],
            reset_on_submit=True,
        ),
        width="100%",
        id="keys-" + v.vendor,
    )


def chain_row(r: ChainRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.badge(r.type.upper())),
        rx.table.cell(rx.vstack(
            rx.text(r.name),
            rx.cond(r.has_url, rx.input(value=r.url, on_change=lambda v: ProviderSettings.set_chain(r.key, "url", v),
                                        placeholder="Your server's URL", size="1", width="200px",
                                        aria_label="Server URL", class_name="server-url")),
            spacing="1",
        )),
        rx.table.cell(rx.cond(
            ~r.has_model,
            rx.text("—", color_scheme="gray"),
            rx.cond(
                r.models.length() > 0,
                rx.select(r.models, value=r.model, on_change=lambda v: ProviderSettings.set_chain(r.key, "model", v),
                          size="1"),
                rx.input(value=r.model, on_change=lambda v: ProviderSettings.set_chain(r.key, "model", v), size="1",
                         width="140px"),
            ),
        )),
        rx.table.cell(rx.cond(
            r.has_voice,
            rx.cond(r.voices.length() > 0,
                    rx.select(r.voices, value=r.voice, on_change=lambda v: ProviderSettings.set_chain(r.key, "voice", v), size="1"),
                    rx.input(value=r.voice, on_change=lambda v: ProviderSettings.set_chain(r.key, "voice", v), size="1",
                             width="160px")),
            rx.text("—", color_scheme="gray"),
        )),
        rx.table.cell(rx.input(value=r.priority, on_change=lambda v: ProviderSettings.set_chain(r.key, "priority", v),
                               type="number", size="1", width="70px")),
        rx.table.cell(rx.switch(checked=r.enabled, on_change=lambda v: ProviderSettings.set_chain(r.key, "enabled", v))),
    )


def chains_section() -> rx.Component:
    return rx.vstack(
        rx.heading("STT, LLM and TTS chains", size="3", as_="h3"),
        rx.text("Our LiveKit worker listens, thinks and speaks with these vendors. Enabled ones are tried by priority "
                "(highest first); when one fails the next takes over.", size="1", color_scheme="gray"),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ("Type", "Vendor", "Model", "Voice", "Priority", "Enabled")])),
            rx.table.body(rx.foreach(ProviderSettings.chains, chain_row)),
            width="100%", size="1", id="livekit-chains",
        ),
        rx.cond(ProviderSettings.offline_note != "",
                rx.text(ProviderSettings.offline_note, size="1", color_scheme="amber", id="offline-note")),
        rx.button("Save chains", size="1", on_click=ProviderSettings.save_chains, id="save-chains"),
        width="100%",
    )


def provider_settings_dialog(on_keys_changed: Any = None) -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.vstack(
                rx.dialog.title(ProviderSettings.platform_name, " settings", margin_bottom="0"),
                rx.cond(ProviderSettings.busy, loading(), rx.fragment()),
                rx.cond(ProviderSettings.error != "", error(ProviderSettings.error)),
                rx.cond(ProviderSettings.note != "", rx.callout.root(rx.callout.text(ProviderSettings.note),
                                                                     color_scheme="green", id="settings-note")),
                rx.cond(
                    ProviderSettings.is_admin,
                    rx.vstack(
                        rx.heading("API keys", size="3", as_="h3"),
                        rx.text("Keys are write-only: once saved, only their last four characters are shown.",
                                size="1", color_scheme="gray"),
                        rx.foreach(ProviderSettings.vendors, lambda v: key_form(v, on_keys_changed)),
                        rx.cond(ProviderSettings.vendor_chains, chains_section()),
                        rx.heading("Advanced settings", size="3", as_="h3"),
                        rx.text("Options of this platform beyond the agent's own settings, passed to it as they are "
                                "(JSON).", size="1", color_scheme="gray"),
                        rx.text_area(value=ProviderSettings.settings_json, on_change=ProviderSettings.set_settings_json,
                                     rows="5", width="100%", font_family="monospace", id="advanced-settings"),
                        rx.button("Save settings", size="1", on_click=ProviderSettings.save_settings,
                                  id="save-settings"),
                        spacing="3", width="100%",
                    ),
                    rx.callout.root(rx.callout.text(
                        "Only owners and admins can manage API keys and platform and vendor settings. Ask one of them."),
                        color_scheme="amber", id="admins-only"),
                ),
                rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray", id="close-settings")),
                spacing="3", width="100%",
            ),
            max_width="820px",
        ),
        open=ProviderSettings.is_open,
        on_open_change=ProviderSettings.set_open,
    )
