-- Database webhooks for the sync-agent edge function: a change to an agent spec
-- (agent_configs) or to a platform config (provider_configs) is POSTed as Supabase's database
-- webhook payload {"type","table","schema","record","old_record"}.
--
-- * Everywhere: triggers pg_notify('switchboard_db_webhook', <payload>); on local Postgres
--   `switchboard serve relay` LISTENs and POSTs the payload to /functions/v1/sync-agent.
-- * On hosted Supabase (schema supabase_functions exists) the same events are also installed
--   as Supabase database webhooks (supabase_functions.http_request), when the target is known:
--     alter database postgres set app.settings.functions_url = 'https://edge.example.com';
--     alter database postgres set app.settings.service_role_key = '<service role key>';
--   then run the migrations (or re-run this file). Without them a notice says so and nothing
--   is installed; on plain Postgres the block is a no-op.
-- Updates that only touch sync bookkeeping (agent ids, sync status) do not fire, so the
-- function's own writes do not call it again; setting sync_status back to 'pending' does (a
-- manual "sync now").

create function private.db_webhook_notify() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  payload jsonb;
  keep text[] := array['id', 'organization_id', 'agent_config_id', 'provider_id', 'agent_id', 'llm_id',
                       'active_provider_id', 'is_active', 'sync_status', 'updated_at'];
begin
  payload := jsonb_build_object(
    'type', tg_op, 'table', tg_table_name, 'schema', tg_table_schema,
    'record', case when tg_op = 'DELETE' then null else to_jsonb(new) end,
    'old_record', case when tg_op = 'INSERT' then null else to_jsonb(old) end);
  -- NOTIFY payloads are limited to 8000 bytes: beyond that send the identifying columns only
  -- (the function re-reads the row anyway).
  if octet_length(payload::text) > 7900 then
    payload := jsonb_build_object(
      'type', tg_op, 'table', tg_table_name, 'schema', tg_table_schema,
      'record', case when tg_op = 'DELETE' then null else
        (select jsonb_object_agg(key, value) from jsonb_each(to_jsonb(new)) where key = any (keep)) end,
      'old_record', case when tg_op = 'INSERT' then null else
        (select jsonb_object_agg(key, value) from jsonb_each(to_jsonb(old)) where key = any (keep)) end,
      'truncated', true);
  end if;
  perform pg_notify('switchboard_db_webhook', payload::text);
  return null;
end
$$;

create trigger agent_configs_db_webhook
after insert or update or delete on public.agent_configs
for each row execute function private.db_webhook_notify();

create trigger provider_configs_db_webhook_insert_delete
after insert or delete on public.provider_configs
for each row execute function private.db_webhook_notify();

create trigger provider_configs_db_webhook_update
after update on public.provider_configs
for each row
when ((old.settings, old.voice_id, old.is_active, old.provider_id, old.agent_config_id)
        is distinct from (new.settings, new.voice_id, new.is_active, new.provider_id, new.agent_config_id)
      or (new.sync_status = 'pending' and old.sync_status <> 'pending'))
execute function private.db_webhook_notify();

-- Hosted Supabase: the same events as Supabase database webhooks.
do $$
declare
  base text := nullif(current_setting('app.settings.functions_url', true), '');
  service_key text := nullif(current_setting('app.settings.service_role_key', true), '');
  target text;
  headers text;
begin
  if not exists (select 1 from pg_namespace where nspname = 'supabase_functions') then
    return;  -- plain Postgres: the relay carries the NOTIFY events
  end if;
  if base is null or service_key is null then
    raise notice 'sync-agent webhooks not installed: set app.settings.functions_url and app.settings.service_role_key, then re-run this migration';
    return;
  end if;
  target := rtrim(base, '/') || '/functions/v1/sync-agent';
  headers := json_build_object('Content-Type', 'application/json', 'Authorization', 'Bearer ' || service_key)::text;
  execute format(
    'create or replace trigger agent_configs_sync_agent after insert or update or delete on public.agent_configs '
    'for each row execute function supabase_functions.http_request(%L, %L, %L, %L, %L)',
    target, 'POST', headers, '{}', '5000');
  execute format(
    'create or replace trigger provider_configs_sync_agent_insert_delete after insert or delete on public.provider_configs '
    'for each row execute function supabase_functions.http_request(%L, %L, %L, %L, %L)',
    target, 'POST', headers, '{}', '5000');
  execute format(
    'create or replace trigger provider_configs_sync_agent_update after update on public.provider_configs '
    'for each row when ((old.settings, old.voice_id, old.is_active, old.provider_id, old.agent_config_id) '
    'is distinct from (new.settings, new.voice_id, new.is_active, new.provider_id, new.agent_config_id) '
    'or (new.sync_status = ''pending'' and old.sync_status <> ''pending'')) '
    'execute function supabase_functions.http_request(%L, %L, %L, %L, %L)',
    target, 'POST', headers, '{}', '5000');
end
$$;

-- The sync retry loop looks for configs due a (re)try.
create index provider_configs_sync_due_idx on public.provider_configs (next_sync_at)
  where sync_status in ('pending', 'failed');
