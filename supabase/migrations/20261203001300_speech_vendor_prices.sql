-- Prices of the speech vendors added by issue #15 (switchboard/pipeline/catalog_speech.py), per
-- catalog key, as their public pricing pages list them for pay-as-you-go API use. Each key allows
-- only the models these prices are for (the catalog's config schema), so one row prices every call.
-- The organisation's own servers (whisper-stt, vosk-stt, piper-tts) have no row on purpose: their
-- cost is unknown to us, so calls using them stay unpriced until an operator adds a price.
insert into public.price_book (subject, component, unit, usd_per_unit, effective_from, source) values
  -- Nova-3 monolingual, streaming: $0.0077 per minute
  ('deepgram-stt', 'stt', 'minute', 0.0077, '2026-12-01', 'deepgram.com/pricing (Nova-3 streaming, pay as you go)'),
  -- Aura-2: $0.030 per 1,000 characters
  ('deepgram-tts', 'tts', '1k_characters', 0.030, '2026-12-01', 'deepgram.com/pricing (Aura-2, pay as you go)'),
  -- Flash v2.5 / Turbo v2.5 over the API: $0.05 per 1,000 characters
  ('elevenlabs-tts', 'tts', '1k_characters', 0.05, '2026-12-01', 'elevenlabs.io/pricing/api (Flash/Turbo v2.5)'),
  -- Universal-Streaming: $0.15 per hour of session = $0.0025 per minute
  ('assemblyai-stt', 'stt', 'minute', 0.0025, '2026-12-01', 'assemblyai.com/pricing (Universal-Streaming)')
on conflict (subject, component, unit, effective_from) do update
  set usd_per_unit = excluded.usd_per_unit, source = excluded.source;
