-- The LiveKit worker caches each organisation's resolved STT/LLM/TTS pipeline for five minutes.
-- These triggers tell every worker (LISTEN pipeline_config) the moment something the pipeline is
-- built from changes, so a change applies to the next call rather than five minutes later.
-- Payload: the organisation's id, or '*' when a catalog definition changes (affects everyone).

create function private.notify_pipeline_config() returns trigger
language plpgsql set search_path = ''
as $$
declare
  v_org uuid;
begin
  if tg_op = 'DELETE' then
    v_org := old.organization_id;
  else
    v_org := new.organization_id;
  end if;
  perform pg_notify('pipeline_config', v_org::text);
  -- An update that moves a row to another organisation changes both.
  if tg_op = 'UPDATE' and old.organization_id is distinct from new.organization_id then
    perform pg_notify('pipeline_config', old.organization_id::text);
  end if;
  return null;
end
$$;

create function private.notify_pipeline_catalog() returns trigger
language plpgsql set search_path = ''
as $$
begin
  perform pg_notify('pipeline_config', '*');
  return null;
end
$$;

create trigger organization_provider_configs_pipeline_notify
after insert or update or delete on public.organization_provider_configs
for each row execute function private.notify_pipeline_config();

create trigger organization_secrets_pipeline_notify
after insert or update or delete on public.organization_secrets
for each row execute function private.notify_pipeline_config();

create trigger agent_configs_pipeline_notify
after insert or update or delete on public.agent_configs
for each row execute function private.notify_pipeline_config();

-- Catalog sync rewrites provider rows at every migrate; one notification per statement is enough.
create trigger providers_pipeline_notify
after insert or update or delete on public.providers
for each statement execute function private.notify_pipeline_catalog();
