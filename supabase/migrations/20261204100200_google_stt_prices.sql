-- Google Cloud Speech-to-Text (google-stt), priced per model: the Speech-to-Text V2 API's
-- standard recognition models (chirp_3, chirp_2, telephony — the plugin's V2 models), $0.016 a
-- minute in the first 500,000 minutes of a month. The V1 models (latest_long, latest_short, …)
-- stay unpriced (NULL cost, never $0): V1 rounds each request up to 15 seconds, which a price
-- per minute of audio cannot represent for one request per utterance.
insert into public.price_book (subject, component, unit, usd_per_unit, effective_from, source) values
  ('google-stt:chirp_3', 'stt', 'minute', 0.016, '2026-12-04', 'cloud.google.com/speech-to-text/pricing (V2 API, standard recognition models, 0–500k min)'),
  ('google-stt:chirp_2', 'stt', 'minute', 0.016, '2026-12-04', 'cloud.google.com/speech-to-text/pricing (V2 API, standard recognition models, 0–500k min)'),
  ('google-stt:telephony', 'stt', 'minute', 0.016, '2026-12-04', 'cloud.google.com/speech-to-text/pricing (V2 API, standard recognition models, 0–500k min)')
on conflict (subject, component, unit, effective_from) do nothing;
