"""Microsoft Azure: Azure OpenAI (the OpenAI plugin with an Azure client, as its `with_azure`
builds one) and Azure AI Speech (livekit-plugins-azure). The speech key and region are shared by
azure-stt and azure-tts (one secret under the vendor 'azure-speech')."""

from switchboard.pipeline.entry import llm_service, service

_REGION = {"type": "string", "pattern": "^[a-z0-9]+$", "title": "Region (e.g. westeurope)"}
_SPEECH_ENDPOINT = {"type": ["string", "null"], "format": "uri", "title": "Endpoint (custom domain or container)"}
_SPEECH = {"docs": "https://learn.microsoft.com/azure/ai-services/speech-service/", "vendor": "azure-speech",
           "pricing": "https://azure.microsoft.com/pricing/details/cognitive-services/speech-services/"}

ENTRIES = [
    # Azure prices a model by deployment type (global, data zone, regional), which the API does
    # not tell: none is seeded, so usage stays unpriced until the operator adds the price_book
    # row "azure-openai-llm:<model>" for their deployment type.
    llm_service(
        "azure-openai-llm", "Azure OpenAI", "OpenAI models deployed in the organisation's own Azure OpenAI resource.",
        # endpoint and deployment are the organisation's own: until set, the factory says so
        config={
            "endpoint": {"type": "string", "format": "uri", "title": "Resource endpoint (https://NAME.openai.azure.com)"},
            "deployment": {"type": "string", "minLength": 1, "title": "Deployment name"},
            "api_version": {"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}(-preview)?$"},
        },
        defaults={"api_version": "2024-10-21"},
        model={"type": "string", "minLength": 1, "title": "Model behind the deployment (e.g. gpt-4o-mini)"},
        default_model="gpt-4o-mini", base_url_title=None,
        docs="https://learn.microsoft.com/azure/ai-services/openai/reference",
        pricing="https://azure.microsoft.com/pricing/details/cognitive-services/openai-service/",
    ),
    service(
        "azure-stt", "Azure AI Speech to text", "Real-time transcription with Azure AI Speech (the Speech SDK).",
        config={
            "region": _REGION, "endpoint": _SPEECH_ENDPOINT,
            "language": {"type": "string", "minLength": 2, "maxLength": 10, "title": "Language (e.g. en-US)"},
        },
        defaults={"region": "eastus", "endpoint": None, "language": "en-US"},
        capabilities=["streaming", "multilingual"], usage_units=["minute"], **_SPEECH,
    ),
    service(
        "azure-tts", "Azure AI Speech neural voices",
        "Neural text to speech (Azure's REST synthesis endpoint); custom neural voices by deployment id.",
        config={
            "region": _REGION, "endpoint": _SPEECH_ENDPOINT,
            # Standard neural voices only: HD voices are priced differently.
            "voice": {"type": "string", "pattern": "Neural$", "not": {"pattern": "HD"}, "title": "Voice (e.g. en-US-JennyNeural)"},
            "language": {"type": ["string", "null"], "minLength": 2, "maxLength": 10},
            "deployment_id": {"type": ["string", "null"], "title": "Custom neural voice deployment id"},
        },
        defaults={"region": "eastus", "endpoint": None, "voice": "en-US-JennyNeural", "language": None, "deployment_id": None},
        capabilities=["custom_voices"], usage_units=["1k_characters"],
        **(_SPEECH | {"docs": "https://learn.microsoft.com/azure/ai-services/speech-service/rest-text-to-speech"}),
    ),
]
