-- Membership management: members see each other's e-mail (auth.users is not theirs to read),
-- admins add existing users by e-mail, only owners grant or take away ownership, and an
-- organisation always keeps at least one owner.

-- Co-members of an organisation the caller belongs to (service_role sees any).
create function public.organization_members(p_org uuid)
returns table (user_id uuid, email text, role public.member_role, created_at timestamptz)
language sql stable security definer set search_path = ''
as $$
  select m.user_id, u.email::text, m.role, m.created_at
  from public.memberships m
  join auth.users u on u.id = m.user_id
  where m.organization_id = p_org
    and (auth.role() = 'service_role' or p_org in (select private.user_org_ids()))
  order by m.role, u.email
$$;
revoke execute on function public.organization_members(uuid) from public, anon;
grant execute on function public.organization_members(uuid) to authenticated, service_role;

-- Admins and owners add an existing user by e-mail.
create function public.add_organization_member(p_org uuid, p_email text, p_role public.member_role default 'member')
returns uuid
language plpgsql security definer set search_path = ''
as $$
declare
  v_user uuid;
begin
  if auth.role() is distinct from 'service_role'
     and p_org not in (select private.user_admin_org_ids()) then
    raise exception 'only admins and owners may add members to this organisation' using errcode = '42501';
  end if;
  select u.id into v_user from auth.users u
  where lower(u.email) = lower(btrim(p_email)) and u.deleted_at is null
  order by u.created_at limit 1;
  if v_user is null then
    raise exception 'no user with e-mail %: they must sign up first', btrim(p_email) using errcode = 'P0002';
  end if;
  if exists (select 1 from public.memberships m where m.organization_id = p_org and m.user_id = v_user) then
    raise exception '% is already a member of this organisation', btrim(p_email) using errcode = '23505';
  end if;
  insert into public.memberships (organization_id, user_id, role) values (p_org, v_user, p_role);
  return v_user;
end
$$;
revoke execute on function public.add_organization_member(uuid, text, public.member_role) from public, anon;
grant execute on function public.add_organization_member(uuid, text, public.member_role) to authenticated, service_role;

-- Ownership rules, enforced whoever writes memberships (the API, SQL, a security definer).
create function private.guard_memberships() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_caller uuid := auth.uid();
  v_org uuid := coalesce(new.organization_id, old.organization_id);
  v_touches_owner boolean :=
    (tg_op <> 'DELETE' and new.role = 'owner') or (tg_op <> 'INSERT' and old.role = 'owner');
begin
  -- Only owners grant, change or remove ownership. The first membership of a new organisation
  -- (create_organization) makes its creator the owner.
  if v_touches_owner and v_caller is not null
     and not exists (select 1 from public.memberships m
                     where m.organization_id = v_org and m.user_id = v_caller and m.role = 'owner')
     and not (tg_op = 'INSERT' and not exists (select 1 from public.memberships m where m.organization_id = v_org))
  then
    raise exception 'only an owner may grant, change or remove the owner role' using errcode = '42501';
  end if;
  -- Never leave an organisation without an owner (unless the organisation or the user is
  -- itself being deleted, which cascades here).
  if tg_op <> 'INSERT' and old.role = 'owner'
     and (tg_op = 'DELETE' or new.role <> 'owner' or new.organization_id <> old.organization_id)
     and exists (select 1 from public.organizations o where o.id = old.organization_id)
     and exists (select 1 from auth.users u where u.id = old.user_id)
     and not exists (select 1 from public.memberships m
                     where m.organization_id = old.organization_id and m.role = 'owner' and m.user_id <> old.user_id)
  then
    raise exception 'an organisation must keep at least one owner: make another member owner first'
      using errcode = '23514';
  end if;
  if tg_op = 'DELETE' then
    return old;
  end if;
  return new;
end
$$;

create trigger memberships_guard before insert or update or delete on public.memberships
for each row execute function private.guard_memberships();
