-- Prices of the vendors added for issue #15 (Anthropic, Groq, Google, Azure), from each
-- vendor's public price page. LLMs (and Groq's Whisper) are priced per model: subject
-- "<catalog key>:<model>" (switchboard.pipeline.catalog.CatalogEntry.price_subject); a model
-- without a row here is kept unpriced (NULL cost), never $0. Not seeded on purpose:
-- openrouter-llm (the routed model's price), azure-openai-llm (depends on the deployment type),
-- google-stt (per model and API version, with its own rounding).
insert into public.price_book (subject, component, unit, usd_per_unit, effective_from, source) values
  ('anthropic-llm:claude-haiku-4-5', 'llm', '1m_input_tokens', 1.00, '2026-11-01', 'anthropic.com/pricing#api (Claude Haiku 4.5)'),
  ('anthropic-llm:claude-haiku-4-5', 'llm', '1m_output_tokens', 5.00, '2026-11-01', 'anthropic.com/pricing#api (Claude Haiku 4.5)'),
  ('anthropic-llm:claude-3-5-haiku-20241022', 'llm', '1m_input_tokens', 0.80, '2026-11-01', 'anthropic.com/pricing#api (Claude Haiku 3.5)'),
  ('anthropic-llm:claude-3-5-haiku-20241022', 'llm', '1m_output_tokens', 4.00, '2026-11-01', 'anthropic.com/pricing#api (Claude Haiku 3.5)'),
  ('anthropic-llm:claude-sonnet-4-20250514', 'llm', '1m_input_tokens', 3.00, '2026-11-01', 'anthropic.com/pricing#api (Claude Sonnet 4)'),
  ('anthropic-llm:claude-sonnet-4-20250514', 'llm', '1m_output_tokens', 15.00, '2026-11-01', 'anthropic.com/pricing#api (Claude Sonnet 4)'),
  ('groq-llm:llama-3.1-8b-instant', 'llm', '1m_input_tokens', 0.05, '2026-11-01', 'groq.com/pricing (Llama 3.1 8B Instant)'),
  ('groq-llm:llama-3.1-8b-instant', 'llm', '1m_output_tokens', 0.08, '2026-11-01', 'groq.com/pricing (Llama 3.1 8B Instant)'),
  ('groq-llm:llama-3.3-70b-versatile', 'llm', '1m_input_tokens', 0.59, '2026-11-01', 'groq.com/pricing (Llama 3.3 70B Versatile)'),
  ('groq-llm:llama-3.3-70b-versatile', 'llm', '1m_output_tokens', 0.79, '2026-11-01', 'groq.com/pricing (Llama 3.3 70B Versatile)'),
  -- $0.04 and $0.111 per hour of audio
  ('groq-stt:whisper-large-v3-turbo', 'stt', 'minute', 0.00066667, '2026-11-01', 'groq.com/pricing (Whisper Large v3 Turbo, $0.04/h)'),
  ('groq-stt:whisper-large-v3', 'stt', 'minute', 0.00185, '2026-11-01', 'groq.com/pricing (Whisper Large v3, $0.111/h)'),
  ('google-llm:gemini-2.5-flash', 'llm', '1m_input_tokens', 0.30, '2026-11-01', 'ai.google.dev/gemini-api/docs/pricing (Gemini 2.5 Flash, paid tier, text)'),
  ('google-llm:gemini-2.5-flash', 'llm', '1m_output_tokens', 2.50, '2026-11-01', 'ai.google.dev/gemini-api/docs/pricing (Gemini 2.5 Flash, paid tier)'),
  ('google-llm:gemini-2.0-flash-001', 'llm', '1m_input_tokens', 0.10, '2026-11-01', 'ai.google.dev/gemini-api/docs/pricing (Gemini 2.0 Flash, paid tier, text)'),
  ('google-llm:gemini-2.0-flash-001', 'llm', '1m_output_tokens', 0.40, '2026-11-01', 'ai.google.dev/gemini-api/docs/pricing (Gemini 2.0 Flash, paid tier)'),
  -- $30 per million characters
  ('google-tts', 'tts', '1k_characters', 0.030, '2026-11-01', 'cloud.google.com/text-to-speech/pricing (Chirp 3: HD voices)'),
  -- $1 per audio hour, standard real-time
  ('azure-stt', 'stt', 'minute', 0.01666667, '2026-11-01', 'azure.microsoft.com/pricing/details/cognitive-services/speech-services (standard, real-time)'),
  -- $15 per million characters
  ('azure-tts', 'tts', '1k_characters', 0.015, '2026-11-01', 'azure.microsoft.com/pricing/details/cognitive-services/speech-services (neural, real-time)')
on conflict (subject, component, unit, effective_from) do nothing;
