-- Ownership rules, enforced whoever writes memberships (the API, SQL, a security definer). An
-- AFTER trigger: it judges the statement's result (two owners demoted at once are caught), and
-- row-level security has already refused what the caller may not touch at all.
create or replace function private.guard_memberships() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_caller uuid := auth.uid();
  v_org uuid := coalesce(new.organization_id, old.organization_id);
  v_touches_owner boolean :=
    (tg_op <> 'DELETE' and new.role = 'owner') or (tg_op <> 'INSERT' and old.role = 'owner');
begin
  -- Only owners grant, change or remove ownership (an owner may step down themselves). The
  -- first membership of a new organisation (create_organization) makes its creator the owner.
  if v_touches_owner and v_caller is not null
     and not exists (select 1 from public.memberships m
                     where m.organization_id = v_org and m.user_id = v_caller and m.role = 'owner')
     and not (tg_op <> 'INSERT' and old.user_id = v_caller and old.role = 'owner')
     and not (tg_op = 'INSERT' and not exists (select 1 from public.memberships m
                                             where m.organization_id = v_org and m.user_id <> new.user_id))
  then
    raise exception 'only an owner may grant, change or remove the owner role' using errcode = '42501';
  end if;
  -- Never leave an organisation without an owner (unless the organisation or the user is
  -- itself being deleted, which cascades here).
  if tg_op <> 'INSERT' and old.role = 'owner'
     and exists (select 1 from public.organizations o where o.id = old.organization_id)
     and exists (select 1 from auth.users u where u.id = old.user_id)
     and not exists (select 1 from public.memberships m
                     where m.organization_id = old.organization_id and m.role = 'owner')
  then
    raise exception 'an organisation must keep at least one owner: make another member owner first'
      using errcode = '23514';
  end if;
  return null;
end
$$;

drop trigger memberships_guard on public.memberships;
create trigger memberships_guard after insert or update or delete on public.memberships
for each row execute function private.guard_memberships();
