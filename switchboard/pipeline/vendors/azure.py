"""Microsoft Azure: Azure OpenAI (the OpenAI plugin with an Azure client, as its `with_azure`
builds one) and Azure AI Speech (livekit-plugins-azure). The speech key and region are shared by
azure-stt and azure-tts (one secret under the vendor 'azure-speech')."""

from switchboard.pipeline.entry import _API_KEY, _TIMEOUT, CatalogEntry, _obj

_REGION = {"type": "string", "pattern": "^[a-z0-9]+$", "title": "Region (e.g. westeurope)"}
_SPEECH_ENDPOINT = {"type": ["string", "null"], "format": "uri", "title": "Endpoint (custom domain or container)"}

ENTRIES = [
    CatalogEntry(
        key="azure-openai-llm", type="llm", vendor="azure-openai", name="Azure OpenAI",
        description="OpenAI models deployed in the organisation's own Azure OpenAI resource.",
        config_schema=_obj({
            "endpoint": {"type": "string", "format": "uri", "title": "Resource endpoint (https://NAME.openai.azure.com)"},
            "deployment": {"type": "string", "minLength": 1, "title": "Deployment name"},
            "api_version": {"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}(-preview)?$"},
            "model": {"type": "string", "minLength": 1, "title": "Model behind the deployment (e.g. gpt-4o-mini)"},
            "temperature": {"type": "number", "minimum": 0, "maximum": 2},
            "max_tokens": {"type": "integer", "minimum": 1, "maximum": 32768},
            "attempt_timeout": _TIMEOUT,
        }),  # endpoint and deployment are the organisation's own: until set, the factory says so
        secrets_schema=_API_KEY,
        default_config={"api_version": "2024-10-21", "model": "gpt-4o-mini", "temperature": 0.7, "max_tokens": 1000,
                        "attempt_timeout": 5.0},
        capabilities=["function_calling", "streaming"],
        # Azure prices a model by deployment type (global, data zone, regional), which the API
        # does not tell: none is seeded, so usage stays unpriced until the operator adds the
        # price_book row "azure-openai-llm:<model>" for their deployment type.
        metadata={"docs": "https://learn.microsoft.com/azure/ai-services/openai/reference", "kind": "cloud",
                  "pricing": "https://azure.microsoft.com/pricing/details/cognitive-services/openai-service/"},
        usage_units=["1m_input_tokens", "1m_output_tokens"], price_per_model=True,
    ),
    CatalogEntry(
        key="azure-stt", type="stt", vendor="azure-speech", name="Azure AI Speech to text",
        description="Real-time transcription with Azure AI Speech (the Speech SDK).",
        config_schema=_obj({
            "region": _REGION, "endpoint": _SPEECH_ENDPOINT,
            "language": {"type": "string", "minLength": 2, "maxLength": 10, "title": "Language (e.g. en-US)"},
            "attempt_timeout": _TIMEOUT,
        }),
        secrets_schema=_API_KEY,
        default_config={"region": "eastus", "endpoint": None, "language": "en-US", "attempt_timeout": 5.0},
        capabilities=["streaming", "multilingual"],
        metadata={"docs": "https://learn.microsoft.com/azure/ai-services/speech-service/", "kind": "cloud",
                  "pricing": "https://azure.microsoft.com/pricing/details/cognitive-services/speech-services/"},
        usage_units=["minute"],
    ),
    CatalogEntry(
        key="azure-tts", type="tts", vendor="azure-speech", name="Azure AI Speech neural voices",
        description="Neural text to speech (Azure's REST synthesis endpoint); custom neural voices by deployment id.",
        config_schema=_obj({
            "region": _REGION, "endpoint": _SPEECH_ENDPOINT,
            # Standard neural voices only: HD voices are priced differently.
            "voice": {"type": "string", "pattern": "Neural$", "not": {"pattern": "HD"}, "title": "Voice (e.g. en-US-JennyNeural)"},
            "language": {"type": ["string", "null"], "minLength": 2, "maxLength": 10},
            "deployment_id": {"type": ["string", "null"], "title": "Custom neural voice deployment id"},
            "attempt_timeout": _TIMEOUT,
        }),
        secrets_schema=_API_KEY,
        default_config={"region": "eastus", "endpoint": None, "voice": "en-US-JennyNeural", "language": None,
                        "deployment_id": None, "attempt_timeout": 5.0},
        capabilities=["custom_voices"],
        metadata={"docs": "https://learn.microsoft.com/azure/ai-services/speech-service/rest-text-to-speech", "kind": "cloud",
                  "pricing": "https://azure.microsoft.com/pricing/details/cognitive-services/speech-services/"},
        usage_units=["1k_characters"],
    ),
]
