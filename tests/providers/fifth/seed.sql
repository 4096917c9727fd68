-- The fifth platform's price-seed migration (what `supabase/migrations/<timestamp>_<code>.sql` holds).
insert into public.voice_ai_providers (code, name, description, cost_per_minute, prices_effective_from, capabilities)
values ('fifth', 'Fifth Voice', 'A platform added by the recipe', 0.0700, '2026-11-01', '{"preset_voices": true}');
insert into public.price_book (subject, component, unit, usd_per_unit, effective_from, source) values
  ('fifth', 'platform', 'minute', 0.05, '2026-11-01', 'fifth.example/pricing'),
  ('fifth', 'telephony', 'minute', 0.02, '2026-11-01', 'fifth.example/pricing');
