-- Whether a platform's per-minute price covers STT, LLM and TTS, or leaves them to vendors the
-- organisation picks (LiveKit: our own worker, seed 003's catalog). The savings estimate prices
-- a "bring your own" pipeline at what the organisation pays for those components today.
update public.voice_ai_providers
set capabilities = capabilities || '{"byo_pipeline": true}'::jsonb
where code = 'livekit';

update public.voice_ai_providers
set capabilities = capabilities || '{"byo_pipeline": false}'::jsonb
where code <> 'livekit' and not capabilities ? 'byo_pipeline';
